"""2D-OFDB (Nakamura et al., ICCV 2023): one image per FractalDB category (docs/spec/fractals.md §2).

The categories are FractalDB's search; each is drawn once with the first row of the weight table
(a x 0.2 with weights_0.4), patch redraw 0, flip0 only. Variety comes from augmentation. Instance i is
patch redraw i (instance 0 is the released image; more instances re-draw the patch patterns, the
natural reading of the paper's "random pattern augmentation").
Files: `<cat:05d>/<cat:05d>_00_count_<i>_flip0.png`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...registry import register_database
from ..ifs2d.database import SearchedIFSConfig, SearchedIFSDatabase
from ..ifs2d.weights import apply_weights, weights_table


@dataclass(frozen=True)
class OFDBConfig(SearchedIFSConfig):
    """2D-OFDB-1k and -21k: `categories` 1000 or 21000; only the first row of `weights` is used, as in
    the original make script; `instances` are patch redraws (default 1, as released)."""


@register_database
class OFDB(SearchedIFSDatabase):
    key = "ofdb"
    aliases = ("2d-ofdb", "ofdb2d", "OFDB")
    summary = "2D-OFDB (ICCV 2023): one a x 0.2 patch image per FractalDB category"
    option_aliases = {"rate": "fill_rate", "numof_point": "search_points", "weight_csv": "weights",
                      "iteration": "points"}
    Config = OFDBConfig

    def __init__(self, config: OFDBConfig):
        super().__init__(config)
        self.weight_row = weights_table(config.weights)[0]

    def _system(self, category: int, weight_row: int) -> np.ndarray:
        return apply_weights(self.table().system(category), self.weight_row)

    def relative_path(self, category: int, instance: int) -> str:
        return f"{category:05d}/{category:05d}_00_count_{instance}_flip0.png"
