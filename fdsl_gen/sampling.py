"""Which sample the stream draws where: epochs, permutations, ranks, workers and the resumable position.

A finite epoch is a list of N = categories × instances dataset indices, permuted by a seeded bijection
(`Permutation`, O(1) memory and time per index), each repeated `repeats` times in a row (timm's
repeated augmentation) and cut to N, then padded by wrapping to whole global steps (DistributedSampler
semantics, or cut with drop_last). Global step s covers positions [P0 + s·W·B, P0 + (s+1)·W·B) of that
list, interleaved over the W ranks: rank r takes positions P0 + (s·B + j)·W + r, j < B. So after any
number of whole steps the consumed positions are a prefix [0, P), whatever W and B were; the state is
(epoch, P) and a resumed run, at any world size, sees exactly the positions an uninterrupted one would.
The infinite stream draws position p's (category, instance) uniformly from Philox at counter p.

Every position also has a 64-bit sample id (epoch << 32 | position, or p for the infinite stream): it
keys the sample's augmentation and the fresh draw of its render's randomness.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import rng
from .errors import UsageError

PERMUTATION_STREAM = "stream/permutation"
INFINITE_STREAM = "stream/infinite"
VARIANT_STREAM = "stream/variant"
MAX_EPOCH_SIZE = 2**32 - 1  # positions are the low word of a sample id
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


class Permutation:
    """A seeded bijection of [0, n): a 4-round Feistel network on the next even power of two, cycle-walked.

    Each epoch has its own round keys (Philox at (seed, PERMUTATION_STREAM), counter epoch).
    """

    ROUNDS = 4

    def __init__(self, n: int, seed: int, epoch: int):
        self.n = int(n)
        bits = max(2, math.ceil(math.log2(max(self.n, 2))))
        self.half = (bits + 1) // 2
        self.mask = np.uint64((1 << self.half) - 1)
        words = rng.philox_words(seed, rng.stream_id(PERMUTATION_STREAM), epoch & 0xFFFFFFFF, epoch >> 32,
                                 2 * self.ROUNDS)
        self.keys = [np.uint64(int(words[2 * k]) << 32 | int(words[2 * k + 1])) for k in range(self.ROUNDS)]

    def _round(self, right: np.ndarray, key: np.uint64) -> np.ndarray:
        x = (right ^ key) * np.uint64(0x9E3779B97F4A7C15) & _M64  # a multiply-xorshift mix
        x ^= x >> np.uint64(29)
        x = x * np.uint64(0xBF58476D1CE4E5B9) & _M64
        x ^= x >> np.uint64(32)
        return x & self.mask

    def _encrypt(self, x: np.ndarray) -> np.ndarray:
        left, right = x >> np.uint64(self.half), x & self.mask
        for key in self.keys:
            left, right = right, left ^ self._round(right, key)
        return (left << np.uint64(self.half)) | right

    def __call__(self, index) -> np.ndarray:
        """π(index) for int64 indices in [0, n)."""
        with np.errstate(over="ignore"):
            x = self._encrypt(np.asarray(index, dtype=np.uint64))
            out = x >= self.n
            while out.any():  # cycle walking: the domain is < 4 n, so a few rounds at most on average
                x[out] = self._encrypt(x[out])
                out = x >= self.n
        return x.astype(np.int64)


@dataclass(frozen=True)
class Plan:
    """The sample layout of one rank's pass: finite epoch `epoch` from position `start`, or the infinite stream."""

    n_categories: int
    n_instances: int
    seed: int
    batch_size: int  # per rank
    rank: int = 0
    world_size: int = 1
    finite: bool = True
    epoch: int = 0
    start: int = 0  # first position of this pass (a multiple of world_size × batch_size at step boundaries)
    drop_last: bool = False
    repeats: int = 1  # repeated augmentation: each permuted index used this many times in a row

    def __post_init__(self):
        if not 0 <= self.rank < self.world_size:
            raise UsageError(f"rank must be in [0, {self.world_size - 1}], got {self.rank}")
        if self.batch_size < 1 or self.repeats < 1:
            raise UsageError("batch_size and repeats must be at least 1")
        if self.finite and self.epoch_size > MAX_EPOCH_SIZE:
            raise UsageError(f"an epoch holds at most {MAX_EPOCH_SIZE} samples, got {self.epoch_size}")

    @functools.cached_property
    def permutation(self) -> Permutation:
        """This epoch's order (its round keys drawn once per pass, not per step)."""
        return Permutation(self.epoch_size, self.seed, self.epoch)

    @property
    def epoch_size(self) -> int:
        return self.n_categories * self.n_instances

    @property
    def global_batch(self) -> int:
        return self.world_size * self.batch_size

    @property
    def steps(self) -> int | None:
        """Steps of this pass on every rank (None: infinite)."""
        if not self.finite:
            return None
        left = max(self.epoch_size - self.start, 0)
        return left // self.global_batch if self.drop_last else -(-left // self.global_batch)

    def positions(self, step: int) -> np.ndarray:
        """This rank's positions at `step` of the pass: int64 [batch_size]."""
        j = np.arange(self.batch_size, dtype=np.int64)
        return self.start + (step * self.batch_size + j) * self.world_size + self.rank

    def samples(self, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(category ids, instance ids, sample ids) of this rank's batch at `step`: int64, int64, uint64 [B]."""
        p = self.positions(step)
        if self.finite:
            index = self.permutation((p % self.epoch_size) // self.repeats)
            cats, insts = np.divmod(index, self.n_instances)
            sample_ids = (np.uint64(self.epoch) << np.uint64(32)) | p.astype(np.uint64)
            return cats, insts, sample_ids
        words = rng.philox_words(self.seed, rng.stream_id(INFINITE_STREAM), p & 0xFFFFFFFF, p >> 32, 2)
        return rng.bounded(words[:, 0], self.n_categories), rng.bounded(words[:, 1], self.n_instances), \
            p.astype(np.uint64)


def variants(seed: int, sample_ids: np.ndarray) -> np.ndarray:
    """The render variant (uint32 [B]) of each sample id: a fresh key for the render's own randomness."""
    g = np.asarray(sample_ids, dtype=np.uint64)
    return rng.philox_words(seed, rng.stream_id(VARIANT_STREAM), g & np.uint64(0xFFFFFFFF), g >> np.uint64(32),
                            1)[:, 0]
