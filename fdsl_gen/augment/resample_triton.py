"""Crop + resample + flip + normalise + dtype + channels in one Triton kernel; must match `resample_ref`.

One program per (block of output pixels, image): the filter taps of each output pixel are computed in
the kernel (no weight tables cross from the host), TAPS x TAPS source pixels are read (TAPS covers the
widest filter of the batch), and the result is written once, in the requested dtype and layout (float32
arithmetic; tests/_parity.py bounds its distance to the float64 reference).
"""

from __future__ import annotations

import numpy as np
import torch
import triton
import triton.language as tl

from .resample_ref import MODES, max_taps

BLOCK = 128
_TORCH = {np.dtype(np.uint8): torch.uint8, np.dtype(np.float32): torch.float32, np.dtype(np.float16): torch.float16}


@triton.jit
def _weight(x, BICUBIC: tl.constexpr):
    x = tl.abs(x)
    if BICUBIC:
        return tl.where(x < 1.0, (1.5 * x - 2.5) * x * x + 1.0,
                        tl.where(x < 2.0, (((x - 5.0) * x + 8.0) * x - 4.0) * -0.5, 0.0))
    return tl.where(x < 1.0, 1.0 - x, 0.0)


@triton.jit
def _resample_kernel(src_ptr, out_ptr, box_ptr, flip_ptr, mean_ptr, std_ptr,
                     C_IN, H, W, OH, OW, s_b, s_c, s_h, s_w,
                     SUPPORT: tl.constexpr, BICUBIC: tl.constexpr, TAPS: tl.constexpr, C_OUT: tl.constexpr,
                     TO_UINT8: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    b = tl.program_id(1)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    live = offs < OH * OW
    oy = offs // OW
    ox = offs % OW
    top = tl.load(box_ptr + 4 * b)
    left = tl.load(box_ptr + 4 * b + 1)
    bh = tl.load(box_ptr + 4 * b + 2)
    bw = tl.load(box_ptr + 4 * b + 3)
    sy = tl.where(tl.load(flip_ptr + 2 * b + 1) != 0, OH - 1 - oy, oy)  # the source row of this output row
    sx = tl.where(tl.load(flip_ptr + 2 * b) != 0, OW - 1 - ox, ox)
    scale_y = bh.to(tl.float32) / OH
    scale_x = bw.to(tl.float32) / OW
    fs_y = tl.maximum(scale_y, 1.0)
    fs_x = tl.maximum(scale_x, 1.0)
    centre_y = (sy.to(tl.float32) + 0.5) * scale_y
    centre_x = (sx.to(tl.float32) + 0.5) * scale_x
    lo_y = tl.maximum((centre_y - SUPPORT * fs_y + 0.5).to(tl.int32), 0)
    hi_y = tl.minimum((centre_y + SUPPORT * fs_y + 0.5).to(tl.int32), bh)
    lo_x = tl.maximum((centre_x - SUPPORT * fs_x + 0.5).to(tl.int32), 0)
    hi_x = tl.minimum((centre_x + SUPPORT * fs_x + 0.5).to(tl.int32), bw)
    sum_y = tl.zeros([BLOCK], dtype=tl.float32)
    sum_x = tl.zeros([BLOCK], dtype=tl.float32)
    for t in tl.static_range(TAPS):
        sum_y += tl.where(lo_y + t < hi_y, _weight(((lo_y + t).to(tl.float32) - centre_y + 0.5) / fs_y, BICUBIC), 0.0)
        sum_x += tl.where(lo_x + t < hi_x, _weight(((lo_x + t).to(tl.float32) - centre_x + 0.5) / fs_x, BICUBIC), 0.0)
    norm = sum_y * sum_x
    for c in tl.static_range(C_OUT):
        cin = tl.minimum(c, C_IN - 1)
        acc = tl.zeros([BLOCK], dtype=tl.float32)
        for ty in tl.static_range(TAPS):
            y = lo_y + ty
            wy = tl.where(y < hi_y, _weight((y.to(tl.float32) - centre_y + 0.5) / fs_y, BICUBIC), 0.0)
            row = src_ptr + ((b * C_IN + cin) * H + top + tl.minimum(y, bh - 1)) * W + left
            for tx in tl.static_range(TAPS):
                x = lo_x + tx
                wx = tl.where(x < hi_x, _weight((x.to(tl.float32) - centre_x + 0.5) / fs_x, BICUBIC), 0.0)
                v = tl.load(row + tl.minimum(x, bw - 1), mask=live, other=0).to(tl.float32)
                acc += wy * wx * v
        value = acc / tl.where(norm != 0.0, norm, 1.0)
        dst = out_ptr + b * s_b + c * s_c + oy * s_h + ox * s_w
        if TO_UINT8:
            tl.store(dst, tl.minimum(tl.maximum(tl.floor(value + 0.5), 0.0), 255.0).to(tl.uint8), mask=live)
        else:
            value = (value / 255.0 - tl.load(mean_ptr + c)) / tl.load(std_ptr + c)
            tl.store(dst, value.to(dst.dtype.element_ty), mask=live)


def resample(images: torch.Tensor, boxes, flips, out_hw: tuple[int, int], mode: str = "bicubic",
             channels: int | None = None, mean=None, std=None, out_dtype=torch.float32,
             channels_last: bool = False) -> torch.Tensor:
    """As `resample_ref.resample` on torch tensors (uint8 [B, C, H, W] on the GPU, or the CPU under the interpreter).

    Returns a [B, channels, out_h, out_w] tensor of out_dtype (channels-last memory if asked).
    """
    b, c_in, h, w = images.shape
    channels = channels or c_in
    oh, ow = out_hw
    boxes_np = np.asarray(boxes, dtype=np.int32).reshape(b, 4)
    taps = max_taps(boxes_np, out_hw, mode)
    device = images.device
    out = torch.empty((b, channels, oh, ow), dtype=out_dtype, device=device)
    if channels_last:
        out = out.contiguous(memory_format=torch.channels_last)
    mean_t = torch.as_tensor(np.zeros(channels) if mean is None else mean, dtype=torch.float32, device=device)
    std_t = torch.as_tensor(np.ones(channels) if std is None else std, dtype=torch.float32, device=device)
    grid = (triton.cdiv(oh * ow, BLOCK), b)
    _resample_kernel[grid](images.contiguous(), out, torch.as_tensor(boxes_np, device=device),
                           torch.as_tensor(np.asarray(flips, dtype=np.int32).reshape(b, 2), device=device),
                           mean_t, std_t, c_in, h, w, oh, ow, *out.stride(),
                           SUPPORT=MODES[mode], BICUBIC=mode == "bicubic", TAPS=taps, C_OUT=channels,
                           TO_UINT8=out_dtype == torch.uint8, BLOCK=BLOCK)
    return out
