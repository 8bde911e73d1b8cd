"""RandAugment, batched in torch on any device: the same `apply` as `randaugment_ref`, equal to it bit for bit.

Per layer, the images that drew the same op are gathered and processed together: histograms by bincount per
(image, channel), tables applied with gather, Pillow's float32 blend, the SMOOTH filter in exact integer form,
and one float64 bicubic affine sampler for the five geometric ops with a matrix per image.

Bit-exactness on CPU and CUDA rests on two rules. Every float step is a separate elementwise torch op in the
reference's order, so no fused multiply-add creeps in. Every division is tensor by tensor: torch evaluates
`scalar / t` as a reciprocal times the scalar, and CUDA evaluates `t / host_scalar` as t times the reciprocal,
neither correctly rounded. The one host-side step per image is building the rotation matrices: they need
Python's decimal-exact round(x, 15), which has no vectorised equivalent (6 scalars per image, no pixels).
"""

from __future__ import annotations

import numpy as np
import torch

from fdsl_gen.augment import randaugment_ref as ref
from fdsl_gen.backends.cuda_runner import to_device


def _as_numpy(a, dtype) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=dtype)


def _per_image(values: np.ndarray, device, dtype=torch.float64) -> torch.Tensor:
    """[N] host values -> [N, 1, 1, 1] on the device, to broadcast over [N, C, H, W]."""
    return to_device(np.asarray(values), device, dtype).view(-1, 1, 1, 1)


def _apply_lut(x: torch.Tensor, lut: torch.Tensor) -> torch.Tensor:
    """x [N, C, H, W] uint8 through per-(image, channel) tables lut [N, C, 256] (already in 0..255)."""
    n, c, h, w = x.shape
    return torch.gather(lut.to(torch.uint8), 2, x.reshape(n, c, h * w).long()).view(n, c, h, w)


def _auto_contrast(x: torch.Tensor) -> torch.Tensor:
    lo = x.amin(dim=(2, 3)).double()  # [N, C]: the lowest and highest non-empty histogram bins
    hi = x.amax(dim=(2, 3)).double()
    flat = hi <= lo
    # Tensor / tensor: `255.0 / t` is reciprocal-then-multiply in torch, not a correctly rounded division.
    scale = torch.full_like(lo, 255.0) / torch.where(flat, 1.0, hi - lo)
    offset = -lo * scale
    levels = torch.arange(256, dtype=torch.float64, device=x.device)
    lut = torch.trunc(levels * scale[..., None] + offset[..., None]).clamp(0, 255)
    return _apply_lut(x, torch.where(flat[..., None], levels, lut))


def _histograms(x: torch.Tensor) -> torch.Tensor:
    """[N, C, 256] int64 pixel counts per image and channel."""
    n, c = x.shape[:2]
    rows = torch.arange(n * c, device=x.device).view(n, c, 1) * 256
    index = (x.reshape(n, c, -1).long() + rows).reshape(-1)
    # a scatter-add into a known size (CUDA's bincount reads the maximum back to the host first)
    counts = torch.zeros(n * c * 256, dtype=torch.int64, device=x.device)
    return counts.scatter_add_(0, index, torch.ones_like(index)).view(n, c, 256)


def _equalize(x: torch.Tensor) -> torch.Tensor:
    hist = _histograms(x)
    top = x.amax(dim=(2, 3)).long()  # [N, C]: the last non-empty bin
    last = torch.gather(hist, 2, top[..., None])[..., 0]
    step = (hist.sum(-1) - last) // 255
    identity = ((hist > 0).sum(-1) <= 1) | (step == 0)
    n = (step // 2)[..., None] + torch.cumsum(hist, -1) - hist  # exclusive running count
    lut = torch.clamp(n // step.clamp(min=1)[..., None], max=255)  # Pillow's point() clips the table
    levels = torch.arange(256, device=x.device)
    return _apply_lut(x, torch.where(identity[..., None], levels, lut))


def _gray(x: torch.Tensor) -> torch.Tensor:
    """Pillow's "L" conversion [N, 1, H, W] int64."""
    if x.shape[1] == 1:
        return x.long()
    r, g, b = x.long().unbind(1)
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).unsqueeze(1)


def _smooth(x: torch.Tensor) -> torch.Tensor:
    """ImageFilter.SMOOTH as the reference's exact integer form (2S + 13) // 26; borders copied."""
    out = x.clone()
    h, w = x.shape[2:]
    if h < 3 or w < 3:
        return out
    v = x.int()
    s = 4 * v[:, :, 1:-1, 1:-1]
    for i in (-1, 0, 1):
        for j in (-1, 0, 1):
            s = s + v[:, :, 1 + i:h - 1 + i, 1 + j:w - 1 + j]
    out[:, :, 1:-1, 1:-1] = ((2 * s + 13) // 26).to(torch.uint8)
    return out


def _blend(degenerate: torch.Tensor, x: torch.Tensor, factor: np.ndarray) -> torch.Tensor:
    """Pillow's Image.blend per image: float32 in1 + alpha * (in2 - in1), clipped, truncated."""
    alpha = _per_image(factor, x.device).float()
    diff = (x.int() - degenerate.int()).float()
    return (degenerate.float() + alpha * diff).clamp(0.0, 255.0).to(torch.uint8)


def _affine(x: torch.Tensor, matrices: np.ndarray, fill) -> torch.Tensor:
    """Image.transform(AFFINE, BICUBIC, fillcolor) with one matrix per image; matrices [N, 6] float64."""
    n, c, h, w = x.shape
    a, b, cc, d, e, f = (_per_image(m, x.device)[:, 0] for m in matrices.T)  # each [N, 1, 1]
    xo = torch.arange(w, dtype=torch.float64, device=x.device).view(1, 1, w) + 0.5
    yo = torch.arange(h, dtype=torch.float64, device=x.device).view(1, h, 1) + 0.5
    xs = a * xo + b * yo + cc  # [N, H, W], the reference's operation order
    ys = d * xo + e * yo + f
    inside = (xs >= 0.0) & (xs < w) & (ys >= 0.0) & (ys < h)
    xs = torch.where(inside, xs, 0.5) - 0.5
    ys = torch.where(inside, ys, 0.5) - 0.5
    x0, y0 = torch.floor(xs), torch.floor(ys)
    dx, dy = (xs - x0).unsqueeze(1), (ys - y0).unsqueeze(1)  # [N, 1, H, W]
    cols = [(x0.long() + k).clamp(0, w - 1) for k in (-1, 0, 1, 2)]
    rows = [(y0.long() + k).clamp(0, h - 1) * w for k in (-1, 0, 1, 2)]
    src = x.reshape(n, c, h * w)  # gather from uint8 and widen per tap, to keep the peak memory low

    def tap(r, col):
        index = (r + col).view(n, 1, h * w).expand(n, c, h * w)
        return torch.gather(src, 2, index).view(n, c, h, w).double()

    across = [ref.cubic(*(tap(r, col) for col in cols), dx) for r in rows]
    v = ref.cubic(*across, dy).clamp(0.0, 255.0).to(torch.uint8)
    colour = to_device(np.asarray(fill[:c], dtype=np.uint8), x.device).view(1, c, 1, 1)
    return torch.where(inside.unsqueeze(1), v, colour)


def _apply_op(x: torch.Tensor, op: int, args: np.ndarray, fill) -> torch.Tensor:
    """One op on the images x [N, C, H, W] uint8 that drew it; args [N] float64."""
    name = ref.OPS[op]
    dev = x.device
    if name == "auto_contrast":
        return _auto_contrast(x)
    if name == "equalize":
        return _equalize(x)
    if name == "invert":
        return 255 - x
    if name == "posterize":
        bits = args.astype(np.int64)
        keep = np.where(bits >= 8, 255, ~((np.int64(1) << (8 - np.minimum(bits, 8))) - 1) & 255)
        return x & _per_image(keep, dev, torch.uint8)
    if name == "solarize":
        return torch.where(x < _per_image(args, dev), x, 255 - x)
    if name == "solarize_add":
        added = (x.long() + _per_image(np.trunc(args), dev, torch.int64)).clamp(max=255).to(torch.uint8)
        return torch.where(x < 128, added, x)
    if name == "brightness":
        degenerate = torch.zeros_like(x)
    elif name == "contrast":
        luma = _gray(x)
        total = luma.sum(dim=(1, 2, 3)).double()
        # a device tensor divisor: CUDA turns division by a host scalar into a multiplication by its reciprocal
        mean = total / torch.full_like(total, float(luma[0].numel()))
        degenerate = torch.trunc(mean + 0.5).to(torch.uint8).view(-1, 1, 1, 1).expand_as(x)
    elif name == "color":
        degenerate = _gray(x).to(torch.uint8).expand_as(x)
    elif name == "sharpness":
        degenerate = _smooth(x)
    else:
        h, w = x.shape[2:]
        matrices = np.array([ref.affine_matrix(op, a, h, w) for a in args], dtype=np.float64).reshape(-1, 6)
        return _affine(x, matrices, tuple(int(v) for v in fill))
    return _blend(degenerate, x, args)


def apply(images: torch.Tensor, ops, args, fill) -> torch.Tensor:
    """Layer 0, then layer 1, ... on each image, as `randaugment_ref.apply`. images [B, C, H, W] uint8 tensor;
    ops [B, L] int (-1 skips that layer for that image) and args [B, L] float, NumPy or torch; fill: C ints.
    Returns a new tensor on the images' device."""
    ops, args = _as_numpy(ops, np.int64), _as_numpy(args, np.float64)
    out = images.clone()
    for layer in range(ops.shape[1]):
        column = ops[:, layer]
        for op in np.unique(column[column >= 0]):
            chosen = np.flatnonzero(column == op)
            if len(chosen) == out.shape[0]:  # the whole batch: no gather / scatter
                out = _apply_op(out, int(op), args[chosen, layer], fill)
                continue
            index = to_device(chosen, out.device)
            out[index] = _apply_op(out[index], int(op), args[chosen, layer], fill)
    return out
