"""Crop + resample + flip to uint8, the reference: exactly Pillow's 8-bit resize of the cropped image.

For image b the box (top, left, height, width) is cut out of the uint8 source, then resized to the
output size byte for byte as `PIL.Image.resize(size, BICUBIC | BILINEAR)` resizes an 8-bit L or RGB
image (reducing_gap None; torchvision/timm's resized_crop: crop first, then resize), following
libImaging/Resample.c:

- per axis (`coefficients`), float64 in Pillow's expression order: scale = in / out, filterscale =
  max(scale, 1), support = filter support · filterscale; output xx has centre (xx + 0.5) · scale and
  the window xmin = (int)(centre - support + 0.5) >= 0 up to xmax = (int)(centre + support + 0.5) <= in;
  its taps w = filter((x + xmin - centre + 0.5) · (1 / filterscale)) are summed in tap order and
  divided by that sum (when it is not 0), then rounded to fixed point, k = (int)(w · 2²² ± 0.5)
  (PRECISION_BITS = 22, the sign of w);
- a horizontal pass if the width changes and a vertical pass if the height changes, each output byte
  clip8(2²¹ + Σ pixel · k), clip8(v) = v >> 22 clamped to 0..255; the second pass reads the first
  one's bytes. The horizontal pass goes first unless the height shrinks by more than twice as many
  pixels as the width (`vertical_first`: Pillow >= 13, python-pillow/Pillow#9549; older Pillow always
  goes horizontal first, and differs from this by a level here and there in those cases).

Filters: bilinear is the triangle (support 1), bicubic Keys' cubic with a = -0.5 (support 2). Flips
mirror the output; a gray source gives equal planes when more channels are asked. Floats are computed
elementwise, one tap at a time (never np.sum or matmul: the order of a float sum is part of the
result); the integer passes are int64, exact. `resample_triton` must equal this byte for byte.
"""

from __future__ import annotations

import functools
import math

import numpy as np

MODES = {"bilinear": 1.0, "bicubic": 2.0}  # filter support
PRECISION_BITS = 22


def filter_weight(x: np.ndarray, mode: str) -> np.ndarray:
    """Pillow's filter at float64 x, in its expression order."""
    x = np.abs(x)
    if mode == "bilinear":
        return np.where(x < 1.0, 1.0 - x, 0.0)
    a = -0.5
    return np.where(x < 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0,
                    np.where(x < 2.0, (((x - 5.0) * x + 8.0) * x - 4.0) * a, 0.0))


def ksize(in_len: int, out_len: int, mode: str) -> int:
    """Pillow's coefficient count per output of one axis, 2 ceil(support) + 1."""
    return 2 * math.ceil(MODES[mode] * max(in_len / out_len, 1.0)) + 1


@functools.lru_cache(maxsize=256)  # whole-image resizes repeat, and crops of one size
def coefficients(in_len: int, out_len: int, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pillow's fixed-point coefficients of one axis (read-only arrays).

    Returns:
        xmin int64 [out_len], count int64 [out_len], k int64 [out_len, ksize] (zero past count).
    """
    scale = in_len / out_len
    filterscale = max(scale, 1.0)
    support = MODES[mode] * filterscale
    inv = 1.0 / filterscale
    centre = (np.arange(out_len, dtype=np.float64) + 0.5) * scale  # Pillow adds the box origin 0.0 first: exact
    xmin = np.maximum(np.trunc(centre - support + 0.5).astype(np.int64), 0)  # trunc: C's (int)
    count = np.minimum(np.trunc(centre + support + 0.5).astype(np.int64), in_len) - xmin
    taps = ksize(in_len, out_len, mode)
    w = np.zeros((out_len, taps))
    total = np.zeros(out_len)
    for t in range(taps):
        w[:, t] = np.where(t < count, filter_weight(((xmin + t).astype(np.float64) - centre + 0.5) * inv, mode), 0.0)
        total = total + w[:, t]  # in tap order; the zeros past the count change nothing
    w = np.where(total[:, None] != 0.0, w / np.where(total != 0.0, total, 1.0)[:, None], w)
    one = float(1 << PRECISION_BITS)
    k = np.trunc(np.where(w < 0.0, -0.5 + w * one, 0.5 + w * one)).astype(np.int64)
    for a in (xmin, count, k):
        a.flags.writeable = False
    return xmin, count, k


def vertical_first(in_h: int, in_w: int, out_h: int, out_w: int) -> bool:
    """Pillow's pass order: vertical first when the height shrinks by more than twice as many pixels as the width."""
    return in_h >= out_h and in_h - out_h > 2 * (in_w - out_w)


def _pass(planes: np.ndarray, in_len: int, out_len: int, mode: str) -> np.ndarray:
    """One of Pillow's 8-bit passes along the last axis: int64 [..., in_len] -> [..., out_len], values 0..255."""
    xmin, _, k = coefficients(in_len, out_len, mode)
    acc = np.full(planes.shape[:-1] + (out_len,), 1 << (PRECISION_BITS - 1), dtype=np.int64)
    for t in range(k.shape[1]):
        acc += planes[..., np.minimum(xmin + t, in_len - 1)] * k[:, t]  # k is 0 past the count
    return np.clip(acc >> PRECISION_BITS, 0, 255)


def _horizontal(planes: np.ndarray, oh: int, ow: int, mode: str) -> np.ndarray:
    return planes if planes.shape[2] == ow else _pass(planes, planes.shape[2], ow, mode)


def _vertical(planes: np.ndarray, oh: int, ow: int, mode: str) -> np.ndarray:
    return planes if planes.shape[1] == oh else _pass(planes.swapaxes(1, 2), planes.shape[1], oh, mode).swapaxes(1, 2)


def resample(images: np.ndarray, boxes: np.ndarray, flips: np.ndarray, out_hw: tuple[int, int],
             mode: str = "bicubic", channels: int | None = None) -> np.ndarray:
    """Crop, resize (Pillow's 8-bit algorithm) and flip a batch.

    Args:
        images: uint8 [B, C, H, W] (C = 1 or 3).
        boxes: int [B, 4]: top, left, height, width of each crop (inside the image).
        flips: bool [B, 2]: horizontal, vertical flip of each output.
        out_hw: output (height, width).
        mode: bilinear | bicubic.
        channels: output channels (1 or 3; default: the input's).

    Returns:
        uint8 [B, channels, out_h, out_w].
    """
    b, c, _, _ = images.shape
    channels = channels or c
    oh, ow = out_hw
    out = np.empty((b, channels, oh, ow), dtype=np.uint8)
    for i in range(b):
        top, left, bh, bw = (int(v) for v in boxes[i])
        res = images[i, :, top : top + bh, left : left + bw].astype(np.int64)  # [C, bh, bw]
        # Pillow's first pass covers only the rows (columns) the second one reads; the others go unused here
        passes = [_horizontal, _vertical][:: -1 if vertical_first(bh, bw, oh, ow) else 1]
        for apply in passes:
            res = apply(res, oh, ow, mode)
        if flips[i, 0]:
            res = res[:, :, ::-1]
        if flips[i, 1]:
            res = res[:, ::-1, :]
        out[i] = np.repeat(res, channels, axis=0) if c == 1 else res[:channels]
    return out
