"""What a 2D IFS backend receives: the render settings and a batch of images to draw.

A batch names its unique IFS systems once (`systems`) and lets many images share one (`system_of`),
because the originals draw many images from one chaos game: FractalDB's 10 patch redraws and 4 flips
of a weight row all share its points. Every backend (`render_ref`, `render_numba`, later the GPU ones)
takes exactly these two objects and returns uint8 [B, C, H, W].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tables.ifs import check_probabilities
from .draw_constants import PAD, draw_type_parts

MAX_MAPS = 7  # the search draws N in [2, 7]; systems are padded to this many rows


@dataclass(frozen=True)
class RenderSettings:
    """How every image of a batch is drawn."""

    size: int  # side of the square canvas in pixels (the originals' image_size_x = image_size_y)
    n_points: int  # chaos-game points per image, the origin included (the originals' `iteration`)
    draw_type: str  # point_gray | patch_gray | point_color | patch_color
    seed: int  # key word 0 of the patch-pattern generator
    patch_stream: int  # key word 1: the Philox stream id of this database's patch patterns
    pad: int = PAD  # free border of the coordinate rescale
    database: str = "fractaldb"  # whose CUDA module (csrc/<database>.cu) renders it

    def __post_init__(self):
        draw_type_parts(self.draw_type)
        if self.size <= 2 * self.pad:
            raise ValueError(f"size must exceed twice the pad ({2 * self.pad}), got {self.size}")
        if self.n_points < 1:
            raise ValueError(f"n_points must be >= 1, got {self.n_points}")

    @property
    def patch(self) -> bool:
        return draw_type_parts(self.draw_type)[0]

    @property
    def color(self) -> bool:
        return draw_type_parts(self.draw_type)[1]

    @property
    def channels(self) -> int:
        return 3 if self.color else 1


@dataclass(frozen=True)
class IFSBatch:
    """A batch of B images drawn from U unique systems."""

    systems: np.ndarray  # [U, 7, 7] float64: rows a, b, c, d, e, f, p per map; rows past n_maps unused
    n_maps: np.ndarray  # [U] int64, in [1, 7]
    system_of: np.ndarray  # [B] int64, index into systems
    flip: np.ndarray  # [B] int64, 0..3: the originals' flip0..flip3
    patch_key: np.ndarray  # [B, 2] uint32: (category, variant) counter words of the patch patterns
    table_index: np.ndarray | None = None  # [U] int64: each system's row in a traced table (cuda backend)

    def __post_init__(self):
        u, b = self.systems.shape[0], self.system_of.shape[0]
        assert self.systems.shape == (u, MAX_MAPS, 7) and self.systems.dtype == np.float64
        assert self.n_maps.shape == (u,) and self.flip.shape == (b,) and self.patch_key.shape == (b, 2)
        assert self.table_index is None or self.table_index.shape == (u,)

    @property
    def size(self) -> int:
        return int(self.system_of.shape[0])


def pack_systems(systems: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack a list of [N_i, 7] systems into the padded ([U, 7, 7], [U]) form of `IFSBatch`."""
    packed = np.zeros((len(systems), MAX_MAPS, 7), dtype=np.float64)
    n_maps = np.zeros(len(systems), dtype=np.int64)
    for i, s in enumerate(systems):
        s = np.asarray(s, dtype=np.float64)
        if s.ndim != 2 or s.shape[1] != 7 or not 1 <= s.shape[0] <= MAX_MAPS:
            raise ValueError(f"an IFS system is an [N, 7] array with 1 <= N <= {MAX_MAPS}, got {s.shape}")
        check_probabilities(s[:, 6])
        packed[i, : s.shape[0]] = s
        n_maps[i] = s.shape[0]
    return packed, n_maps
