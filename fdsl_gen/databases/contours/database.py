"""What the contour databases (rcdb, visual_atom) share: validation, tables and batch rendering.

A subclass samples its category table and its per-instance parameters (NumPy, Philox) and names its
files; this class assembles the `ContourBatch` and hands it to the backend's `render`.

`search="published"` replays the released script instead (`replay.py`): launched with `processes` N
and the same flags, category k and instance i are exactly what the original writes. The original never
writes categories N*floor(C/N) .. C-1, so in published mode n_categories = N*floor(C/N) and the tail
is left out with a warning. Only the CPU backends replay (`published_backends`); `seed` is not used.
"""

from __future__ import annotations

import importlib
import logging
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ... import backends, rng
from ...errors import UsageError
from ...io.atomic import atomic_write_bytes
from .._base import Database, DatabaseConfig, check_basics
from .batch import ContourBatch, ContourSettings
from .replay import INSTANCE_COLUMNS, Replay
from ..tables.contour import ContourTable

INSTANCE_FIELDS = ("r0", "sx", "sy", "xc", "yc")
SEARCHES = ("native", "published")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContourConfig(DatabaseConfig):
    """The options of both contour databases, named as the released scripts' flags."""

    instances: int = 1000  # numof_instances
    line_num_min: int = 1  # fewest orbits K
    perlin_min: float = 0.0  # eta ~ U[perlin_min, perlin_min + 4)
    line_width: float = 0.1  # c ~ U[0, line_width): the outward step per orbit
    radius_min: int = 0  # r0 ~ U{radius_min .. radius_min + range}
    oval_rate: float = 2.0  # sx, sy ~ U[1, oval_rate)
    start_pos: int = 400  # centre = (size + U{-start_pos .. start_pos}) / 2
    processes: int = 40  # numof_thread (search="published" only): the launch being replayed


def check_range(name_min: str, lo, name_max: str, hi) -> None:
    if lo > hi:
        raise UsageError(f"{name_min} ({lo}) must not exceed {name_max} ({hi})")


class ContourDatabase(Database):
    """Base of the contour databases: a sampled category table, per-instance draws, one renderer."""

    implemented_backends = ("cuda", "numba", "ref")
    published_backends = ("numba", "ref")  # the backends that replay the released script (search="published")
    option_aliases = {"numof_thread": "processes"}  # the launchers' process count
    category_columns: tuple  # the category table's columns
    replay_instance_columns: tuple = INSTANCE_COLUMNS  # what the original re-draws per instance
    table_in_layout = True  # the parameter files are part of the written dataset

    def __init__(self, config):
        super().__init__(config)
        check_basics(config)
        if config.search not in SEARCHES:
            raise UsageError(f"search must be native or published, got {config.search!r}")
        if config.processes < 1:
            raise UsageError(f"processes must be at least 1, got {config.processes}")
        if config.line_num_min < 1:
            raise UsageError(f"line_num_min must be at least 1, got {config.line_num_min}")
        if min(config.radius_min, config.start_pos, config.line_width) < 0 or config.oval_rate <= 0:
            raise UsageError("radius_min, start_pos and line_width must be >= 0, oval_rate > 0")
        self._replay: Replay | None = None
        if self.published:
            n, per = config.processes, config.categories // config.processes
            if per == 0:
                raise UsageError(f"categories ({config.categories}) must be at least processes ({n}): "
                                 "the original gives each process floor(categories / processes) of them")
            if max(abs(v) for v in self.replay_launch()[1]) >= 2**30:  # randint here reads one 32-bit word
                raise UsageError("--search published takes integer options below 2**30")
            if config.categories > n * per:
                log.warning(f"{self.key} --search published: categories {n * per}..{config.categories - 1} are left "
                            f"out, the original never writes them ({n} processes x floor({config.categories}/{n}) "
                            f"= {n * per} categories)")

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

    @abstractmethod
    def replay_launch(self) -> tuple:
        """(kind, ints, floats) of the released script's flags for `replay.Replay`."""

    # -- shared ----------------------------------------------------------------------------------

    @property
    def published(self) -> bool:
        return self.config.search == "published"

    @property
    def n_categories(self) -> int:
        c = self.config
        return c.processes * (c.categories // c.processes) if self.published else c.categories

    def replay(self) -> Replay:
        """The published stream of this launch (scanned lazily)."""
        if self._replay is None:
            kind, ints, floats = self.replay_launch()
            c = self.config
            self._replay = Replay(kind, c.processes, c.categories, c.instances, ints, floats)
        return self._replay

    def resolve_backend(self, backend: str = "auto") -> str:
        if not self.published:
            return super().resolve_backend(backend)
        if backend in backends.BACKENDS and backend not in self.published_backends:
            raise UsageError(f"{self.key} --search published replays on {' or '.join(self.published_backends)}, "
                             f"not {backend}")
        return backends.resolve(backend, self.published_backends, self.key)

    def category_values(self, category_ids: np.ndarray) -> dict:
        """{name: [B] array} of these categories' parameters (published: scanned only as far as needed)."""
        if self.published:
            return self.replay().category_values(np.asarray(category_ids, dtype=np.int64))
        t = self.table()
        return {name: values[category_ids] for name, values in t.columns.items()}

    def instance_values(self, category_ids: np.ndarray, instance_ids: np.ndarray) -> dict:
        """Per-image arrays r0, sx, sy, xc, yc ([B] float64): sampled (native) or the original's (published)."""
        if self.published:
            return self.replay().instance_values(np.asarray(category_ids, dtype=np.int64),
                                                 np.asarray(instance_ids, dtype=np.int64))
        return self.sample_instances(category_ids, instance_ids)

    @property
    def n_instances(self) -> int:
        return self.config.instances

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (1, self.config.size, self.config.size)

    def _make_table(self, progress, backend: str) -> ContourTable:
        """The category table, sampled or replayed (never cached on disk: both are fast).

        Published mode adds the instance columns `instance_<name>` [C, I] of what the original re-draws
        per instance (`replay_instance_columns`).
        """
        if not self.published:
            table = self.sample_categories(self.config.categories)
            if progress:
                progress(self.config.categories)
            return table
        r = self.replay()
        r.ensure(progress=progress)
        values = self.category_values(np.arange(self.n_categories))
        cols = {name: values[name] for name in self.category_columns}
        cols.update({f"instance_{name}": r.rows[:, :, j].copy() for j, name in enumerate(INSTANCE_COLUMNS)
                     if name in self.replay_instance_columns})
        c = self.config
        return ContourTable(cols, {"database": self.key, "search": "published", "processes": c.processes,
                                   "instances": c.instances})

    def write_table(self, directory: Path, csv: bool = True) -> list[Path]:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.table().save(directory / "table.safetensors")
        return [directory / "table.safetensors"] + (self.write_params(directory) if csv else [])

    def batch(self, category_ids: np.ndarray, instance_ids: np.ndarray, variants=None) -> ContourBatch:
        """The renderer's input for these images (`variants` re-keys the orbit draws, see Database._render)."""
        if self.published and variants is not None:
            raise UsageError(f"{self.key} --search published renders the instances the original wrote; "
                             "fresh draws (the stream's variants) need --search native")
        values = self.category_values(category_ids)
        inst = self.instance_values(category_ids, instance_ids)
        cat = {name: values[name] for name in ("vertices", "orbits", "eta", "c")}
        waves = {n: (values[n] if n in values else np.zeros(len(category_ids), np.int64)) for n in ("n1", "n2")}
        state = self.replay().states(category_ids, instance_ids) if self.published else None
        return ContourBatch(**cat, **{k: np.asarray(inst[k], dtype=np.float64) for k in INSTANCE_FIELDS}, **waves,
                            key=np.stack([category_ids, instance_ids if variants is None else variants],
                                         axis=1).astype(np.uint32), mt_state=state)

    def write_instance_table(self, directory: Path, first_class: int = 0) -> list[Path]:
        """Published mode: `instances.csv`, one row per image of what the original re-drew for it (str() values)."""
        if not self.published:
            return []
        t = self.table()
        names = [n for n in INSTANCE_COLUMNS if n in self.replay_instance_columns]
        # the radius is an int in the original (randint), the others floats: str() as Python prints them
        cols = [t[f"instance_{n}"].astype(np.int64 if n == "r0" else np.float64).tolist() for n in names]
        lines = ["class,instance," + ",".join(names)]
        for k in range(t.n_categories):
            lines += [f"{k + first_class},{i}," + ",".join(str(c[k][i]) for c in cols)
                      for i in range(self.n_instances)]
        path = Path(directory) / "instances.csv"
        atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
        return [path]

    def _render(self, category_ids: np.ndarray, instance_ids: np.ndarray, backend: str, variants=None) -> np.ndarray:
        batch = self.batch(category_ids, instance_ids, variants)
        if backend == "cuda":
            from ...backends import cuda_runner
            from . import render_cuda

            runner = cuda_runner.CudaRunner()
            return render_cuda.render(batch, self.settings(), runner, self.device_table(runner))
        module = importlib.import_module(f"{__package__}.render_{backend}")
        return module.render(batch, self.settings())

    def _make_device_table(self, runner):
        """The vertex tables of every category on `runner`'s device (render_cuda.VertexTables)."""
        from .render_cuda import table_tables

        values = self.category_values(np.arange(self.n_categories))
        zeros = np.zeros(self.n_categories, np.int64)
        return table_tables(values["vertices"], values.get("n1", zeros), values.get("n2", zeros), runner)


def centres(seed: int, purpose: str, category_ids, instance_ids, first_word: int, n_words: int,
            size: int, start_pos: int) -> tuple[np.ndarray, np.ndarray]:
    """(yc, xc) = (size + U{-start_pos..start_pos}) / 2 each, from words first_word, first_word + 1."""
    words = rng.philox_words(seed, rng.stream_id(purpose), category_ids, instance_ids, n_words)
    span = 2 * start_pos + 1
    yc = (size + (rng.bounded(words[:, first_word], span) - start_pos)) / 2
    xc = (size + (rng.bounded(words[:, first_word + 1], span) - start_pos)) / 2
    return yc.astype(np.float64), xc.astype(np.float64)
