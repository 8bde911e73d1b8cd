"""The 1-D gradient noise the contour originals call (`pnoise1` of the `noise` package, default arguments).

Definition (docs/spec/contours.md §1.6), all in float32, no fused multiply-add:
x = float32(u); i = floor(x) mod 1024, then its low 8 bits, and i + 1 likewise; t = x - floor(x);
fade = t*t*t * (t * (t*6 - 15) + 10); gradient of hash h: (h & 7) + 1, or -1 when bit 3 of h is set;
P = lerp(fade, g(PERM[i]) * t, g(PERM[i+1]) * (t - 1)) * 0.4, lerp(f, a, b) = a + f * (b - a).
PERM is Ken Perlin's reference permutation. Inputs here are never negative (u in [0, 10000]).
"""

from __future__ import annotations

import numpy as np

PERM = np.array([
    151, 160, 137, 91, 90, 15, 131, 13, 201, 95, 96, 53, 194, 233, 7, 225, 140, 36, 103, 30, 69, 142, 8, 99, 37,
    240, 21, 10, 23, 190, 6, 148, 247, 120, 234, 75, 0, 26, 197, 62, 94, 252, 219, 203, 117, 35, 11, 32, 57, 177,
    33, 88, 237, 149, 56, 87, 174, 20, 125, 136, 171, 168, 68, 175, 74, 165, 71, 134, 139, 48, 27, 166, 77, 146,
    158, 231, 83, 111, 229, 122, 60, 211, 133, 230, 220, 105, 92, 41, 55, 46, 245, 40, 244, 102, 143, 54, 65, 25,
    63, 161, 1, 216, 80, 73, 209, 76, 132, 187, 208, 89, 18, 169, 200, 196, 135, 130, 116, 188, 159, 86, 164, 100,
    109, 198, 173, 186, 3, 64, 52, 217, 226, 250, 124, 123, 5, 202, 38, 147, 118, 126, 255, 82, 85, 212, 207, 206,
    59, 227, 47, 16, 58, 17, 182, 189, 28, 42, 223, 183, 170, 213, 119, 248, 152, 2, 44, 154, 163, 70, 221, 153,
    101, 155, 167, 43, 172, 9, 129, 22, 39, 253, 19, 98, 108, 110, 79, 113, 224, 232, 178, 185, 112, 104, 218,
    246, 97, 228, 251, 34, 242, 193, 238, 210, 144, 12, 191, 179, 162, 241, 81, 51, 145, 235, 249, 14, 239, 107,
    49, 192, 214, 31, 181, 199, 106, 157, 184, 84, 204, 176, 115, 121, 50, 45, 127, 4, 150, 254, 138, 236, 205, 93,
    222, 114, 67, 29, 24, 72, 243, 141, 128, 195, 78, 66, 215, 61, 156, 180,
], dtype=np.int64)
PERM.flags.writeable = False

# Gradient of each permutation entry, as float32: (h & 7) + 1, or -1 where bit 3 is set (the library's rule).
GRADIENT = np.where(PERM & 8, -1.0, (PERM & 7) + 1.0).astype(np.float32)
GRADIENT.flags.writeable = False

_F = np.float32


def pnoise1(u) -> np.ndarray:
    """P(u) for float64 positions u >= 0 (array or scalar): float32 results."""
    x = np.asarray(u, dtype=np.float64).astype(np.float32)
    fl = np.floor(x)
    i = fl.astype(np.int64) % 1024
    ii = (i + 1) % 1024
    t = x - fl
    fade = t * t * t * (t * (t * _F(6) - _F(15)) + _F(10))
    a = GRADIENT[i & 255] * t
    b = GRADIENT[ii & 255] * (t - _F(1))
    return (a + fade * (b - a)) * _F(0.4)
