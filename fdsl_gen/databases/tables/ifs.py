"""The category table of the IFS databases (2D and 3D): the systems, their CSV form and one compact file.

A table holds C categories, category k being an IFS system of N_k maps, each a row of parameters and
its probability last: (a, b, c, d, e, f, p) in 2D, (a .. l, p) in 3D. On disk it is either the
originals' format, one CSV per category (`%05d.csv` in 2D, `%06d.csv` in 3D) written as `np.savetxt`
writes it (`%.18e`, ','; float64 round-trips exactly), or one safetensors file for the whole table
(the maps, the category offsets and, for a search that can be continued, its state).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import UsageError
from ...io.atomic import atomic_write_bytes
from . import CategoryTable, read_table

FORMAT_BY_WIDTH = {7: "fdsl-gen/ifs2d-table/1", 13: "fdsl-gen/ifs3d-table/1"}  # by row width
CSV_DIGITS = {7: 5, 13: 6}  # the originals name 2D categories %05d, 3D ones %06d


def check_probabilities(p: np.ndarray) -> None:
    """Map probabilities must be finite and >= 0: the renderers rely on running sums that never decrease."""
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"map probabilities (the last column) must be finite and non-negative, got {p.tolist()}")


@dataclass(frozen=True)
class IFSTable(CategoryTable):
    """C categories of IFS systems (2D or 3D)."""

    FORMATS = tuple(FORMAT_BY_WIDTH.values())

    maps: np.ndarray  # [M, W] float64, all categories' maps in order, p last (W = 7 in 2D, 13 in 3D)
    offsets: np.ndarray  # [C + 1] int64: category k owns maps[offsets[k]:offsets[k + 1]]
    meta: dict = field(default_factory=dict)  # how the table was made (search mode, seed, ...); strings
    state: dict = field(default_factory=dict)  # arrays that let a search continue past the last category

    def __post_init__(self):
        if self.maps.ndim != 2 or self.maps.shape[1] not in FORMAT_BY_WIDTH or self.offsets.ndim != 1:
            raise ValueError("an IFS table needs maps [M, 7] (2D) or [M, 13] (3D) and offsets [C + 1]")
        if self.offsets[0] != 0 or self.offsets[-1] != self.maps.shape[0] or np.any(np.diff(self.offsets) < 1):
            raise ValueError("IFS table offsets must start at 0, end at M and grow by at least 1")
        check_probabilities(self.maps[:, -1])

    @property
    def n_categories(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def width(self) -> int:
        """Values per map row: 7 (2D) or 13 (3D)."""
        return int(self.maps.shape[1])

    def system(self, k: int) -> np.ndarray:
        """Category k's system: [N_k, W] float64 (a view)."""
        return self.maps[self.offsets[k] : self.offsets[k + 1]]

    def head(self, n: int) -> "IFSTable":
        """The first n categories (a published or native table's prefix is the table for n)."""
        if n > self.n_categories:
            raise ValueError(f"table has {self.n_categories} categories, asked for {n}")
        if n == self.n_categories:
            return self
        # A prefix cannot be continued (no search state) and its candidate count is unknown.
        meta = {k: v for k, v in self.meta.items() if k != "candidates"}
        return IFSTable(self.maps[: self.offsets[n]], self.offsets[: n + 1].copy(), meta, {})

    def digest(self) -> str:
        """SHA-256 of the systems (maps and offsets as little-endian bytes), the table's identity."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.offsets, dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(self.maps, dtype="<f8").tobytes())
        return h.hexdigest()

    @staticmethod
    def from_systems(systems: list[np.ndarray], meta: dict | None = None, state: dict | None = None) -> "IFSTable":
        sizes = [int(np.asarray(s).shape[0]) for s in systems]
        width = np.asarray(systems[0]).shape[1] if systems else 7
        maps = np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1, width) for s in systems]) if systems \
            else np.zeros((0, width))
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return IFSTable(maps, offsets, dict(meta or {}), dict(state or {}))

    # -- compact file ------------------------------------------------------------------------------

    def file_format(self) -> str:
        return FORMAT_BY_WIDTH[self.width]

    def arrays(self) -> dict[str, np.ndarray]:
        return {"maps": self.maps, "offsets": self.offsets, **{f"state.{k}": v for k, v in self.state.items()}}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict) -> "IFSTable":
        state = {k[len("state."):]: v for k, v in arrays.items() if k.startswith("state.")}
        return cls(arrays["maps"], arrays["offsets"], meta, state)

    # -- the originals' CSV files ------------------------------------------------------------------

    def write_csv_dir(self, directory: str | os.PathLike, ids: range | None = None) -> None:
        """Write one CSV per category exactly as `np.savetxt(path, params, delimiter=',')` does."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for k in ids if ids is not None else range(self.n_categories):
            text = "".join(",".join(f"{v:.18e}" for v in row) + "\n" for row in self.system(k))
            atomic_write_bytes(directory / f"{k:0{CSV_DIGITS[self.width]}d}.csv", text.encode("ascii"))

    @staticmethod
    def read_csv_dir(directory: str | os.PathLike, meta: dict | None = None, width: int = 7) -> "IFSTable":
        """Read every `*.csv` of a folder (sorted by name, as the original renderers do) as one table."""
        files = sorted(p for p in Path(directory).iterdir() if p.suffix == ".csv")
        if not files:
            raise ValueError(f"no .csv files in {directory}")
        systems = []
        for p in files:
            rows = np.loadtxt(p, delimiter=",", dtype=np.float64, ndmin=2)
            if rows.shape[1] != width:
                raise ValueError(f"{p}: expected {width} columns (the map parameters, then p), found {rows.shape[1]}")
            systems.append(rows)
        return IFSTable.from_systems(systems, meta or {"source": str(directory)})


def load_table_file(path: str, width: int = 7) -> IFSTable:
    """A category table from a compact file, a folder holding `table.safetensors`, or a folder of CSVs."""

    def read(p: Path) -> IFSTable:
        if p.is_dir():
            inside = p / "table.safetensors"
            return IFSTable.load(inside) if inside.exists() else IFSTable.read_csv_dir(p, width=width)
        return IFSTable.load(p)

    table = read_table(path, read)
    if table.width != width:
        raise UsageError(f"{path} holds {table.width}-column systems, this database needs {width}")
    return table
