"""Category tables of 2D IFS databases: the systems, their CSV form and the one-file compact form.

A table holds C categories, category k being an IFS system of N_k maps with rows (a, b, c, d, e, f, p).
On disk it is either the originals' format, one `%05d.csv` per category written as `np.savetxt` writes
it (`%.18e`, ','; float64 round-trips exactly), or one safetensors file for the whole table (the maps,
the category offsets and, for a search that can be continued, its state; metadata as strings).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...export.atomic import atomic_write_bytes
from ...export.tensorfile import load_arrays, save_arrays
from .batch import check_probabilities

TABLE_FORMAT = "fdsl-gen/ifs2d-table/1"
CSV_DIGITS = 5  # 2D categories are named %05d as in the originals


@dataclass(frozen=True)
class IFSTable:
    """C categories of 2D IFS systems."""

    maps: np.ndarray  # [M, 7] float64, all categories' maps in order: a, b, c, d, e, f, p
    offsets: np.ndarray  # [C + 1] int64: category k owns maps[offsets[k]:offsets[k + 1]]
    meta: dict = field(default_factory=dict)  # how the table was made (search mode, seed, ...); strings
    state: dict = field(default_factory=dict)  # arrays that let a search continue past the last category

    def __post_init__(self):
        if self.maps.ndim != 2 or self.maps.shape[1] != 7 or self.offsets.ndim != 1:
            raise ValueError("an IFS table needs maps [M, 7] and offsets [C + 1]")
        if self.offsets[0] != 0 or self.offsets[-1] != self.maps.shape[0] or np.any(np.diff(self.offsets) < 1):
            raise ValueError("IFS table offsets must start at 0, end at M and grow by at least 1")
        check_probabilities(self.maps[:, 6])

    @property
    def n_categories(self) -> int:
        return int(self.offsets.shape[0] - 1)

    def system(self, k: int) -> np.ndarray:
        """Category k's system: [N_k, 7] float64 (a view)."""
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
        maps = np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1, 7) for s in systems]) if systems \
            else np.zeros((0, 7))
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return IFSTable(maps, offsets, dict(meta or {}), dict(state or {}))

    # -- compact file ------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the compact file (safetensors), atomically."""
        arrays = {"maps": self.maps, "offsets": self.offsets, **{f"state.{k}": v for k, v in self.state.items()}}
        save_arrays(Path(path), arrays, {"format": TABLE_FORMAT, "meta": self.meta})

    @staticmethod
    def load(path: str | os.PathLike) -> "IFSTable":
        """Read a compact file written by `save`."""
        arrays, header = load_arrays(Path(path), TABLE_FORMAT)
        state = {k[len("state."):]: v for k, v in arrays.items() if k.startswith("state.")}
        return IFSTable(arrays["maps"], arrays["offsets"], header.get("meta", {}), state)

    # -- the originals' CSV files ------------------------------------------------------------------

    def write_csv_dir(self, directory: str | os.PathLike, ids: range | None = None) -> None:
        """Write `%05d.csv` per category exactly as `np.savetxt(path, params, delimiter=',')` does."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for k in ids if ids is not None else range(self.n_categories):
            text = "".join(",".join(f"{v:.18e}" for v in row) + "\n" for row in self.system(k))
            atomic_write_bytes(directory / f"{k:0{CSV_DIGITS}d}.csv", text.encode("ascii"))

    @staticmethod
    def read_csv_dir(directory: str | os.PathLike, meta: dict | None = None) -> "IFSTable":
        """Read every `*.csv` of a folder (sorted by name, as the original renderer does) as one table."""
        files = sorted(p for p in Path(directory).iterdir() if p.suffix == ".csv")
        if not files:
            raise ValueError(f"no .csv files in {directory}")
        systems = []
        for p in files:
            rows = np.loadtxt(p, delimiter=",", dtype=np.float64, ndmin=2)
            if rows.shape[1] != 7:
                raise ValueError(f"{p}: expected 7 columns (a, b, c, d, e, f, p), found {rows.shape[1]}")
            systems.append(rows)
        return IFSTable.from_systems(systems, meta or {"source": str(directory)})
