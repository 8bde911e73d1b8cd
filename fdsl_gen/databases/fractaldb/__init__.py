"""FractalDB (Kataoka et al., ACCV 2020): searched 2D IFS categories, 1,000 instances each.

Instance id = (weight row * redraws + redraw) * 4 + flip (docs/spec/fractals.md §1.2): 25 rows of
weights_0.4 x 10 patch redraws x 4 flips with the original's launcher values. The point draw types have
one redraw per row (the original renders point modes once per row), so 100 instances.
Files: `<cat:05d>/<cat:05d>_<row:02d>_count_<redraw>_flip<f>.png` as the original renderer writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import UsageError
from ...registry import register_database
from ..ifs2d.database import SearchedIFSConfig, SearchedIFSDatabase
from ..ifs2d.draw_constants import draw_type_parts
from ..ifs2d.weights import apply_weights, weights_table

FLIPS = 4


@dataclass(frozen=True)
class FractalDBConfig(SearchedIFSConfig):
    """FractalDB-1k and -10k: `categories` 1000 or 10000; `instances` defaults to all (1,000 with patches)."""

    redraws: int | None = None  # patch redraws per weight row (the original's --instance; default 10, point: 1)


@register_database
class FractalDB(SearchedIFSDatabase):
    key = "fractaldb"
    aliases = ("FractalDB", "fractal-db", "fractaldb-1k")
    summary = "FractalDB (ACCV 2020): searched 2D IFS, 25 weights x 10 patch redraws x 4 flips per category"
    option_aliases = {"rate": "fill_rate", "numof_point": "search_points", "weight_csv": "weights",
                      "iteration": "points", "instance": "redraws"}
    Config = FractalDBConfig

    def __init__(self, config: FractalDBConfig):
        super().__init__(config)
        self.weights = weights_table(config.weights)
        patch = draw_type_parts(config.draw_type)[0]
        self.redraws = config.redraws if config.redraws is not None else (10 if patch else 1)
        if self.redraws < 1:
            raise UsageError(f"redraws must be at least 1, got {self.redraws}")
        full = self.weights.shape[0] * self.redraws * FLIPS
        if config.instances is not None and config.instances > full:
            raise UsageError(f"fractaldb has {full} instances per category with these weights and redraws, "
                             f"got instances={config.instances}")
        self._n_instances = config.instances or full

    @property
    def n_instances(self) -> int:
        return self._n_instances

    def _instance_parts(self, instances: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        variants, flips = np.divmod(instances, FLIPS)
        return variants // self.redraws, flips, variants

    def _system(self, category: int, weight_row: int) -> np.ndarray:
        return apply_weights(self.table().system(category), self.weights[weight_row])

    def relative_path(self, category: int, instance: int) -> str:
        variant, flip = divmod(instance, FLIPS)
        row, redraw = divmod(variant, self.redraws)
        return f"{category:05d}/{category:05d}_{row:02d}_count_{redraw}_flip{flip}.png"
