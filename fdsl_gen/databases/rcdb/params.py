"""RCDB parameters (docs/spec/contours.md §2.3-2.4): the laws of the released generator, our draws.

Per category (the original's order, from the category's own Philox sequence):
V = int(Exp(mean 100)) redrawn until 3 <= V <= vertex_num (Python's expovariate formula),
K ~ U{line_num_min .. line_num_min + 199}, eta ~ U[perlin_min, perlin_min + 4), c ~ U[0, line_width).
Per instance (all re-drawn, as the original does after every image): sx, sy ~ U[1, oval_rate),
r0 ~ U{radius_min .. radius_min + 100}, then the centre, y then x, each (size + U{-start_pos..start_pos}) / 2.
"""

from __future__ import annotations

import math

import numpy as np

from ... import rng
from ..contours.database import centres
from ..tables.contour import ContourTable

CATEGORY_STREAM = "rcdb/category"
INSTANCE_STREAM = "rcdb/instance"
ORBIT_STREAM = "rcdb/orbits"
COLUMNS = ("vertices", "orbits", "eta", "c")
_INSTANCE_WORDS = 7  # sx (2 words), sy (2), r0 (1), yc (1), xc (1)


def sample_category(cfg, k: int) -> tuple:
    d = rng.WordStream(cfg.seed, CATEGORY_STREAM, k)
    while True:
        v = int(-math.log(1.0 - d.uniform()) / 0.01)
        if 2 < v <= cfg.vertex_num:
            break
    n_orbits = d.integer(cfg.line_num_min, cfg.line_num_min + 199)
    eta = d.uniform(cfg.perlin_min, cfg.perlin_min + 4)
    c = d.uniform(0.0, cfg.line_width)
    return v, n_orbits, eta, c


def sample_categories(cfg, n: int) -> ContourTable:
    rows = [sample_category(cfg, k) for k in range(n)]
    columns = {name: np.array([r[j] for r in rows], dtype=np.int64 if j < 2 else np.float64)
               for j, name in enumerate(COLUMNS)}
    return ContourTable(columns, {"database": "rcdb", "seed": cfg.seed})


def sample_instances(cfg, category_ids, instance_ids) -> dict:
    words = rng.philox_words(cfg.seed, rng.stream_id(INSTANCE_STREAM), category_ids, instance_ids, _INSTANCE_WORDS)
    stretch = lambda hi, lo: 1.0 + (cfg.oval_rate - 1.0) * rng.uniform53(words[:, hi], words[:, lo])  # noqa: E731
    r0 = cfg.radius_min + rng.bounded(words[:, 4], 101)
    yc, xc = centres(cfg.seed, INSTANCE_STREAM, category_ids, instance_ids, 5, _INSTANCE_WORDS, cfg.size,
                     cfg.start_pos)
    return {"sx": stretch(0, 1), "sy": stretch(2, 3), "r0": r0.astype(np.float64), "xc": xc, "yc": yc}
