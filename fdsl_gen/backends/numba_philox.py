"""Philox-4x32-10 for numba-compiled code: must equal `fdsl_gen.rng.philox4x32_10` word for word.

All arithmetic is on uint64 holding 32-bit values, with every constant typed, so that numba never
promotes a mixed signed/unsigned expression to float64.
"""

import numba as nb
import numpy as np

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


@nb.njit(cache=True, inline="always")
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """One Philox-4x32-10 block: four counter words and two key words (uint64 < 2**32) -> four words."""
    c0 = np.uint64(c0)
    c1 = np.uint64(c1)
    c2 = np.uint64(c2)
    c3 = np.uint64(c3)
    k0 = np.uint64(k0)
    k1 = np.uint64(k1)
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = _M0 * c0
        p1 = _M1 * c2
        n0 = (p1 >> _S32) ^ c1 ^ k0
        n1 = p1 & _MASK
        n2 = (p0 >> _S32) ^ c3 ^ k1
        n3 = p0 & _MASK
        c0, c1, c2, c3 = n0, n1, n2, n3
    return c0, c1, c2, c3


@nb.njit(cache=True)
def philox_fill(seed, stream, category, instance, out):
    """Fill `out` (uint32 [n]) with the word sequence of (seed, stream) at (category, instance)."""
    n = out.shape[0]
    for step in range((n + 3) // 4):
        s = np.uint64(step)
        w0, w1, w2, w3 = philox4x32_10(s & _MASK, s >> _S32, instance, category, seed, stream)
        base = step * 4
        out[base] = w0
        if base + 1 < n:
            out[base + 1] = w1
        if base + 2 < n:
            out[base + 2] = w2
        if base + 3 < n:
            out[base + 3] = w3


@nb.njit(cache=True, inline="always")
def uniform53(hi_word, lo_word):
    """float64 in [0, 1) from two words; equals `fdsl_gen.rng.uniform53`."""
    a = np.uint64(hi_word) >> np.uint64(5)
    b = np.uint64(lo_word) >> np.uint64(6)
    return (np.float64(a) * 67108864.0 + np.float64(b)) / 9007199254740992.0


@nb.njit(cache=True, inline="always")
def bounded(word, n):
    """Integer in [0, n) from one word by multiply-shift; equals `fdsl_gen.rng.bounded`."""
    return np.int64((np.uint64(word) * np.uint64(n)) >> _S32)
