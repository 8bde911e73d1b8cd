"""The category table of the contour databases (rcdb, visual_atom): one array per parameter."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from . import CategoryTable


@dataclass(frozen=True)
class ContourTable(CategoryTable):
    """C categories; `columns[name][k]` is parameter `name` of category k."""

    FORMATS = ("fdsl-gen/contour-table/1",)

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

    def arrays(self) -> dict[str, np.ndarray]:
        return self.columns

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict) -> "ContourTable":
        return cls(arrays, meta)
