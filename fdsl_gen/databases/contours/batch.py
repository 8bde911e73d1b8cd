"""What a contour backend receives (rcdb, visual_atom): render settings and per-image parameters.

Parameters are sampled on the CPU (NumPy, `params.py` of each database); the only randomness drawn inside
a backend is each orbit's gray and noise positions. Native: from Philox keyed by (seed, stream) at
(category, instance); orbit k of an image reads words from step k * orbit_steps(q) on: word 0 its gray,
words 1..q the x-noise positions, words q+1..2q the y-noise positions. Published replay (`mt_state` set):
from the released script's MT19937 stream, continued from the image's state (`replay.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VISUAL_ATOM = 0  # N = P*eta - eta - 0.5 sin(n1 theta) - 0.5 sin(n2 theta); centre added to the start polygon
RCDB = 1  # N = P*eta*2 - eta; centre added when drawing
NOISE_SCALE = 2.3283064365386962890625e-06  # 10000 / 2**32 (exact): a word w gives the position w * this


def orbit_steps(vertices: int) -> int:
    """Philox steps (4 words each) reserved per orbit: 1 gray word + 2 noise words per vertex."""
    return (1 + 2 * vertices + 3) // 4


@dataclass(frozen=True)
class ContourSettings:
    size: int  # canvas side (the originals' image_size)
    kind: int  # VISUAL_ATOM or RCDB: which orbit formula
    background: int  # canvas value before drawing (0 black, 255 white)
    gray_levels: int  # grays drawn uniformly from 0 .. gray_levels - 1, clipped to 255 (RCDB: 257; replay: size/2+1)
    seed: int
    stream: int  # Philox stream id of the orbit draws
    database: str = "visual_atom"  # whose CUDA module (csrc/<database>.cu) renders it


@dataclass(frozen=True)
class ContourBatch:
    """B images, one row per image."""

    vertices: np.ndarray  # [B] int64: q (VisualAtom) or V (RCDB)
    orbits: np.ndarray  # [B] int64: K
    eta: np.ndarray  # [B] float64: noise amplitude
    c: np.ndarray  # [B] float64: constant outward step per orbit (the originals' line_width)
    r0: np.ndarray  # [B] float64: base radius
    sx: np.ndarray  # [B] float64: x stretch
    sy: np.ndarray  # [B] float64: y stretch
    xc: np.ndarray  # [B] float64: centre x (column)
    yc: np.ndarray  # [B] float64: centre y (row)
    n1: np.ndarray  # [B] int64: first wave frequency (VisualAtom; 0 for RCDB)
    n2: np.ndarray  # [B] int64: second wave frequency
    key: np.ndarray  # [B, 2] uint32: (category, instance) counter words of the orbit draws
    mt_state: np.ndarray | None = None  # [B, 625] uint32: published replay, each image's stream before its orbits

    @property
    def size(self) -> int:
        return int(self.vertices.shape[0])
