"""Category tables of the contour databases: one array per parameter, saved as one compact file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...io.tensorfile import load_arrays, save_arrays

TABLE_FORMAT = "fdsl-gen/contour-table/1"


@dataclass(frozen=True)
class ContourTable:
    """C categories; `columns[name][k]` is parameter `name` of category k."""

    columns: dict  # name -> [C] array (int64 or float64); published replay adds instance_<name> [C, I]
    meta: dict = field(default_factory=dict)

    @property
    def n_categories(self) -> int:
        return int(next(iter(self.columns.values())).shape[0])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def row(self, k: int) -> dict:
        """Category k's parameters as Python ints and floats (lists for the instance columns)."""
        return {name: values[k].tolist() for name, values in self.columns.items()}

    def head(self, n: int) -> "ContourTable":
        return ContourTable({k: v[:n] for k, v in self.columns.items()}, dict(self.meta))

    def digest(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.columns):
            h.update(name.encode())
            h.update(np.ascontiguousarray(self.columns[name]).astype(self.columns[name].dtype.newbyteorder("<"))
                     .tobytes())
        return h.hexdigest()

    def save(self, path: Path) -> None:
        save_arrays(Path(path), self.columns, {"format": TABLE_FORMAT, "meta": self.meta})

    @staticmethod
    def load(path: Path) -> "ContourTable":
        arrays, header = load_arrays(Path(path), TABLE_FORMAT)
        return ContourTable(arrays, header.get("meta", {}))
