"""What the 2D IFS databases (fractaldb, ofdb, onepfrac) share: options, validation and batch rendering.

A subclass says how an instance id splits into (weight row, flip, variant) and which system a
(category, weight row) pair renders; this class builds the `IFSBatch` (one chaos game per distinct
system of the batch) and hands it to the backend's `render`.
"""

from __future__ import annotations

import importlib
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ... import rng
from ...errors import UsageError
from .._base import SIZE_RANGE, Database, DatabaseConfig, check_basics, check_positive
from .batch import IFSBatch, RenderSettings, pack_systems
from .draw_constants import DRAW_TYPES, PAD, draw_type_parts, map_sequence
from .search import SEARCH_MODES, SearchConfig, run_search
from ..tables import first_categories
from ..tables.cache import PUBLISHED_TABLE_PATH, cache_name, cached_table
from ..tables.ifs import IFSTable, load_table_file

MAX_POINTS = 10_000_000
MIN_CANVAS_POINTS = 2_000  # the fewest points a smaller canvas draws (`canvas_options`)


@dataclass(frozen=True)
class IFS2DConfig(DatabaseConfig):
    """The options of every 2D IFS database."""

    instances: int | None = None  # patch redraws per category (default 1; fractaldb: its 1,000 instances)
    size: int = 362  # canvas side (the launchers' image_size)
    points: int = 200_000  # chaos-game points per image (the launchers' iteration)
    draw_type: str = "patch_gray"  # point_gray | patch_gray | point_color | patch_color


@dataclass(frozen=True)
class SearchedIFSConfig(IFS2DConfig):
    """The options of the databases whose categories are FractalDB's search (fractaldb, ofdb)."""

    search: str = "published"  # published: the original's seed-1 search (FractalDB-1k/10k); native: ours
    weights: str = "0.4"  # weight table: a step of the shipped weights_<k>.csv, or a CSV path
    table: str | None = None  # render this category table (file or folder) instead of searching
    fill_rate: float = 0.2  # search acceptance (the original's --rate)
    search_points: int = 100_000  # chaos-game points of a search candidate (--numof_point)


def backend_module(backend: str):
    """The ifs2d render module of a resolved backend (imported on first use: importing compiles nothing)."""
    return importlib.import_module(f"{__package__}.render_{backend}")


def fill_function(backend: str = "auto"):
    """A search fill counter from the fastest backend that runs here (cuda, numba, else ref)."""
    from ...backends import resolve

    return backend_module(resolve(backend, ("cuda", "numba", "ref"), "the 2D IFS search")).point_fill_counts


def validate_common(cfg) -> None:
    """Checks shared by every 2D IFS config; raises UsageError naming the bad value."""
    check_basics(cfg)
    if not 2 <= cfg.points <= MAX_POINTS:
        raise UsageError(f"points must be between 2 and {MAX_POINTS}, got {cfg.points}")
    if cfg.draw_type not in DRAW_TYPES:
        raise UsageError(f"draw type must be one of {', '.join(DRAW_TYPES)}, got {cfg.draw_type!r}")


class IFS2DDatabase(Database):
    """Base of the 2D IFS databases: a category table, a variant (patch key) per instance, one renderer."""

    implemented_backends = ("cuda", "numba", "ref")
    # every draw type at one band of rows, and one size whose keys need two bands (raster_grid)
    check_options = (*({"categories": 4, "size": 64, "points": 4000, "draw_type": t} for t in DRAW_TYPES),
                     {"categories": 4, "size": 200, "points": 20000})

    def __init__(self, config):
        super().__init__(config)
        self._packed = None  # (systems [R*C, 7, 7], n_maps [R*C], rows [R]): every weight row's systems

    @classmethod
    def canvas_options(cls, size: int) -> dict:
        """`size` and the default point count scaled by the canvas area (the same points per pixel, so the
        same density of strokes; at least 2,000): ofdb at 64 px draws 6,251 points instead of 200,000."""
        default = cls.Config()
        if not SIZE_RANGE[0] <= size <= default.size:
            raise UsageError(f"canvas must be between {SIZE_RANGE[0]} and {cls.key}'s native {default.size} pixels, "
                             f"got {size}")
        return {"size": size, "points": max(MIN_CANVAS_POINTS, round(default.points * (size / default.size) ** 2))}

    @classmethod
    def table_size(cls, table: str) -> int:
        return load_table_file(table).n_categories

    @abstractmethod
    def _system(self, category: int, weight_row: int) -> np.ndarray:
        """The [N, 7] system (a..f, p) that renders this category with this weight row."""

    @property
    def n_instances(self) -> int:
        return self.config.instances or 1

    def _instance_parts(self, instances: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(weight rows, flips 0..3, variants) of instance ids (int64 [B] each); the variant keys the
        patch patterns (fractaldb: its four flips share one).

        By default instance i is patch redraw i of weight row 0, unflipped (2D-OFDB, 1p-frac).
        """
        zeros = np.zeros(instances.shape, dtype=np.int64)
        return zeros, zeros, instances

    def write_table(self, directory: Path, csv: bool = True) -> list[Path]:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        table = self.table()
        table.save(directory / "table.safetensors")
        if csv:  # every category's system as the original's %05d.csv, whatever the table's own form
            IFSTable.from_systems([table.system(k) for k in range(table.n_categories)]).write_csv_dir(directory)
        return [directory / "table.safetensors"]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (3 if draw_type_parts(self.config.draw_type)[1] else 1, self.config.size, self.config.size)

    def settings(self) -> RenderSettings:
        return RenderSettings(size=self.config.size, n_points=self.config.points, draw_type=self.config.draw_type,
                              seed=self.config.seed, patch_stream=rng.stream_id(f"{self.key}/patch"),
                              database=self.key)

    def _render(self, category_ids: np.ndarray, instance_ids: np.ndarray, backend: str, variants=None) -> np.ndarray:
        rows, flips, written = self._instance_parts(instance_ids)
        variants = written if variants is None else variants.astype(np.int64)
        systems, n_maps, used = self._packed_systems()
        ids = np.searchsorted(used, rows) * self.n_categories + category_ids  # a row of the packed systems
        table_index, system_of = np.unique(ids, return_inverse=True)
        batch = IFSBatch(systems[table_index], n_maps[table_index], system_of.astype(np.int64), flips,
                         np.stack([category_ids, variants], axis=1).astype(np.uint32), table_index)
        if backend == "cuda":
            from . import render_cuda
            from ...backends import cuda_runner

            runner = cuda_runner.CudaRunner()
            return render_cuda.render(batch, self.settings(), runner, self.device_table(runner))
        return backend_module(backend).render(batch, self.settings())

    def render_systems(self, systems: list[np.ndarray], system_of, flips, keys, backend: str) -> np.ndarray:
        """Render explicit systems: image b draws systems[system_of[b]] with flip flips[b] and patch key keys[b]."""
        packed, n_maps = pack_systems(systems)
        batch = IFSBatch(packed, n_maps, np.asarray(system_of, dtype=np.int64), np.asarray(flips, dtype=np.int64),
                         np.asarray(keys, dtype=np.uint32).reshape(-1, 2))
        return backend_module(backend).render(batch, self.settings())

    def _packed_systems(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(systems [R*C, 7, 7], n_maps [R*C], rows [R]): category c with weight row rows[r] at r*C + c, for
        every weight row an instance uses (made once)."""
        if self._packed is None:
            used = np.unique(self._instance_parts(np.arange(self.n_instances, dtype=np.int64))[0])
            packed = [pack_systems([self._system(c, int(r)) for c in range(self.n_categories)]) for r in used]
            self._packed = (np.concatenate([p[0] for p in packed]), np.concatenate([p[1] for p in packed]), used)
        return self._packed

    def _make_device_table(self, runner):
        """The traces of every packed system on `runner`'s device (render_cuda.Traced): one trace and one
        read-back per table, so that a render never waits for the GPU; with every point's pixel coordinates
        when they fit FDSL_GPU_TABLE_GB."""
        from ... import _env
        from .render_cuda import trace

        systems, n_maps, _ = self._packed_systems()
        keep = systems.shape[0] * self.config.points * 4 <= _env.gpu_table_bytes()  # every point's coordinates
        return trace(systems, n_maps, self.config.points, runner, self.key, self.config.size if keep else None, PAD)

    @classmethod
    def check_search_outputs(cls, backend: str) -> dict[str, np.ndarray]:
        """Fill counts of 24 random systems (some overflow) at the search's kind of point render."""
        draws = np.random.default_rng(24)
        systems = []
        for n in draws.integers(2, 8, 24):
            maps = draws.uniform(-1.6, 1.6, (n, 6))
            systems.append(np.column_stack([maps, np.full(n, 1.0 / n)]))
        packed, n_maps = pack_systems(systems)
        count = backend_module(backend).point_fill_counts
        extra = {"key": cls.key} if backend == "cuda" else {}
        return {"search": count(packed, n_maps, map_sequence(20000)[None], np.zeros(len(systems), np.int64), 160,
                                PAD, **extra)}

class SearchedIFSDatabase(IFS2DDatabase):
    """fractaldb and ofdb: categories from the FractalDB search (published or native) or a table file."""

    def __init__(self, config):
        super().__init__(config)
        validate_common(config)
        if config.search not in SEARCH_MODES:
            raise UsageError(f"search must be one of {', '.join(SEARCH_MODES)}, got {config.search!r}")
        if not 0.0 < config.fill_rate <= 1.0:
            raise UsageError(f"fill rate must be in (0, 1], got {config.fill_rate}")
        check_positive("search points", config.search_points, MAX_POINTS)
        self.search_config()  # validates the search (an impossible fill rate is refused here)

    def benchmark_search(self, n: int, backend: str) -> dict:
        """The native search (the published one replays a fixed stream and ships precomputed)."""
        cfg = SearchConfig(mode="native", seed=self.config.seed, fill_rate=self.config.fill_rate,
                           n_points=self.config.search_points)
        table = run_search(cfg, n, fill_function(self.resolve_backend(backend)))
        return {"categories": n, "candidates": table.meta["candidates"]}

    def search_config(self) -> SearchConfig:
        # The published search is the original's: its stream is seeded with 1 whatever our seed is.
        seed = 1 if self.config.search == "published" else self.config.seed
        try:
            return SearchConfig(mode=self.config.search, seed=seed, fill_rate=self.config.fill_rate,
                                n_points=self.config.search_points)
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    def _make_table(self, progress, backend: str) -> IFSTable:
        """A table file given as `table`, or the search (published or native; cached, see `tables.cache`)."""
        n = self.config.categories
        if self.config.table:
            return first_categories(load_table_file(self.config.table), n, self.config.table)
        cfg = self.search_config()

        def search(k, start, prog):  # run only for categories no shipped or cached table holds
            fill = fill_function(self.resolve_backend(backend))  # cuda only once it passed its self-check
            return run_search(cfg, k, fill, start=start, progress=prog)

        shipped = PUBLISHED_TABLE_PATH if cfg == SearchConfig() else None
        return cached_table(IFSTable, cache_name(f"ifs2d-{cfg.mode}", cfg.meta()), n, search, shipped, progress)
