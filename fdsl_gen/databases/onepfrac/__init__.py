"""1p-frac (Nakamura, Tadokoro et al., ECCV 2024): 1,000 classes perturbed from one fractal.

Class k is the base system with every parameter of every map multiplied by its own U(1 - delta,
1 + delta), redrawn until the class's image fills more than 5% of the canvas (docs/spec/fractals.md §3).
Rendering is FractalDB's at 512², 100k points, patches, flip0 only. Instance i is patch redraw i
(instance 0 is the image the acceptance test saw). The original is unseeded; here the base, the
perturbations and the patches are Philox draws, so a table is a function of the seed.
Files: `<k:02d>/<k:02d>_<k:02d>_count_<i>_flip0.png` as the original writes them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ...errors import UsageError
from ...registry import register_database
from .._base import check_positive
from ..ifs2d.database import IFS2DConfig, IFS2DDatabase, validate_common
from ..tables import first_categories, read_table
from ..tables.cache import cache_name, cached_table
from ..tables.onepfrac import OnePFracTable
from .params import perturbation, sample_base

MAX_ATTEMPTS = 1000  # per class; a base that never passes the fill test is reported, not looped on forever
EVAL_BATCH = 32


@dataclass(frozen=True)
class OnePFracConfig(IFS2DConfig):
    """1p-frac: `categories` are the classes (the original's --sample); the original is unseeded, so
    `search` is native only, and `seed` draws the base, the perturbations and the patch patterns."""

    size: int = 512
    points: int = 100_000  # --iteration
    sigma: float = 3.5  # sigma-factor of the base (drawn within +-0.1), the README's results
    delta: float = 0.1  # perturbation strength
    n_maps: int = 2  # maps of the base fractal (--N)
    fill_rate: float = 0.05  # accept a class iff the fraction of lit values exceeds this (--pixel_threshold)
    table: str | None = None  # render this 1p-frac table file instead of sampling


@register_database
class OnePFrac(IFS2DDatabase):
    key = "onepfrac"
    aliases = ("1p-frac", "1pfrac", "one-p-frac")
    summary = "1p-frac (ECCV 2024): 1,000 perturbations of one 2-map fractal, 512² patch images"
    option_aliases = {"sample": "categories", "pixel_threshold": "fill_rate", "iteration": "points",
                      "N": "n_maps"}
    Config = OnePFracConfig

    def __init__(self, config: OnePFracConfig):
        super().__init__(config)
        validate_common(config)
        if config.search != "native":
            raise UsageError("1p-frac's original is unseeded, so only --search native exists for it")
        if not 0.0 < config.delta < 1.0:
            raise UsageError(f"delta must be in (0, 1), got {config.delta}")
        if not 0.0 <= config.fill_rate < 1.0:
            raise UsageError(f"fill rate must be in [0, 1), got {config.fill_rate}")
        check_positive("n_maps", config.n_maps, 7)
        if not 0.1 < config.sigma < 3 * config.n_maps - 0.1:
            raise UsageError(f"sigma must be in (0.1, {3 * config.n_maps - 0.1}) for {config.n_maps} maps, "
                             f"got {config.sigma}")

    def _system(self, category: int, weight_row: int) -> np.ndarray:
        return self.table().system(category)

    def relative_path(self, category: int, instance: int) -> str:
        return f"{category:02d}/{category:02d}_{category:02d}_count_{instance}_flip0.png"

    # -- the table -------------------------------------------------------------------------------

    def _table_key(self) -> dict:
        keep = ("seed", "size", "points", "draw_type", "sigma", "delta", "n_maps", "fill_rate")
        return {k: v for k, v in asdict(self.config).items() if k in keep}

    def _make_table(self, progress, backend: str) -> OnePFracTable:
        """The base and accepted perturbations of the first `categories` classes: a table file given as
        `table`, or sampled (cached, see `tables.cache`; classes are independent)."""
        n = self.config.categories
        if self.config.table:
            return first_categories(self.load_table(self.config.table), n, self.config.table)
        search = lambda k, start, prog: self._search(k, start, self.resolve_backend(backend), prog)  # noqa: E731
        return cached_table(OnePFracTable, cache_name("onepfrac", self._table_key()), n, search, None, progress)

    @staticmethod
    def load_table(path: str) -> OnePFracTable:
        return read_table(path, OnePFracTable.load)

    @classmethod
    def table_size(cls, table: str) -> int:
        return cls.load_table(table).n_categories

    def _search(self, n: int, start: OnePFracTable | None, backend: str, progress) -> OnePFracTable:
        cfg = self.config
        base, alpha = sample_base(cfg.seed, cfg.n_maps, cfg.sigma)
        done = start.n_categories if start is not None else 0
        factors = np.zeros((n, cfg.n_maps, 6))
        attempts = np.zeros(n, dtype=np.int64)
        if start is not None:
            factors[:done], attempts[:done] = start.factors, start.attempts
        pending = list(range(done, n))
        while pending:
            chunk, pending = pending[:EVAL_BATCH], pending[EVAL_BATCH:]
            mults = [perturbation(cfg.seed, k, int(attempts[k]), cfg.n_maps, cfg.delta) for k in chunk]
            systems = [np.concatenate([base[:, :6] * m, base[:, 6:]], axis=1) for m in mults]
            images = self.render_systems(systems, range(len(chunk)), [0] * len(chunk),
                                         [(k, 0) for k in chunk], backend)
            for j, k in enumerate(chunk):
                if (images[j] > 1).mean() > cfg.fill_rate:
                    factors[k] = mults[j]
                    if progress:
                        progress(1)
                    continue
                attempts[k] += 1
                if attempts[k] >= MAX_ATTEMPTS:
                    raise UsageError(f"1p-frac class {k} failed the fill test {MAX_ATTEMPTS} times: the base fractal "
                                     f"(sigma-factor {alpha:.3f}) is too thin; try another --seed or --sigma")
                pending.append(k)
        meta = {**self._table_key(), "sigma_factor": alpha}
        return OnePFracTable(base, factors, attempts, meta)
