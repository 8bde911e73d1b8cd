"""Normalise + channels + random erasing + dtype + layout in one Triton kernel; must match `finish_ref`.

One program per (block of pixels, image). The erasing noise comes from Triton's Philox
(`tl.randint4x`: counter (offset, 0, 0, 0), key = the image's seed), so no noise crosses from the host.
"""

from __future__ import annotations

import numpy as np
import torch
import triton
import triton.language as tl

BLOCK = 256


@triton.jit
def _finish_kernel(src_ptr, out_ptr, erase_ptr, seed_ptr, mean_ptr, std_ptr, C_IN, S, s_b, s_c, s_h, s_w,
                   C_OUT: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    b = tl.program_id(1)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
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
        v = tl.load(src_ptr + (b * C_IN + cin) * S * S + offs, mask=live, other=0).to(tl.float32) / 255.0
        value = (v - tl.load(mean_ptr + c)) / tl.load(std_ptr + c)
        i1, i2, _, _ = tl.randint4x(seed, (c * S * S + offs).to(tl.int64))
        u1 = (i1.to(tl.float32) + 1.0) * 2.3283064365386963e-10
        u2 = i2.to(tl.float32) * 2.3283064365386963e-10
        z = tl.sqrt(-2.0 * tl.log(u1)) * tl.cos(6.283185307179586 * u2)
        value = tl.where(inside, z, value)
        dst = out_ptr + b * s_b + c * s_c + y * s_h + x * s_w
        tl.store(dst, value.to(dst.dtype.element_ty), mask=live)


def finish(images: torch.Tensor, erase, noise_seed, channels: int, mean, std, out_dtype=torch.float32,
           channels_last: bool = False) -> torch.Tensor:
    """As `finish_ref.finish` on a uint8 tensor [B, C, S, S]; returns [B, channels, S, S] of out_dtype."""
    b, c_in, s, _ = images.shape
    device = images.device
    out = torch.empty((b, channels, s, s), dtype=out_dtype, device=device)
    if channels_last:
        out = out.contiguous(memory_format=torch.channels_last)
    seeds = torch.as_tensor(np.asarray(noise_seed, dtype=np.uint64).view(np.int64), device=device)
    grid = (triton.cdiv(s * s, BLOCK), b)
    _finish_kernel[grid](images.contiguous(), out, torch.as_tensor(np.asarray(erase, np.int32), device=device),
                         seeds, torch.as_tensor(mean, dtype=torch.float32, device=device),
                         torch.as_tensor(std, dtype=torch.float32, device=device),
                         c_in, s, *out.stride(), C_OUT=channels, BLOCK=BLOCK)
    return out
