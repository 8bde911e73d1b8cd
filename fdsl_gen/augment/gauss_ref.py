"""Standard normal deviates from two Philox words, in float32, bit-exact on every backend: the reference.

Box–Muller, z = sqrt(-2 ln u1) · cos(2π i2 / 2³²) with u1 = (float32(i1) + 1) · 2⁻³², built only from
IEEE basic operations (+, -, *, correctly rounded / and sqrt, integer and bit operations), each in a
fixed order and never fused, so NumPy float32 (elementwise ops are correctly rounded) and a GPU kernel
compiled without FMA contraction (`normalize_triton`) give the same bits. `normalize_triton` must equal this
file bit for bit; tests/test_augment.py checks both that and the accuracy below.

ln x (x in (0, 1], normal): x = 2^e · m with m in [√½, √2) from the exponent and mantissa bits;
s = (m - 1) / (m + 1) (m - 1 is exact, Sterbenz), ln m = 2 atanh s = 2s + 2s·z·P(z), z = s², where
P(z) = 1/3 + z/5 + z²/7 + z³/9 is atanh's Taylor series (|s| <= 0.1716: the first term left out is
s¹⁰/11 < 2e-9 of the result), coefficients rounded to float32, Horner's order; e·ln 2 is added as
e·LN2_HI (exact: 16 significant bits, |e| <= 126) + e·LN2_LO. Measured over every float32 in [2⁻³², 1]:
at most 1.68 ulps (float32 spacing at the true value) from float64 np.log.

cos(2π i2 / 2³²): the top 3 bits of the word pick the octant o; the low 29 bits r give
g = (o odd ? 2²⁹ - r : r) · 2⁻²⁹ in [0, 1] (one rounding, the int → float32 conversion), and
cos = ±cos(πg/4) (o = 0, 3, 4, 7) or ±sin(πg/4) (o = 1, 2, 5, 6), negative for o = 2..5. Both are
Taylor polynomials in g with coefficients (∓(π/4)^k / k!) rounded to float32, cos through g¹⁰ and
sin through g⁹ (next terms below 2e-10 and 2e-9 of the result). Measured over 2²⁴ words spread over
the circle and 10⁷ random words: at most 2.37 ulps from float64 np.cos where |cos| > 2⁻¹⁰ (the
float32 evaluation up to 1.74, the rounding of g up to 0.79), at most 1.05e-7 absolute everywhere.
The deviate z (|z| <= 6.66) is then within 6.4e-7 of float64 Box–Muller on the same u1.
"""

from __future__ import annotations

import math

import numpy as np

F = np.float32
# ln: atanh series 2s(1 + z/3 + z²/5 + z³/7 + z⁴/9), z = s²
LN_C3, LN_C5, LN_C7, LN_C9 = F(1 / 3), F(1 / 5), F(1 / 7), F(1 / 9)
SQRT_2 = F(math.sqrt(2.0))
LN2_HI = F(0.693145751953125)  # ln 2 to 16 bits (0x3F317180): e · LN2_HI is exact
LN2_LO = F(math.log(2.0) - 0.693145751953125)
# cos(π g / 4) = Σ COS[k] g^(2k), sin(π g / 4) = g Σ SIN[k] g^(2k)
COS = tuple(F((-1) ** k * (math.pi / 4) ** (2 * k) / math.factorial(2 * k)) for k in range(6))
SIN = tuple(F((-1) ** k * (math.pi / 4) ** (2 * k + 1) / math.factorial(2 * k + 1)) for k in range(5))
TWO_M32 = F(2.0**-32)
TWO_M29 = F(2.0**-29)


def ln(x: np.ndarray) -> np.ndarray:
    """Natural log of normal float32 x in (0, 1], float32, bit-exact as the Triton twin."""
    x = np.asarray(x, dtype=F)
    bits = x.view(np.int32)
    e = (bits >> 23) - 127
    m = ((bits & 0x7FFFFF) | 0x3F800000).view(F)  # [1, 2)
    big = m > SQRT_2
    m = np.where(big, m * F(0.5), m)
    e = np.where(big, e + 1, e).astype(F)
    f = m - F(1.0)
    s = f / (f + F(2.0))
    z = s * s
    p = ((LN_C9 * z + LN_C7) * z + LN_C5) * z + LN_C3
    t = s + s
    lnm = t + t * (z * p)
    return e * LN2_HI + (e * LN2_LO + lnm)


def cos_turn(word: np.ndarray) -> np.ndarray:
    """cos(2π word / 2³²) of uint32 words, float32, bit-exact as the Triton twin."""
    word = np.asarray(word, dtype=np.uint32)
    o = (word >> np.uint32(29)).astype(np.int32)
    r = (word & np.uint32(0x1FFFFFFF)).astype(np.int32)
    g = np.where((o & 1) != 0, 0x20000000 - r, r).astype(F) * TWO_M29
    z = g * g
    c = ((((COS[5] * z + COS[4]) * z + COS[3]) * z + COS[2]) * z + COS[1]) * z + COS[0]
    s = g * ((((SIN[4] * z + SIN[3]) * z + SIN[2]) * z + SIN[1]) * z + SIN[0])
    value = np.where(((o + 1) & 2) != 0, s, c)
    return value * np.where(((o + 2) & 4) != 0, F(-1.0), F(1.0))  # a product, so a zero's sign is defined


def normal(i1: np.ndarray, i2: np.ndarray) -> np.ndarray:
    """N(0, 1) deviates from uint32 words (i1, i2) by Box–Muller: float32, the shape of i1 and i2."""
    u1 = (np.asarray(i1, dtype=np.uint32).astype(F) + F(1.0)) * TWO_M32  # (0, 1]: the log is finite
    return np.sqrt(F(-2.0) * ln(u1)) * cos_turn(i2)
