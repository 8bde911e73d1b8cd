"""Crop + resample + flip + normalise, the reference (NumPy, float64): what the Triton kernel must match.

For each image b, the box (top, left, height, width) of the uint8 source is resampled to the output size
with Pillow's separable antialiasing filter: output pixel o of an axis looks at the source positions
around centre = (o + 0.5) * scale (scale = box / output length), a filter stretched by max(scale, 1) when
shrinking, weights normalised to sum 1 (bilinear: triangle, support 1; bicubic: Keys a = -0.5, support
2). Flips mirror the output. Float outputs are (v / 255 - mean) / std per channel; a gray source gives
three equal channels when three are asked for; uint8 outputs are rounded half up and clipped.
`compute=np.float32` evaluates the same in float32 (the yardstick of the tolerance rule in the tests).
"""

from __future__ import annotations

import functools
import math

import numpy as np

MODES = {"bilinear": 1.0, "bicubic": 2.0}  # filter support


def filter_weight(x, mode: str, compute=np.float64):
    x = np.abs(np.asarray(x, dtype=compute))
    if mode == "bilinear":
        return np.where(x < 1.0, 1.0 - x, 0.0)
    a = -0.5
    return np.where(x < 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0,
                    np.where(x < 2.0, (((x - 5.0) * x + 8.0) * x - 4.0) * a, 0.0))


@functools.lru_cache(maxsize=32)  # whole-image resizes repeat; random crops do not
def axis_weights(start: int, length: int, out_len: int, mode: str, source_len: int, compute=np.float64):
    """[out_len, source_len] (read-only, cached): row o holds the normalised weights of output o."""
    f = compute
    scale = f(length) / f(out_len)
    filterscale = max(scale, f(1.0))
    support = f(MODES[mode]) * filterscale
    centre = (np.arange(out_len, dtype=compute) + f(0.5)) * scale  # [out_len], all outputs at once
    # int() truncates toward zero, as the per-output formula: lo and hi of each output's window
    lo = np.maximum(np.trunc(centre - support + f(0.5)).astype(np.int64), 0)
    hi = np.minimum(np.trunc(centre + support + f(0.5)).astype(np.int64), length)
    n_taps = int((hi - lo).max(initial=0))
    pos = lo[:, None] + np.arange(n_taps)[None, :]  # [out_len, n_taps]
    live = pos < hi[:, None]
    taps = np.where(live, filter_weight((pos.astype(compute) - centre[:, None] + f(0.5)) / filterscale, mode,
                                        compute), f(0.0)).astype(compute)
    total = np.zeros(out_len, dtype=compute)
    for t in range(n_taps):  # summed in tap order, as Pillow normalises its filter
        total += taps[:, t]
    taps = np.where(total[:, None] != 0.0, taps / np.where(total != 0.0, total, f(1.0))[:, None], taps)
    w = np.zeros((out_len, source_len), dtype=compute)
    rows = np.broadcast_to(np.arange(out_len)[:, None], pos.shape)
    w[rows[live], start + pos[live]] = taps[live]
    w.flags.writeable = False
    return w


def max_taps(boxes: np.ndarray, out_hw: tuple[int, int], mode: str) -> int:
    """The widest filter window over a batch of boxes (source pixels per output pixel and axis)."""
    scale = max(float(np.max(boxes[:, 2])) / out_hw[0], float(np.max(boxes[:, 3])) / out_hw[1], 1.0)
    return 2 * math.ceil(MODES[mode] * scale) + 1


def resample(images: np.ndarray, boxes: np.ndarray, flips: np.ndarray, out_hw: tuple[int, int],
             mode: str = "bicubic", channels: int | None = None, mean=None, std=None,
             out_dtype=np.float32, compute=np.float64) -> np.ndarray:
    """Resample a batch.

    Args:
        images: uint8 [B, C, H, W] (C = 1 or 3).
        boxes: int [B, 4]: top, left, height, width of each crop (inside the image).
        flips: bool [B, 2]: horizontal, vertical flip of each output.
        out_hw: output (height, width).
        mode: bilinear | bicubic.
        channels: output channels (1 or 3; default: the input's).
        mean, std: per-channel normalisation of v / 255 for float outputs (default 0 and 1).
        out_dtype: np.uint8 (rounded, clipped) or a float type.
        compute: float64 (the reference) or float32.

    Returns:
        [B, channels, out_h, out_w] of out_dtype.
    """
    b, c, h, w = images.shape
    channels = channels or c
    oh, ow = out_hw
    out = np.empty((b, channels, oh, ow), dtype=compute)
    for k in range(b):
        top, left, bh, bw = (int(v) for v in boxes[k])
        wy = axis_weights(top, bh, oh, mode, h, compute)
        wx = axis_weights(left, bw, ow, mode, w, compute)
        src = images[k, :, top : top + bh, left : left + bw].astype(compute)  # weights vanish outside the box
        res = wy[None, :, top : top + bh] @ src @ wx[:, left : left + bw].T[None]  # [C, oh, ow]: rows, then columns
        if flips[k, 0]:
            res = res[:, :, ::-1]
        if flips[k, 1]:
            res = res[:, ::-1, :]
        out[k] = np.repeat(res, channels, axis=0) if c == 1 else res[:channels]
    if np.dtype(out_dtype) == np.uint8:
        return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)
    mean = np.zeros(channels) if mean is None else np.asarray(mean, dtype=compute)
    std = np.ones(channels) if std is None else np.asarray(std, dtype=compute)
    return ((out / compute(255.0) - mean[None, :, None, None]) / std[None, :, None, None]).astype(out_dtype)
