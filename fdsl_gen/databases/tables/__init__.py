"""Category tables: what every database's table is, and where all of them live.

A category table holds what a database decides once per category (an IFS system, 1p-frac's
perturbation, a contour's parameters), so that rendering any instance is a pure function of the table
row and the instance id. Every table type is a `CategoryTable`:

- `n_categories`, `head(n)` (the first n categories: a search's prefix is the table for n) and `meta`
  (how it was made);
- `digest()`: SHA-256 of its contents, the table's identity in manifests and stream states;
- `save(path)` / `load(path)`: one safetensors file (`io.tensorfile`) whose header names the format, so
  that one type's file is never read as another's.

The types: `ifs.IFSTable` (fractaldb, ofdb, ofdb3d, exfractaldb), `onepfrac.OnePFracTable`,
`contour.ContourTable` (rcdb, visual_atom). `cache.cached_table` keeps the searched ones on disk and
continues a search from the longest table already known; `read_table` and `first_categories` turn a
user's table file into a table with one-line errors. A database makes its table once, in
`_make_table` (`Database.table` keeps it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable, ClassVar

import numpy as np

from ...errors import UsageError
from ...io.tensorfile import load_arrays, save_arrays


class CategoryTable(ABC):
    """The protocol every category table follows (subclasses are frozen dataclasses with a `meta` field)."""

    FORMATS: ClassVar[tuple[str, ...]]  # the `format` names its files may carry; the first is written
    meta: dict

    @property
    @abstractmethod
    def n_categories(self) -> int:
        """How many categories the table holds."""

    @abstractmethod
    def head(self, n: int) -> "CategoryTable":
        """The first n categories."""

    @abstractmethod
    def digest(self) -> str:
        """SHA-256 (hex) of the table's contents."""

    @abstractmethod
    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays its file holds."""

    @classmethod
    @abstractmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict) -> "CategoryTable":
        """The table from the arrays and meta of its file."""

    def file_format(self) -> str:
        return self.FORMATS[0]

    def save(self, path) -> None:
        """Write the table's file (safetensors, byte-for-byte reproducible), atomically."""
        save_arrays(Path(path), self.arrays(), {"format": self.file_format(), "meta": self.meta})

    @classmethod
    def load(cls, path) -> "CategoryTable":
        """Read a file written by `save`; ValueError if it is not one of this type's."""
        arrays, header = load_arrays(Path(path), cls.FORMATS)
        return cls.from_arrays(arrays, header.get("meta", {}))


def read_table(path: str, read: Callable[[Path], CategoryTable]) -> CategoryTable:
    """A user's table file (or folder) read by `read`, with a one-line UsageError if it cannot be."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"category table {path} does not exist")
    try:
        return read(p)
    except (ValueError, OSError) as exc:
        raise UsageError(f"cannot read the category table {path}: {exc}") from None


def first_categories(table: CategoryTable, n: int, path: str) -> CategoryTable:
    """The first n categories of the table read from `path`; a UsageError if it holds fewer."""
    if table.n_categories < n:
        raise UsageError(f"the table {path} has {table.n_categories} categories, {n} were asked for")
    return table.head(n)
