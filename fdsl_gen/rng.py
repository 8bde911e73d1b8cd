"""The counter-based generator (Philox-4x32-10) and the seeding scheme: the NumPy reference.

Every random draw that fdsl-gen makes itself (patch patterns, native searches, perturbations, ...)
comes from Philox-4x32-10 (Salmon et al., SC'11), so that a draw is a pure function of where it is
used, never of the order in which work happens:

    key     = (seed, stream id)                      two 32-bit words
    counter = (step low, step high, instance, category)   four 32-bit words

`stream id` names a purpose ("fractaldb/patch", "ifs2d/search", ...) so that two purposes never share
words. One Philox call yields four 32-bit words; word w of a sequence is word w % 4 of step w // 4.
The numba backend (`fdsl_gen.backends.numba_philox`) and, later, the GPU backends implement the same
function and are tested against this one and against the published known-answer vectors.
"""

from __future__ import annotations

import zlib

import numpy as np

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
_MASK32 = np.uint64(0xFFFFFFFF)

SEED_MAX = 2**32 - 1


def stream_id(purpose: str) -> int:
    """The 32-bit stream id of a purpose string (CRC-32 of its UTF-8 bytes): stable across runs."""
    return zlib.crc32(purpose.encode("utf-8")) & 0xFFFFFFFF


def check_seed(seed: int) -> int:
    """Return `seed` as int if it is a valid 32-bit unsigned seed, else raise ValueError."""
    seed = int(seed)
    if not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed must be in [0, {SEED_MAX}], got {seed}")
    return seed


def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox-4x32-10 on arrays (broadcast), the reference implementation.

    Args:
        c0, c1, c2, c3: counter words, integers or arrays of values in [0, 2**32).
        k0, k1: key words, likewise.

    Returns:
        Four uint32 arrays (the output words), broadcast to a common shape.
    """
    c0, c1, c2, c3, k0, k1 = (np.asarray(v, dtype=np.uint64) for v in (c0, c1, c2, c3, k0, k1))
    m0, m1 = np.uint64(PHILOX_M0), np.uint64(PHILOX_M1)
    w0, w1 = np.uint64(PHILOX_W0), np.uint64(PHILOX_W1)
    for r in range(10):
        if r:
            k0 = (k0 + w0) & _MASK32
            k1 = (k1 + w1) & _MASK32
        p0 = m0 * c0  # 32 x 32 -> 64 bits: exact in uint64
        p1 = m1 * c2
        c0, c1, c2, c3 = (
            (p1 >> np.uint64(32)) ^ c1 ^ k0,
            p1 & _MASK32,
            (p0 >> np.uint64(32)) ^ c3 ^ k1,
            p0 & _MASK32,
        )
    return tuple(np.asarray(v, dtype=np.uint32) for v in np.broadcast_arrays(c0, c1, c2, c3))


def philox_words(seed: int, stream: int, category, instance, n_words: int) -> np.ndarray:
    """The first `n_words` 32-bit words of the sequence keyed by (seed, stream) at (category, instance).

    Args:
        seed, stream: the key.
        category, instance: integers or arrays of shape [B] (broadcast together).
        n_words: how many words of each sequence.

    Returns:
        uint32 array [B, n_words] (or [n_words] for scalar category and instance).
    """
    category = np.asarray(category, dtype=np.uint64)
    instance = np.asarray(instance, dtype=np.uint64)
    scalar = category.ndim == 0 and instance.ndim == 0
    category, instance = np.broadcast_arrays(np.atleast_1d(category), np.atleast_1d(instance))
    n_steps = (n_words + 3) // 4
    step = np.arange(n_steps, dtype=np.uint64)
    out = philox4x32_10(
        step[None, :] & _MASK32,
        step[None, :] >> np.uint64(32),
        instance[:, None],
        category[:, None],
        seed,
        stream,
    )
    words = np.stack(out, axis=-1).reshape(category.shape[0], n_steps * 4)[:, :n_words]
    return words[0] if scalar else words


def uniform53(hi_word, lo_word) -> np.ndarray:
    """A float64 in [0, 1) from two 32-bit words (53 random bits; NumPy's legacy formula, exact)."""
    a = np.asarray(hi_word, dtype=np.uint64) >> np.uint64(5)
    b = np.asarray(lo_word, dtype=np.uint64) >> np.uint64(6)
    return (a.astype(np.float64) * 67108864.0 + b.astype(np.float64)) / 9007199254740992.0


def bounded(word, n: int) -> np.ndarray:
    """An integer in [0, n) from one 32-bit word by multiply-shift (bias below n / 2**32)."""
    return ((np.asarray(word, dtype=np.uint64) * np.uint64(n)) >> np.uint64(32)).astype(np.int64)


class WordStream:
    """Sequential draws from one (seed, stream, category, instance) word sequence, for parameter sampling.

    Integers take one word each (`bounded`), reals two (`uniform53`). The sequence is generated in blocks
    as needed, so a draw's value depends only on how many words were taken before it.
    """

    _BLOCK = 64

    def __init__(self, seed: int, purpose: str, category: int, instance: int = 0):
        self._key = (seed, stream_id(purpose), category, instance)
        self._words = np.zeros(0, dtype=np.uint32)
        self._next = 0

    def _take(self, n: int) -> np.ndarray:
        need = self._next + n
        if need > self._words.shape[0]:
            size = max(need, self._words.shape[0] + self._BLOCK)
            self._words = philox_words(*self._key, size)
        out = self._words[self._next : need]
        self._next = need
        return out

    def integer(self, lo: int, hi: int) -> int:
        """Uniform integer in [lo, hi], inclusive."""
        return lo + int(bounded(self._take(1)[0], hi - lo + 1))

    def uniform(self, lo: float = 0.0, hi: float = 1.0, n: int | None = None):
        """U(lo, hi) as lo + (hi - lo) * u (NumPy's and Python's formula); n values as an array if n is given."""
        w = self._take(2 * (n or 1))
        vals = lo + (hi - lo) * uniform53(w[0::2], w[1::2])
        return vals if n is not None else float(vals[0])
