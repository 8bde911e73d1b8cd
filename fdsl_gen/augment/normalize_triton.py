"""Normalise + channels + random erasing + dtype + layout in one Triton kernel; must equal `normalize_ref` bit for bit.

One program per (image, block of pixels). The erasing noise comes from Triton's Philox (`tl.randint4x`:
counter (offset, 0, 0, 0) with the int64 offset split low word first, as Triton >= 3.4 does; key = the
image's seed), so no noise crosses from the host, and is mapped to N(0, 1) by `_normal`, the twin of
`gauss_ref.normal` operation for operation. Floats are divided and square-rooted with correctly
rounded `div_rn`/`sqrt_rn` and every launch passes `launch.OPTIONS` (enable_fp_fusion=False), so the
float32 result is the reference's; float16/bfloat16 outputs round it to nearest even, as torch does
(bfloat16 with integer operations, the same on the GPU and in the interpreter). PTX_SPECS lists the
production compilations for the sm_90 PTX check (`backends.ptx`).
"""

from __future__ import annotations

import numpy as np
import torch
import triton
import triton.language as tl

from ..backends.cuda_runner import to_device
from . import gauss_ref as g
from . import launch

BLOCK = 256
_LN_C3: tl.constexpr = tl.constexpr(float(g.LN_C3))
_LN_C5: tl.constexpr = tl.constexpr(float(g.LN_C5))
_LN_C7: tl.constexpr = tl.constexpr(float(g.LN_C7))
_LN_C9: tl.constexpr = tl.constexpr(float(g.LN_C9))
_SQRT_2: tl.constexpr = tl.constexpr(float(g.SQRT_2))
_LN2_HI: tl.constexpr = tl.constexpr(float(g.LN2_HI))
_LN2_LO: tl.constexpr = tl.constexpr(float(g.LN2_LO))
_COS0, _COS1, _COS2, _COS3, _COS4, _COS5 = (tl.constexpr(float(c)) for c in g.COS)
_SIN0, _SIN1, _SIN2, _SIN3, _SIN4 = (tl.constexpr(float(c)) for c in g.SIN)
_TWO_M32: tl.constexpr = tl.constexpr(float(g.TWO_M32))
_TWO_M29: tl.constexpr = tl.constexpr(float(g.TWO_M29))


@triton.jit
def _ln(x):
    """gauss_ref.ln."""
    bits = x.to(tl.int32, bitcast=True)
    e = (bits >> 23) - 127
    m = ((bits & 0x7FFFFF) | 0x3F800000).to(tl.float32, bitcast=True)
    big = m > _SQRT_2
    m = tl.where(big, m * 0.5, m)
    ef = tl.where(big, e + 1, e).to(tl.float32)
    f = m - 1.0
    s = tl.div_rn(f, f + 2.0)
    z = s * s
    p = ((_LN_C9 * z + _LN_C7) * z + _LN_C5) * z + _LN_C3
    t = s + s
    return ef * _LN2_HI + (ef * _LN2_LO + (t + t * (z * p)))


@triton.jit
def _cos_turn(word):
    """gauss_ref.cos_turn."""
    o = (word >> 29).to(tl.int32)
    r = (word & 0x1FFFFFFF).to(tl.int32)
    gg = tl.where((o & 1) != 0, 0x20000000 - r, r).to(tl.float32) * _TWO_M29
    z = gg * gg
    c = ((((_COS5 * z + _COS4) * z + _COS3) * z + _COS2) * z + _COS1) * z + _COS0
    s = gg * ((((_SIN4 * z + _SIN3) * z + _SIN2) * z + _SIN1) * z + _SIN0)
    value = tl.where(((o + 1) & 2) != 0, s, c)
    return value * tl.where(((o + 2) & 4) != 0, -1.0, 1.0)


@triton.jit
def _normal(i1, i2):
    """gauss_ref.normal."""
    u1 = (i1.to(tl.float32) + 1.0) * _TWO_M32
    return tl.sqrt_rn(-2.0 * _ln(u1)) * _cos_turn(i2)


@triton.jit
def _to(value, dtype: tl.constexpr):
    """float32 -> dtype, rounded to nearest even (torch's conversion)."""
    if dtype == tl.bfloat16:
        # with integer operations: the GPU's cvt.rn.bf16.f32 rounds so, Triton's interpreter truncates
        bits = value.to(tl.uint32, bitcast=True)
        bits = bits + 0x7FFF + ((bits >> 16) & 1)
        return (bits >> 16).to(tl.uint16).to(tl.bfloat16, bitcast=True)
    return value.to(dtype)


@triton.jit
def _normalize_kernel(src_ptr, out_ptr, erase_ptr, seed_ptr, mean_ptr, std_ptr, C_IN, S, s_b, s_c, s_h, s_w,
                   C_OUT: tl.constexpr, BLOCK: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)  # int64: every offset that counts images
    blk = tl.program_id(1) + tl.program_id(2) * tl.num_programs(1)
    offs = blk * BLOCK + tl.arange(0, BLOCK)
    live = offs < S * S
    y = offs // S
    x = offs % S
    top = tl.load(erase_ptr + 4 * b)
    left = tl.load(erase_ptr + 4 * b + 1)
    eh = tl.load(erase_ptr + 4 * b + 2)
    ew = tl.load(erase_ptr + 4 * b + 3)
    inside = (y >= top) & (y < top + eh) & (x >= left) & (x < left + ew)
    seed = tl.load(seed_ptr + b)
    for c in tl.static_range(C_OUT):
        cin = tl.minimum(c, C_IN - 1)
        v = tl.load(src_ptr + (b * C_IN + cin) * S * S + offs, mask=live, other=0).to(tl.float32)
        value = tl.div_rn(tl.div_rn(v, 255.0) - tl.load(mean_ptr + c), tl.load(std_ptr + c))
        i1, i2, _, _ = tl.randint4x(seed, (c * S * S + offs).to(tl.int64))
        value = tl.where(inside, _normal(i1, i2), value)
        dst = out_ptr + b * s_b + c * s_c + y * s_h + x * s_w
        tl.store(dst, _to(value, dst.dtype.element_ty), mask=live)


def normalize(images: torch.Tensor, erase, noise_seed, channels: int, mean, std, out_dtype=torch.float32,
           channels_last: bool = False) -> torch.Tensor:
    """As `normalize_ref.normalize` on a uint8 tensor [B, C, S, S]; returns [B, channels, S, S] of out_dtype."""
    b, c_in, s, _ = images.shape
    device = images.device
    out = torch.empty((b, channels, s, s), dtype=out_dtype, device=device)
    if channels_last:
        out = out.contiguous(memory_format=torch.channels_last)
    if b == 0:
        return out
    # pinned, non-blocking copies: the host never waits
    seeds = to_device(np.asarray(noise_seed, dtype=np.uint64).view(np.int64), device)
    erase_t = to_device(np.asarray(erase, dtype=np.int32), device)
    mean_t, std_t = (to_device(np.asarray(v, dtype=np.float32), device) for v in (mean, std))
    _normalize_kernel[launch.grid(b, s * s, BLOCK)](
        images.contiguous(), out, erase_t, seeds, mean_t, std_t, c_in, s, *out.stride(),
        C_OUT=channels, BLOCK=BLOCK, **launch.OPTIONS)
    return out


_SIG = {"src_ptr": "*u8", "out_ptr": None, "erase_ptr": "*i32", "seed_ptr": "*i64", "mean_ptr": "*fp32",
        "std_ptr": "*fp32", "C_IN": "i32", "S": "i32", "s_b": "i32", "s_c": "i32", "s_h": "i32", "s_w": "i32",
        "C_OUT": "constexpr", "BLOCK": "constexpr"}
# (name, kernel, signature, constexprs, options) of every compilation `normalize` launches: each output dtype, 1 or
# 3 channels
PTX_SPECS = [(f"normalize_{dtype}_{c_out}_channels", _normalize_kernel, {**_SIG, "out_ptr": f"*{dtype}"},
              {"C_OUT": c_out, "BLOCK": BLOCK}, launch.OPTIONS)
             for dtype in ("fp32", "fp16", "bf16") for c_out in (1, 3)]
