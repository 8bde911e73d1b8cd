"""Crop + resample + flip to uint8 in two Triton kernels; must equal `resample_ref` (Pillow's resize) byte for byte.

1. `_coeff_kernel`, per (image, block of output coordinates, rows then columns): Pillow's coefficients
   of that coordinate, float64 in the reference's expression order (fp64 `/` is div.rn.f64), rounded to
   fixed point: bounds int32 [B, OH + OW, 2] (xmin, count) and taps int32 [B, OH + OW, TAPS], zero
   past the count. Nothing else in the module touches a float.
2. `_resample_kernel`, per (image, block of output pixels): the first pass (horizontal, or vertical
   where `resample_ref.vertical_first`) is recomputed at each tap of the second, clip8(2²¹ + Σ pixel · k),
   which is Pillow's intermediate byte there, and the second pass sums those. All int32 and exact:
   Σ|k| of an output is at most 1.27 · 2²² (tests/test_resample.py sweeps it; < 2 · 2²² is what
   matters), so every partial sum stays within 2²¹ + 255 · 2 · 2²² < 2³¹.
An axis that keeps its length is resampled anyway: Pillow skips that pass, but its coefficients there
are exactly the identity (1 at the centre, exact zeros around) and clip8(2²¹ + v · 2²²) = v, so the
bytes are the same. Every launch passes `launch.OPTIONS` (enable_fp_fusion=False: no multiply-add is
contracted); PTX_SPECS lists the production compilations for the sm_90 PTX check (`backends.ptx`).
"""

from __future__ import annotations

import numpy as np
import torch
import triton
import triton.language as tl

from ..backends.cuda_runner import to_device
from . import launch
from .resample_ref import MODES, PRECISION_BITS, ksize

BLOCK = 256
COEFF_BLOCK = 128
_HALF: tl.constexpr = tl.constexpr(1 << (PRECISION_BITS - 1))
_ONE: tl.constexpr = tl.constexpr(float(1 << PRECISION_BITS))
_BITS: tl.constexpr = tl.constexpr(PRECISION_BITS)


@triton.jit
def _filter(x, BICUBIC: tl.constexpr):
    x = tl.abs(x)
    if BICUBIC:  # Keys a = -0.5: a + 2 = 1.5, a + 3 = 2.5
        return tl.where(x < 1.0, (1.5 * x - 2.5) * x * x + 1.0,
                        tl.where(x < 2.0, (((x - 5.0) * x + 8.0) * x - 4.0) * -0.5, 0.0))
    return tl.where(x < 1.0, 1.0 - x, 0.0)


@triton.jit
def _coeff_kernel(box_ptr, bounds_ptr, taps_ptr, OH, OW, TAPS,
                  SUPPORT: tl.constexpr, BICUBIC: tl.constexpr, BLOCK: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    blk = tl.program_id(1) + tl.program_id(2) * tl.num_programs(1)
    j = blk * BLOCK + tl.arange(0, BLOCK)  # [BLOCK]: output rows 0..OH-1, then columns
    live = j < OH + OW
    rows = j < OH
    xx = tl.where(rows, j, j - OH)
    in_len = tl.where(rows, tl.load(box_ptr + 4 * b + 2), tl.load(box_ptr + 4 * b + 3))
    scale = in_len.to(tl.float64) / tl.where(rows, OH, OW).to(tl.float64)
    filterscale = tl.maximum(scale, 1.0)
    support = SUPPORT * filterscale
    inv = 1.0 / filterscale
    centre = (xx.to(tl.float64) + 0.5) * scale
    xmin = tl.maximum((centre - support + 0.5).to(tl.int32), 0)  # fptosi truncates, as C's (int)
    count = tl.minimum((centre + support + 0.5).to(tl.int32), in_len) - xmin
    total = tl.zeros([BLOCK], dtype=tl.float64)
    for t in range(0, TAPS):  # in tap order: the order of a float sum is part of the result
        total += tl.where(t < count, _filter(((xmin + t).to(tl.float64) - centre + 0.5) * inv, BICUBIC), 0.0)
    divisor = tl.where(total != 0.0, total, 1.0)
    row = taps_ptr + (b * (OH + OW) + j) * TAPS
    for t in range(0, TAPS):
        # zero past the count and in dead lanes, where a quotient could overflow the int32 conversion
        on = live & (t < count)
        w = tl.where(on, _filter(((xmin + t).to(tl.float64) - centre + 0.5) * inv, BICUBIC), 0.0) / divisor
        k = tl.where(w < 0.0, -0.5 + w * _ONE, 0.5 + w * _ONE).to(tl.int32)
        tl.store(row + t, k, mask=live)
    bounds = bounds_ptr + (b * (OH + OW) + j) * 2
    tl.store(bounds, xmin, mask=live)
    tl.store(bounds + 1, count, mask=live)


@triton.jit
def _clip8(acc):
    return tl.minimum(tl.maximum(acc >> _BITS, 0), 255)


@triton.jit
def _two_pass(plane, o0, o_count, o_taps, o_stride, N_OUTER, i0, i_count, i_taps, i_stride, N_INNER, live):
    """clip8(2²¹ + Σ_o clip8(2²¹ + Σ_i pixel(o0 + o, i0 + i) · k_i) · k_o): int32 [BLOCK]."""
    acc = tl.zeros_like(o0) + _HALF
    for o in range(0, N_OUTER):
        o_on = live & (o < o_count)
        line = plane + (o0 + o) * o_stride
        first = tl.zeros_like(o0) + _HALF
        for i in range(0, N_INNER):
            on = o_on & (i < i_count)
            v = tl.load(line + (i0 + i) * i_stride, mask=on, other=0).to(tl.int32)
            first += v * tl.load(i_taps + i, mask=on, other=0)
        acc += _clip8(first) * tl.load(o_taps + o, mask=o_on, other=0)
    return _clip8(acc)


@triton.jit
def _resample_kernel(src_ptr, out_ptr, box_ptr, flip_ptr, bounds_ptr, taps_ptr, H, W, OH, OW, TAPS, KY, KX,
                     C_IN: tl.constexpr, C_OUT: tl.constexpr, BLOCK: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)  # int64: every offset that counts images
    blk = tl.program_id(1) + tl.program_id(2) * tl.num_programs(1)
    offs = blk * BLOCK + tl.arange(0, BLOCK)
    live = offs < OH * OW
    oy = offs // OW
    ox = offs % OW
    sy = tl.where(tl.load(flip_ptr + 2 * b + 1) != 0, OH - 1 - oy, oy)  # flips mirror the output
    sx = tl.where(tl.load(flip_ptr + 2 * b) != 0, OW - 1 - ox, ox)
    top = tl.load(box_ptr + 4 * b)
    left = tl.load(box_ptr + 4 * b + 1)
    bh = tl.load(box_ptr + 4 * b + 2)
    bw = tl.load(box_ptr + 4 * b + 3)
    jy = b * (OH + OW) + sy
    jx = b * (OH + OW) + OH + sx
    ymin = tl.load(bounds_ptr + 2 * jy, mask=live, other=0)
    ny = tl.load(bounds_ptr + 2 * jy + 1, mask=live, other=0)
    xmin = tl.load(bounds_ptr + 2 * jx, mask=live, other=0)
    nx = tl.load(bounds_ptr + 2 * jx + 1, mask=live, other=0)
    ky = taps_ptr + jy * TAPS
    kx = taps_ptr + jx * TAPS
    # Pillow's pass order (resample_ref.vertical_first)
    vfirst = (bh >= OH) & (bh - OH > 2 * (bw - OW))
    for c in tl.static_range(C_OUT):
        if c < C_IN:  # a gray source is resampled once and stored in every plane
            plane = src_ptr + ((b * C_IN + c) * H + top) * W + left
            if vfirst:
                value = _two_pass(plane, xmin, nx, kx, 1, KX, ymin, ny, ky, W, KY, live)
            else:
                value = _two_pass(plane, ymin, ny, ky, W, KY, xmin, nx, kx, 1, KX, live)
        tl.store(out_ptr + (b * C_OUT + c) * OH * OW + offs, value.to(tl.uint8), mask=live)


def resample(images: torch.Tensor, boxes, flips, out_hw: tuple[int, int], mode: str = "bicubic",
             channels: int | None = None) -> torch.Tensor:
    """As `resample_ref.resample` on a uint8 tensor [B, C, H, W] (on the GPU, or the CPU under the interpreter).

    Returns a uint8 tensor [B, channels, out_h, out_w] on the images' device.
    """
    b, c_in, h, w = images.shape
    channels = channels or c_in
    oh, ow = (int(v) for v in out_hw)
    device = images.device
    out = torch.empty((b, channels, oh, ow), dtype=torch.uint8, device=device)
    if b == 0:
        return out
    boxes_np = np.asarray(boxes, dtype=np.int64).reshape(b, 4)
    ky = ksize(int(boxes_np[:, 2].max()), oh, mode)  # the widest window of the batch, per axis
    kx = ksize(int(boxes_np[:, 3].max()), ow, mode)
    taps = max(ky, kx)
    box_t = to_device(boxes_np.astype(np.int32), device)  # pinned, non-blocking: the host never waits
    bounds = torch.empty((b, oh + ow, 2), dtype=torch.int32, device=device)
    coeffs = torch.empty((b, oh + ow, taps), dtype=torch.int32, device=device)
    _coeff_kernel[launch.grid(b, oh + ow, COEFF_BLOCK)](
        box_t, bounds, coeffs, oh, ow, taps, SUPPORT=MODES[mode], BICUBIC=mode == "bicubic", BLOCK=COEFF_BLOCK,
        **launch.OPTIONS)
    flip_t = to_device(np.asarray(flips, dtype=np.int32).reshape(b, 2), device)
    _resample_kernel[launch.grid(b, oh * ow, BLOCK)](
        images.contiguous(), out, box_t, flip_t, bounds, coeffs, h, w, oh, ow, taps, ky, kx,
        C_IN=c_in, C_OUT=channels, BLOCK=BLOCK, **launch.OPTIONS)
    return out


_COEFF_SIG = {"box_ptr": "*i32", "bounds_ptr": "*i32", "taps_ptr": "*i32", "OH": "i32", "OW": "i32", "TAPS": "i32",
              "SUPPORT": "constexpr", "BICUBIC": "constexpr", "BLOCK": "constexpr"}
_RESAMPLE_SIG = {"src_ptr": "*u8", "out_ptr": "*u8", "box_ptr": "*i32", "flip_ptr": "*i32", "bounds_ptr": "*i32",
                 "taps_ptr": "*i32", "H": "i32", "W": "i32", "OH": "i32", "OW": "i32", "TAPS": "i32", "KY": "i32",
                 "KX": "i32", "C_IN": "constexpr", "C_OUT": "constexpr", "BLOCK": "constexpr"}
# (name, kernel, signature, constexprs, options) of every compilation `resample` launches: both filters; gray,
# gray to RGB (the pipeline's coloured RandAugment fill) and RGB
PTX_SPECS = [
    *((f"resample_coefficients_{mode}", _coeff_kernel, _COEFF_SIG,
       {"SUPPORT": MODES[mode], "BICUBIC": mode == "bicubic", "BLOCK": COEFF_BLOCK}, launch.OPTIONS) for mode in MODES),
    *((f"resample_uint8_{c_in}to{c_out}_channels", _resample_kernel, _RESAMPLE_SIG,
       {"C_IN": c_in, "C_OUT": c_out, "BLOCK": BLOCK}, launch.OPTIONS) for c_in, c_out in ((1, 1), (1, 3), (3, 3))),
]
