"""VisualAtom parameters (docs/spec/contours.md §1.3-1.4): the laws of the released generator, our draws.

Per category (drawn in the original's order from the category's own Philox sequence):
q ~ U{vertex_num_min..vertex_num_max}, K ~ U{line_num_min..line_num_max}, eta ~ U[perlin_min, perlin_min + 4),
c ~ U[0, line_width), r0 ~ U{radius_min..radius_min + 50}, n1 ~ U{nami_1_min..nami_1_max},
n2 ~ U{nami_2_min..nami_2_max} redrawn while n2 = n1 unless n1 = 0, sx, sy ~ U[1, oval_rate).
Per instance: only the centre, y then x, each (size + U{-start_pos..start_pos}) / 2.
"""

from __future__ import annotations

import numpy as np

from ... import rng
from ...errors import UsageError
from ..contours.database import centres
from ..tables.contour import ContourTable

CATEGORY_STREAM = "visual_atom/category"
INSTANCE_STREAM = "visual_atom/instance"
ORBIT_STREAM = "visual_atom/orbits"
COLUMNS = ("vertices", "orbits", "eta", "c", "r0", "n1", "n2", "sx", "sy")
MAX_REDRAWS = 10_000


def sample_category(cfg, k: int) -> tuple:
    d = rng.WordStream(cfg.seed, CATEGORY_STREAM, k)
    q = d.integer(cfg.vertex_num_min, cfg.vertex_num_max)
    n_orbits = d.integer(cfg.line_num_min, cfg.line_num_max)
    eta = d.uniform(cfg.perlin_min, cfg.perlin_min + 4)
    c = d.uniform(0.0, cfg.line_width)
    r0 = d.integer(cfg.radius_min, cfg.radius_min + 50)
    n1 = d.integer(cfg.nami_1_min, cfg.nami_1_max)
    n2 = d.integer(cfg.nami_2_min, cfg.nami_2_max)
    redraws = 0
    while n2 == n1 and n1 != 0:
        redraws += 1
        if redraws > MAX_REDRAWS:
            raise UsageError(f"category {k}: n2 can never differ from n1 = {n1} with nami_2 in "
                             f"[{cfg.nami_2_min}, {cfg.nami_2_max}]")
        n2 = d.integer(cfg.nami_2_min, cfg.nami_2_max)
    sx = d.uniform(1.0, cfg.oval_rate)
    sy = d.uniform(1.0, cfg.oval_rate)
    return q, n_orbits, eta, c, r0, n1, n2, sx, sy


def sample_categories(cfg, n: int) -> ContourTable:
    rows = [sample_category(cfg, k) for k in range(n)]
    ints = {"vertices", "orbits", "r0", "n1", "n2"}
    columns = {name: np.array([r[j] for r in rows], dtype=np.int64 if name in ints else np.float64)
               for j, name in enumerate(COLUMNS)}
    return ContourTable(columns, {"database": "visual_atom", "seed": cfg.seed})


def sample_instances(cfg, table: ContourTable, category_ids, instance_ids) -> dict:
    yc, xc = centres(cfg.seed, INSTANCE_STREAM, category_ids, instance_ids, 0, 2, cfg.size, cfg.start_pos)
    return {"r0": table["r0"][category_ids].astype(np.float64), "sx": table["sx"][category_ids],
            "sy": table["sy"][category_ids], "xc": xc, "yc": yc}
