"""Per-sample augmentation parameters: NumPy draws from Philox, applied later by the pipeline.

Sample g (the stream's sample id, a 64-bit index) reads a fixed block of words keyed by (seed, "augment")
at counter (g mod 2**32, g >> 32), so its parameters depend on nothing else: not the batch, the rank
or the backend. The laws are timm 0.4.12's (the transform every FDSL paper trained with):

- RandomResizedCropAndInterpolation: 10 attempts of area U(scale)·H·W and aspect exp(U(log ratio)),
  w = round(sqrt(area·aspect)), h = round(sqrt(area / aspect)), accepted when both fit, position
  U{0..H-h} × U{0..W-w}; else the central crop clamped to the ratio range.
- flips: U < p.
- RandAugment: per layer an op drawn uniformly with replacement, applied when U < op_prob (timm skips
  when U > p), magnitude N(m, mstd) clipped to [0, 10], negated with probability 1/2.
- RandomErasing (one box): applied when U < reprob; 10 attempts of area U(0.02, 1/3)·S² and aspect
  exp(U(log 0.3, log 1/0.3)), accepted when w < S and h < S (strict, as timm), position uniform.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import rng
from .config import AugmentConfig
from .randaugment_ref import OPS, op_argument

STREAM = "augment"
ATTEMPTS = 10
MAX_LAYERS = 4
# word layout of one sample
_RRC, _FLIP, _RA, _ERASE_P, _ERASE, _NOISE = 0, 60, 62, 86, 87, 147
N_WORDS = 152
_ERASE_AREA = (0.02, 1.0 / 3.0)
_ERASE_LOG_ASPECT = (math.log(0.3), math.log(1.0 / 0.3))


@dataclass(frozen=True)
class AugmentParams:
    """Everything random about a batch of B augmented samples."""

    boxes: np.ndarray  # [B, 4] int64: top, left, height, width of the crop in the native image
    flips: np.ndarray  # [B, 2] bool: horizontal, vertical
    ops: np.ndarray  # [B, L] int64: index into randaugment_ref.OPS per layer, -1 = not applied
    args: np.ndarray  # [B, L] float64: each op's argument (randaugment_ref.op_argument)
    erase: np.ndarray  # [B, 4] int64: top, left, height, width of the erased box (height 0 = none)
    noise_seed: np.ndarray  # [B] uint64: key of the per-pixel erasing noise


def _u32(words) -> np.ndarray:
    """U[0, 1) from one 32-bit word."""
    return np.asarray(words, dtype=np.float64) / 4294967296.0


def _uniform(words_hi, words_lo, lo, hi) -> np.ndarray:
    return lo + (hi - lo) * rng.uniform53(words_hi, words_lo)


def _inclusive(words, n) -> np.ndarray:
    """U{0..n} per element (n an int array >= 0)."""
    return ((np.asarray(words, dtype=np.uint64) * (np.asarray(n, dtype=np.uint64) + np.uint64(1)))
            >> np.uint64(32)).astype(np.int64)


def crop_boxes(words: np.ndarray, height: int, width: int, scale, ratio) -> np.ndarray:
    """timm's random-resized-crop boxes from words [B, 60]: int64 [B, 4]."""
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    target = _uniform(words[:, 0:60:6], words[:, 1:60:6], scale[0], scale[1]) * area  # [B, 10]
    aspect = np.exp(_uniform(words[:, 2:60:6], words[:, 3:60:6], *log_ratio))
    w = np.round(np.sqrt(target * aspect)).astype(np.int64)
    h = np.round(np.sqrt(target / aspect)).astype(np.int64)
    ok = (w <= width) & (h <= height) & (w >= 1) & (h >= 1)
    first = np.argmax(ok, axis=1)
    rows = np.arange(words.shape[0])
    h, w = h[rows, first], w[rows, first]
    top = _inclusive(words[:, 4:60:6][rows, first], height - h)
    left = _inclusive(words[:, 5:60:6][rows, first], width - w)
    # the fallback: the central crop within the ratio range
    in_ratio = width / height
    if in_ratio < min(ratio):
        fw, fh = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        fw, fh = int(round(height * max(ratio))), height
    else:
        fw, fh = width, height
    none = ~ok.any(axis=1)
    h, w = np.where(none, fh, h), np.where(none, fw, w)
    top, left = np.where(none, (height - fh) // 2, top), np.where(none, (width - fw) // 2, left)
    return np.stack([top, left, h, w], axis=1).astype(np.int64)


def erase_boxes(words: np.ndarray, size: int, apply: np.ndarray) -> np.ndarray:
    """timm's one-box random erasing on a size × size output, from words [B, 60]: int64 [B, 4]."""
    area = float(size * size)
    target = _uniform(words[:, 0:60:6], words[:, 1:60:6], *_ERASE_AREA) * area
    aspect = np.exp(_uniform(words[:, 2:60:6], words[:, 3:60:6], *_ERASE_LOG_ASPECT))
    h = np.round(np.sqrt(target * aspect)).astype(np.int64)
    w = np.round(np.sqrt(target / aspect)).astype(np.int64)
    ok = (w < size) & (h < size)
    first = np.argmax(ok, axis=1)
    rows = np.arange(words.shape[0])
    h, w = h[rows, first], w[rows, first]
    top = _inclusive(words[:, 4:60:6][rows, first], size - h)
    left = _inclusive(words[:, 5:60:6][rows, first], size - w)
    keep = apply & ok.any(axis=1)
    return np.where(keep[:, None], np.stack([top, left, h, w], axis=1), 0).astype(np.int64)


def randaugment(words: np.ndarray, config: AugmentConfig) -> tuple[np.ndarray, np.ndarray]:
    """Ops and arguments of `config.randaugment` layers from words [B, 24]: ([B, L] int64, [B, L] float64)."""
    layers = config.randaugment
    b = words.shape[0]
    if layers == 0:
        return np.zeros((b, 0), np.int64), np.zeros((b, 0), np.float64)
    w = words[:, : 6 * layers].reshape(b, layers, 6)
    ops = rng.bounded(w[..., 0], len(OPS))
    applied = _u32(w[..., 1]) < config.op_prob
    u1 = (np.asarray(w[..., 2], np.float64) + 1.0) / 4294967296.0  # (0, 1]: log is finite
    gauss = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * _u32(w[..., 3]))
    magnitude = np.clip(config.magnitude + config.magnitude_std * gauss, 0.0, 10.0)
    negate = _u32(w[..., 4]) < 0.5
    args = op_argument(ops, magnitude, negate)
    return np.where(applied, ops, -1).astype(np.int64), np.where(applied, args, 0.0)


def draw(seed: int, sample_ids, native_hw: tuple[int, int], config: AugmentConfig) -> AugmentParams:
    """The augmentation parameters of samples `sample_ids` (int [B], the stream's sample ids)."""
    g = np.asarray(sample_ids, dtype=np.uint64).reshape(-1)
    words = rng.philox_words(seed, rng.stream_id(STREAM), g & np.uint64(0xFFFFFFFF), g >> np.uint64(32), N_WORDS)
    words = words.reshape(g.shape[0], N_WORDS)
    h, w = native_hw
    if config.crop:
        boxes = crop_boxes(words[:, _RRC:_FLIP], h, w, config.scale, config.ratio)
    else:
        boxes = np.tile(np.array([0, 0, h, w], dtype=np.int64), (g.shape[0], 1))
    flips = np.stack([_u32(words[:, _FLIP]) < config.hflip, _u32(words[:, _FLIP + 1]) < config.vflip], axis=1)
    ops, args = randaugment(words[:, _RA:_ERASE_P], config)
    apply = _u32(words[:, _ERASE_P]) < config.reprob
    erase = erase_boxes(words[:, _ERASE:_NOISE], config.size, apply)
    noise_seed = (words[:, _NOISE].astype(np.uint64) << np.uint64(32)) | words[:, _NOISE + 1].astype(np.uint64)
    return AugmentParams(boxes, flips, ops, args, erase, noise_seed)
