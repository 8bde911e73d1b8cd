"""What a 3D IFS backend receives (ofdb3d, exfractaldb): settings, models to build and views to draw.

A model is a point cloud: the chaos game of one system (12 parameters and p per map) started at the
origin, the start not stored, on uniforms drawn from Philox keyed by (category, model); normalised to
[-1, 1] with one global min and max, then centred by the coordinate sums divided by `n_points` (the
originals' quirk: one more than the points there are), and finally stored as float32 (the originals'
PLY round trip). A view is a 4x4 projection-times-view matrix; many views share one model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tables.ifs import check_probabilities

MAX_MAPS = 7
WIDTH = 13  # a .. l, p


@dataclass(frozen=True)
class Settings3D:
    size: int  # image side (the originals' img_size)
    n_points: int  # chaos-game length, the start included (the originals' point_num: 9,999 points kept)
    seed: int
    stream: int  # Philox stream id of the models' chaos-game uniforms
    database: str = "ofdb3d"  # whose CUDA module (csrc/<database>.cu) renders it


@dataclass(frozen=True)
class ViewBatch:
    systems: np.ndarray  # [U, 7, 13] float64, rows past n_maps unused
    n_maps: np.ndarray  # [U] int64
    model_key: np.ndarray  # [U, 2] uint32: (category, model) counter words of each model's uniforms
    system_of: np.ndarray  # [B] int64: the model each image views
    mvp: np.ndarray  # [B, 4, 4] float64: clip = mvp @ (x, y, z, 1)
    model_index: np.ndarray | None = None  # [U] int64: each system's row in a built model table (cuda)

    @property
    def size(self) -> int:
        return int(self.system_of.shape[0])


def pack_systems(systems: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """[N_i, 13] systems -> ([U, 7, 13], [U])."""
    packed = np.zeros((len(systems), MAX_MAPS, WIDTH))
    n_maps = np.zeros(len(systems), dtype=np.int64)
    for i, s in enumerate(systems):
        s = np.asarray(s, dtype=np.float64)
        if s.ndim != 2 or s.shape[1] != WIDTH or not 1 <= s.shape[0] <= MAX_MAPS:
            raise ValueError(f"a 3D IFS system is an [N, 13] array with 1 <= N <= {MAX_MAPS}, got {s.shape}")
        check_probabilities(s[:, -1])
        packed[i, : s.shape[0]] = s
        n_maps[i] = s.shape[0]
    return packed, n_maps
