"""The fixed inputs shared by every 2D IFS renderer (fractaldb, ofdb, onepfrac) and every backend.

- The map-choice sequence: the originals re-seed NumPy's legacy generator with 100 right before each
  chaos game and draw `iteration` uniforms, so every render of every category uses the same sequence
  (docs/spec/fractals.md §1.3). A longer sequence starts with the shorter one, so one cached array
  serves every point count.
- The colour table of the `*_color` draw types: point i gets entry i mod 128 (docs/spec/fractals.md §1.4),
  computed here once with the original's float64 formula, in its order of operations.
"""

from __future__ import annotations

import math
import threading

import numpy as np

MAP_SEQUENCE_SEED = 100
PAD = 6  # pixels left free on each side by the coordinate rescale
GRAY = 127  # the gray level of the `*_gray` draw types
DRAW_TYPES = ("point_gray", "patch_gray", "point_color", "patch_color")

_lock = threading.Lock()
_sequence = np.zeros(0, dtype=np.float64)


def map_sequence(n_points: int) -> np.ndarray:
    """The first `n_points` uniforms of legacy NumPy seeded with 100: float64 [n_points], read-only."""
    global _sequence
    with _lock:
        if _sequence.shape[0] < n_points:
            seq = np.random.RandomState(MAP_SEQUENCE_SEED).random_sample(n_points)
            seq.flags.writeable = False
            _sequence = seq
        return _sequence[:n_points]


def _hsv_entry(i: int, n_div: int = 128) -> tuple[int, int, int]:
    """(R, G, B) written for point index i: HSV with S = V = 0.75, hue from i, channels as the original."""
    s = 0.75
    hue = 2.0 * math.pi * (float(i % n_div) / float(n_div))
    if hue >= 2.0 * math.pi:
        hue -= 2.0 * math.pi
    h = math.floor((3.0 / math.pi) * hue)
    v = 0.75
    p = v * (1.0 - s)
    q = v * (1.0 - s * ((3.0 / math.pi) * hue - h))
    t = v * (1.0 - s * ((1.0 - (3.0 / math.pi) * hue) + h))
    v8, p8, q8, t8 = (int(x * 255.0) for x in (v, p, q, t))  # uint8() of a value in [0, 255]: truncation
    # The original builds a B, G, R triple and writes it into an RGB image unchanged (a channel swap).
    return [(p8, t8, v8), (p8, v8, q8), (t8, v8, p8), (v8, q8, p8), (v8, p8, t8), (q8, p8, v8)][h]


COLOR_TABLE = np.array([_hsv_entry(i) for i in range(128)], dtype=np.uint8)  # [128, 3]
COLOR_TABLE.flags.writeable = False


def draw_type_parts(draw_type: str) -> tuple[bool, bool]:
    """(patch, color) flags of a draw type; ValueError for an unknown one."""
    if draw_type not in DRAW_TYPES:
        raise ValueError(f"draw type must be one of {', '.join(DRAW_TYPES)}, got {draw_type!r}")
    return draw_type.startswith("patch"), draw_type.endswith("color")
