"""Python's `random` module on MT19937 words: the stream of the released RCDB and VisualAtom scripts.

docs/spec/contours.md §2.7: `random.seed(s)` for a small int s is MT19937 `init_by_array([s])`, which is
numpy's `MT19937()._legacy_seeding([s])`. On its 32-bit words w (in order) Python computes
    random()          = ((w1 >> 5) * 2**26 + (w2 >> 6)) / 2**53        (two words)
    uniform(a, b)     = a + (b - a) * random()
    randint(a, b)     = a + r, n = b - a + 1, k = n.bit_length(): r = w >> (32 - k), one word per try,
                        repeated until r < n (so a call takes a data-dependent number of words)
    expovariate(l)    = -log(1.0 - random()) / l

Two implementations of the same draws, on a state held as uint32 [625] (the 624 key words, then the
position of the next word, as numpy's `MT19937.state`):
* numba functions (`word`, `skip`, `random`, `uniform`, `randint`, `expovariate`) for the replay's scan
  and renderer: `skip` only twists (tempering matters for words that are read), so passing over the
  noise words of an orbit costs one twist per 624 words;
* `WordStream`, NumPy on numpy's own MT19937 words drawn in bulk with `random_raw`, for the reference
  backend (and an independent check of the numba generator).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

N, M = 624, 397
STATE_WORDS = N + 1  # the key, then the position
_U = np.uint64
_UPPER, _LOWER, _MATRIX = _U(0x80000000), _U(0x7FFFFFFF), _U(0x9908B0DF)
_TB, _TC = _U(0x9D2C5680), _U(0xEFC60000)
_ONE = _U(1)
_S5, _S6, _S7, _S11, _S15, _S18, _S32 = _U(5), _U(6), _U(7), _U(11), _U(15), _U(18), _U(32)

_jit = nb.njit(cache=True, error_model="numpy", nogil=True)
# Inlined into every caller: an array passed to a call that is not inlined is reference-counted (atomics), which
# costs ten times a word. The draws below take one call each (a few per orbit); the noise comes from `fill`.
_inline = nb.njit(cache=True, error_model="numpy", nogil=True, inline="always")


def seeded_state(seed: int) -> np.ndarray:
    """uint32 [625]: the state after Python's `random.seed(seed)` (init_by_array([seed]); position 624)."""
    bits = np.random.MT19937()
    bits._legacy_seeding([seed])
    st = bits.state["state"]
    return np.concatenate([st["key"].astype(np.uint32), np.array([st["pos"]], dtype=np.uint32)])


@_inline
def _twist(st):
    """The next 624 key words in place (the generator's recurrence, in its order)."""
    for kk in range(N - M):
        y = (_U(st[kk]) & _UPPER) | (_U(st[kk + 1]) & _LOWER)
        st[kk] = _U(st[kk + M]) ^ (y >> _ONE) ^ (_MATRIX * (y & _ONE))
    for kk in range(N - M, N - 1):
        y = (_U(st[kk]) & _UPPER) | (_U(st[kk + 1]) & _LOWER)
        st[kk] = _U(st[kk + M - N]) ^ (y >> _ONE) ^ (_MATRIX * (y & _ONE))
    y = (_U(st[N - 1]) & _UPPER) | (_U(st[0]) & _LOWER)
    st[N - 1] = _U(st[M - 1]) ^ (y >> _ONE) ^ (_MATRIX * (y & _ONE))
    st[N] = 0


@_inline
def _temper(y):
    y ^= y >> _S11
    y ^= (y << _S7) & _TB
    y ^= (y << _S15) & _TC
    return y ^ (y >> _S18)


@_inline
def word(st):
    """The next 32-bit output word (as uint64)."""
    if st[N] >= N:
        _twist(st)
    i = st[N]
    st[N] = i + 1
    return _temper(_U(st[i]))


@_jit
def fill(st, out):
    """The next out.shape[0] words into out (uint32 [n]), in bulk."""
    n = out.shape[0]
    done = 0
    i = np.int64(st[N])
    while done < n:
        if i >= N:
            _twist(st)
            i = 0
        m = min(n - done, N - i)
        for j in range(m):
            out[done + j] = _temper(_U(st[i + j]))
        done += m
        i += m
    st[N] = i


@_jit
def skip(st, n):
    """Pass over n words without tempering them."""
    i = np.int64(st[N])
    while n > 0:
        if i >= N:
            _twist(st)
            i = 0
        step = min(n, N - i)
        i += step
        n -= step
    st[N] = i


@_inline
def random_of(w1, w2):
    """random() from its two words."""
    return (np.float64(_U(w1) >> _S5) * 67108864.0 + np.float64(_U(w2) >> _S6)) * (1.0 / 9007199254740992.0)


@_jit
def random(st):
    """Python's random(): a float64 in [0, 1) from the next two words."""
    w1 = _U(0)
    for j in range(2):  # one inlined copy of `word`, not two
        w = word(st)
        if j == 0:
            w1 = w
    return random_of(w1, w)


@_jit
def uniform(st, a, b):
    return a + (b - a) * random(st)


@_jit
def randint(st, a, b):
    """Python's randint(a, b), a <= b: rejection on the top k bits of each word."""
    n = b - a + 1
    k = 0
    while (n >> k) > 0:
        k += 1
    shift = _S32 - _U(k)
    while True:
        r = np.int64(word(st) >> shift)
        if r < n:
            return a + r


@_jit
def expovariate(st, lambd):
    return -math.log(1.0 - random(st)) / lambd


class WordStream:
    """The same draws in NumPy from numpy's MT19937 (`random_raw` in bulk), starting at a uint32 [625] state."""

    _CHUNK = 1 << 14

    def __init__(self, state: np.ndarray):
        self._bits = np.random.MT19937()
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": np.asarray(state[:N], dtype=np.uint32), "pos": int(state[N])}}
        self._words = np.zeros(0, dtype=np.uint64)
        self._next = 0

    def words(self, n: int) -> np.ndarray:
        """The next n words, uint64 [n]."""
        if self._next + n > self._words.shape[0]:
            fresh = self._bits.random_raw(max(n, self._CHUNK))
            self._words = np.concatenate([self._words[self._next :], fresh])
            self._next = 0
        out = self._words[self._next : self._next + n]
        self._next += n
        return out

    def randoms(self, n: int) -> np.ndarray:
        """n calls of random(): float64 [n]."""
        w = self.words(2 * n)
        return ((w[0::2] >> _S5).astype(np.float64) * 67108864.0 + (w[1::2] >> _S6).astype(np.float64)) \
            * (1.0 / 9007199254740992.0)

    def random(self) -> float:
        return float(self.randoms(1)[0])

    def uniforms(self, a: float, b: float, n: int) -> np.ndarray:
        """n calls of uniform(a, b): float64 [n]."""
        return a + (b - a) * self.randoms(n)

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.random()

    def randint(self, a: int, b: int) -> int:
        n = b - a + 1
        shift = _U(32 - n.bit_length())
        while True:
            r = int(self.words(1)[0] >> shift)
            if r < n:
                return a + r

    def expovariate(self, lambd: float) -> float:
        return -math.log(1.0 - self.random()) / lambd
