"""The float end of the pipeline, the reference: uint8 → normalised float, random erasing, channels.

For image b: v / 255, then (v - mean[c]) / std[c] in float32 with correctly rounded divisions, in that
order (timm's ToTensor + Normalize); a gray image gives `channels` equal planes. Inside the erase box
(top, left, h, w) every channel and pixel is replaced by its own N(0, 1) value (timm's RandomErasing,
mode "pixel", on the normalised tensor). The noise of channel c, pixel (y, x) of a size S output reads
Philox-4x32-10 at counter (offset, 0, 0, 0) (offset = (c·S + y)·S + x, low word first), key = the
image's 64-bit noise seed (low, high words), and maps words (i1, i2) by `gauss_ref.normal`
(Box–Muller from IEEE basic operations only). `normalize_triton` must match this bit for bit, noise
included; float16/bfloat16 outputs are the float32 result rounded to nearest even.
"""

from __future__ import annotations

import numpy as np

from .. import rng
from .gauss_ref import normal


def noise(seed: int, channels: int, size: int, top: int, left: int, h: int, w: int) -> np.ndarray:
    """The erasing noise of one image's box: float32 [channels, h, w]."""
    c, y, x = np.meshgrid(np.arange(channels), np.arange(top, top + h), np.arange(left, left + w), indexing="ij")
    offset = ((c * size + y) * size + x).astype(np.uint64)
    i1, i2, _, _ = rng.philox4x32_10(offset & np.uint64(0xFFFFFFFF), offset >> np.uint64(32), 0, 0,
                                     int(seed) & 0xFFFFFFFF, int(seed) >> 32)
    return normal(i1, i2)


def normalize(images: np.ndarray, erase: np.ndarray, noise_seed: np.ndarray, channels: int, mean, std) -> np.ndarray:
    """Normalise, expand channels and erase a batch.

    Args:
        images: uint8 [B, C, S, S] (C = 1 or channels).
        erase: int [B, 4] erase boxes (height 0 = none).
        noise_seed: uint64 [B].
        channels: output channels.
        mean, std: per output channel.

    Returns:
        float32 [B, channels, S, S].
    """
    b, c_in, s, _ = images.shape
    index = np.minimum(np.arange(channels), c_in - 1)
    v = images[:, index].astype(np.float32) / np.float32(255.0)
    out = (v - np.asarray(mean, np.float32)[None, :, None, None]) / np.asarray(std, np.float32)[None, :, None, None]
    for k in range(b):
        top, left, h, w = (int(t) for t in erase[k])
        if h > 0:
            out[k, :, top : top + h, left : left + w] = noise(noise_seed[k], channels, s, top, left, h, w)
    return out
