"""What the 3D IFS databases (ofdb3d, exfractaldb) share: the searched table, models, views, rendering.

A subclass says which model (weight row) and which camera an instance id means; this class builds
each distinct model of a batch once and projects every view of it.
"""

from __future__ import annotations

import importlib
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ... import rng
from ...errors import UsageError
from .._base import Database, DatabaseConfig, check_basics
from ..tables import first_categories
from ..tables.cache import cache_name, cached_table
from ..tables.ifs import IFSTable, load_table_file
from .batch import Settings3D, ViewBatch, pack_systems
from .search import Search3DConfig, run_search
from .weights import apply_weights, weights_ins145


@dataclass(frozen=True)
class IFS3DConfig(DatabaseConfig):
    """The options of both 3D IFS databases. The originals' search is unseeded, so `search` is native
    only; `seed` draws the search, the models' chaos games and the views' jitter."""

    size: int = 224  # image side (--img_size)
    points: int = 10_000  # chaos-game length, 9,999 points kept (--point_num)
    threshold: float = 0.05  # search: per-axis variance to exceed (--variance in the launchers)
    table: str | None = None  # render this 3D table (file or folder of %06d.csv) instead of searching


def backend_module(backend: str):
    return importlib.import_module(f"{__package__}.render_{backend}")


class IFS3DDatabase(Database):
    """Base of the 3D IFS databases."""

    implemented_backends = ("cuda", "numba", "ref")
    check_options = ({"categories": 4, "size": 96, "points": 3000}, {"categories": 2, "size": 300, "points": 9999})

    def __init__(self, config):
        super().__init__(config)
        check_basics(config)
        if config.search != "native":
            raise UsageError("the 3D originals' search is unseeded, so only --search native exists for them")
        if not 0.0 <= config.threshold < 1.0:
            raise UsageError(f"threshold (the per-axis variance) must be in [0, 1), got {config.threshold}")
        if not 3 <= config.points <= 10_000_000:
            raise UsageError(f"points must be between 3 and 10000000, got {config.points}")
        self.weights = weights_ins145()
        self._packed: tuple[np.ndarray, np.ndarray] | None = None  # the table's systems, packed

    @abstractmethod
    def _instances(self, category_ids: np.ndarray, instance_ids: np.ndarray,
                   variants: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(models = weight rows [B], projection-view matrices [B, 4, 4]) of these instances.

        variants [B] key the random part of each view (the instance ids as written, or the stream's fresh ones).
        """

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (1, self.config.size, self.config.size)

    def settings(self) -> Settings3D:
        return Settings3D(size=self.config.size, n_points=self.config.points, seed=self.config.seed,
                          stream=rng.stream_id(f"{self.key}/model-points"), database=self.key)

    @classmethod
    def table_size(cls, table: str) -> int:
        return load_table_file(table, width=13).n_categories

    def search_config(self) -> Search3DConfig:
        return Search3DConfig(seed=self.config.seed, threshold=self.config.threshold)

    def _make_table(self, progress, backend: str) -> IFSTable:
        """A table file given as `table`, or the seeded 3D search (cached, see `tables.cache`)."""
        n = self.config.categories
        if self.config.table:
            return first_categories(load_table_file(self.config.table, width=13), n, self.config.table)
        cfg = self.search_config()

        def search(k, start, prog):  # run only for categories no cached table holds
            return run_search(cfg, k, backend_module(self.resolve_backend(backend)).evaluate, start, prog)

        return cached_table(IFSTable, cache_name(f"ifs3d-{cfg.mode}", cfg.meta()), n, search, None, progress)

    def benchmark_search(self, n: int, backend: str) -> dict:
        table = run_search(self.search_config(), n, backend_module(self.resolve_backend(backend)).evaluate)
        return {"categories": n, "candidates": table.meta["candidates"]}

    @classmethod
    def check_search_outputs(cls, backend: str) -> dict[str, np.ndarray]:
        """Search acceptance of 24 random candidates (the evaluate kernel)."""
        draws = np.random.default_rng(24)
        systems = [np.column_stack([draws.uniform(-1, 1, (n, 12)), np.full(n, 1.0 / n)])
                   for n in draws.integers(2, 8, 24)]
        packed, n_maps = pack_systems(systems)
        keys = np.column_stack([np.arange(24), np.zeros(24)]).astype(np.uint32)
        settings = cls.from_options(**cls.check_options[0]).settings()
        return {"search": backend_module(backend).evaluate(packed, n_maps, keys, settings, 0.05)}

    def write_table(self, directory: Path, csv: bool = True) -> list[Path]:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.table().save(directory / "table.safetensors")
        if csv:
            self.table().write_csv_dir(directory)
        return [directory / "table.safetensors"]

    def model_system(self, category: int, model: int) -> np.ndarray:
        """The [N, 13] system of a category's model: a .. l times weight row `model`, p kept."""
        return apply_weights(self.table().system(category), self.weights[model])

    def _model_systems(self, categories: np.ndarray, weight_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The packed systems of models (categories[k], weight_rows[k]), as `model_system` makes them one by one:
        ([K, 7, 13], [K])."""
        if self._packed is None:
            table = self.table()
            self._packed = pack_systems([table.system(c) for c in range(self.n_categories)])
        base, n_maps = self._packed
        systems = base[categories]  # a copy; a .. l times the weight row, p kept, padding rows stay 0
        systems[:, :, :12] *= self.weights[weight_rows][:, None, :]
        return systems, n_maps[categories]

    def _render(self, category_ids: np.ndarray, instance_ids: np.ndarray, backend: str, variants=None) -> np.ndarray:
        models, mvps = self._instances(category_ids, instance_ids, instance_ids if variants is None else variants)
        pairs, system_of = np.unique(models * self.n_categories + category_ids, return_inverse=True)
        weight_rows, cats = np.divmod(pairs, self.n_categories)
        packed, n_maps = self._model_systems(cats, weight_rows)
        batch = ViewBatch(packed, n_maps, np.stack([cats, weight_rows], axis=1).astype(np.uint32),
                          system_of.astype(np.int64), mvps)
        if backend == "cuda":
            from ...backends import cuda_runner
            from . import render_cuda

            runner = cuda_runner.CudaRunner()
            table = self.device_table(runner)
            if table is not None:
                used, built = table
                batch = ViewBatch(packed, n_maps, batch.model_key, batch.system_of, mvps,
                                  np.searchsorted(used, weight_rows) * self.n_categories + cats)
                return render_cuda.render(batch, self.settings(), runner, built)
            return render_cuda.render(batch, self.settings(), runner)
        return backend_module(backend).render(batch, self.settings())

    def _make_device_table(self, runner):
        """(weight rows used [R], every model of the table at r*C + c) on `runner`'s device, or None when
        they would not fit FDSL_GPU_TABLE_GB (then each batch builds its own)."""
        from ... import _env
        from .render_cuda import build_models

        n = self.n_instances
        used = np.unique(self._instances(np.zeros(n, np.int64), np.arange(n), np.arange(n))[0])
        if used.size * self.n_categories * 12 * (self.config.points - 1) > _env.gpu_table_bytes():
            return None
        cats = np.tile(np.arange(self.n_categories), used.size)
        rows = np.repeat(used, self.n_categories)
        packed, n_maps = self._model_systems(cats, rows)
        keys = np.stack([cats, rows], axis=1).astype(np.uint32)
        return used, build_models(packed, n_maps, keys, self.settings(), runner)
