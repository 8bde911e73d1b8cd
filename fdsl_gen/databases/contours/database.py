"""What the contour databases (rcdb, visual_atom) share: validation, tables and batch rendering.

A subclass samples its category table and its per-instance parameters (NumPy, Philox) and names its
files; this class assembles the `ContourBatch` and hands it to the backend's `render`.
"""

from __future__ import annotations

import importlib
from abc import abstractmethod
from pathlib import Path

import numpy as np

from ... import rng
from ...errors import UsageError
from .._base import Database, check_basics
from .batch import ContourBatch, ContourSettings
from .table import ContourTable

INSTANCE_FIELDS = ("r0", "sx", "sy", "xc", "yc")


def check_range(name_min: str, lo, name_max: str, hi) -> None:
    if lo > hi:
        raise UsageError(f"{name_min} ({lo}) must not exceed {name_max} ({hi})")


class ContourDatabase(Database):
    """Base of the contour databases: a sampled category table, per-instance draws, one renderer."""

    implemented_backends = ("cuda", "numba", "ref")
    table_in_layout = True  # the parameter files are part of the written dataset

    def __init__(self, config):
        super().__init__(config)
        check_basics(config)
        if config.search != "native":
            raise UsageError(f"{self.key} has only --search native so far, got {config.search!r}")
        self._table: ContourTable | None = None

    # -- what a contour database defines ---------------------------------------------------------

    @abstractmethod
    def sample_categories(self, n: int) -> ContourTable:
        """The first n categories' parameters (each from its own Philox sequence)."""

    @abstractmethod
    def sample_instances(self, category_ids: np.ndarray, instance_ids: np.ndarray) -> dict:
        """Per-image arrays r0, sx, sy, xc, yc ([B] float64) for these (category, instance) pairs."""

    @abstractmethod
    def settings(self) -> ContourSettings: ...

    @abstractmethod
    def write_params(self, directory: Path) -> list[Path]:
        """The originals' parameter files (or ours, where the original wrote none)."""

    # -- shared ----------------------------------------------------------------------------------

    @property
    def n_instances(self) -> int:
        return self.config.instances

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (1, self.config.size, self.config.size)

    def table(self, progress=None, backend: str = "auto") -> ContourTable:
        """The category table (sampled, not searched: cheap, so it is never cached on disk)."""
        if self._table is None:
            self._table = self.sample_categories(self.config.categories)
            if progress:
                progress(self.config.categories)
        return self._table

    def write_table(self, directory: Path, csv: bool = True) -> list[Path]:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.table().save(directory / "table.safetensors")
        return [directory / "table.safetensors"] + (self.write_params(directory) if csv else [])

    def batch(self, category_ids: np.ndarray, instance_ids: np.ndarray, variants=None) -> ContourBatch:
        """The renderer's input for these images (`variants` re-keys the orbit draws, see Database._render)."""
        t = self.table()
        inst = self.sample_instances(category_ids, instance_ids)
        cat = {name: t[name][category_ids] for name in ("vertices", "orbits", "eta", "c")}
        waves = {n: (t[n][category_ids] if n in t.columns else np.zeros(len(category_ids), np.int64))
                 for n in ("n1", "n2")}
        return ContourBatch(**cat, **{k: np.asarray(inst[k], dtype=np.float64) for k in INSTANCE_FIELDS}, **waves,
                            key=np.stack([category_ids, instance_ids if variants is None else variants],
                                             axis=1).astype(np.uint32))

    def _render(self, category_ids: np.ndarray, instance_ids: np.ndarray, backend: str, variants=None) -> np.ndarray:
        module = importlib.import_module(f"{__package__}.render_{backend}")
        return module.render(self.batch(category_ids, instance_ids, variants), self.settings())


def centres(seed: int, purpose: str, category_ids, instance_ids, first_word: int, n_words: int,
            size: int, start_pos: int) -> tuple[np.ndarray, np.ndarray]:
    """(yc, xc) = (size + U{-start_pos..start_pos}) / 2 each, from words first_word, first_word + 1."""
    words = rng.philox_words(seed, rng.stream_id(purpose), category_ids, instance_ids, n_words)
    span = 2 * start_pos + 1
    yc = (size + (rng.bounded(words[:, first_word], span) - start_pos)) / 2
    xc = (size + (rng.bounded(words[:, first_word + 1], span) - start_pos)) / 2
    return yc.astype(np.float64), xc.astype(np.float64)
