"""RandAugment, the reference (NumPy): timm 0.4.12's `rand-m9-mstd0.5-inc1` ops on uint8 images, with Pillow's
exact arithmetic. `randaugment_torch` (the batched GPU path) must match it bit for bit.

An image is uint8 [C, H, W]: C = 1 stands for Pillow mode "L", C = 3 for "RGB". Each op reproduces what timm
calls on a PIL image (ImageOps / ImageEnhance / Image.rotate / Image.transform with BICUBIC and a fill colour),
including Pillow's float32 blend, its clipped point tables and its float64 bicubic affine sampler; the tests
check the equality against the installed Pillow. The randomness (which op, magnitude, sign) is drawn upstream
and arrives here as op indices and arguments (`op_argument` turns magnitudes into arguments).
"""

from __future__ import annotations

import math

import numpy as np

# timm's _RAND_INCREASING_TRANSFORMS, in its order (an op's index is its position here).
OPS = ("auto_contrast", "equalize", "invert", "rotate", "posterize", "solarize", "solarize_add", "color",
       "contrast", "brightness", "sharpness", "shear_x", "shear_y", "translate_x", "translate_y")
INDEX = {name: i for i, name in enumerate(OPS)}
GEOMETRIC = frozenset(INDEX[n] for n in ("rotate", "shear_x", "shear_y", "translate_x", "translate_y"))
ENHANCE = frozenset(INDEX[n] for n in ("color", "contrast", "brightness", "sharpness"))
# Ops whose level timm passes through _randomly_negate.
NEGATED = GEOMETRIC | ENHANCE
MAX_LEVEL = 10.0


def op_argument(ops, magnitude, negate) -> np.ndarray:
    """Arguments of `ops` at `magnitude` (already clipped to [0, 10]); `negate` flips the sign where timm would.

    All three broadcast together. The float operations follow timm's order ((m / 10) * range, then the sign),
    so the arguments equal timm's bit for bit. Ops without an argument (and -1, a skipped layer) get 0.
    """
    ops, level, negate = np.broadcast_arrays(np.asarray(ops), np.asarray(magnitude, np.float64) / MAX_LEVEL,
                                             np.asarray(negate, bool))
    sign = np.where(negate, -1.0, 1.0)
    by_op = {
        "rotate": sign * (level * 30.0),
        "posterize": 4.0 - np.trunc(level * 4.0),
        "solarize": 256.0 - np.trunc(level * 256.0),
        "solarize_add": np.trunc(level * 110.0),
        "shear_x": sign * (level * 0.3),
        "shear_y": sign * (level * 0.3),
        "translate_x": sign * (level * 0.45),
        "translate_y": sign * (level * 0.45),
    }
    for name in ("color", "contrast", "brightness", "sharpness"):
        by_op[name] = 1.0 + sign * (level * 0.9)
    out = np.zeros(ops.shape, np.float64)
    for name, value in by_op.items():
        out = np.where(ops == INDEX[name], value, out)
    return out


def affine_matrix(op: int, arg: float, height: int, width: int) -> tuple[float, ...]:
    """Pillow's inverse affine map (a, b, c, d, e, f) for a geometric op: output pixel centre -> source point.

    Rotation rebuilds Image.rotate's matrix with Python floats: the angle taken mod 360, cos/sin rounded to 15
    decimals (Python's decimal-exact round, which np.round does not reproduce) and the centre folded in with
    the same operation order. Its transpose shortcuts at 0/90/180/270 degrees give the same pixels as this
    matrix (the sample points fall on pixel centres), so they need no special case.
    """
    name = OPS[op]
    arg = float(arg)
    if name == "rotate":
        angle = -math.radians(arg % 360.0)
        cos, sin = round(math.cos(angle), 15), round(math.sin(angle), 15)
        cx, cy = width / 2, height / 2
        c = cos * -cx + sin * -cy + 0.0 + cx
        f = -sin * -cx + cos * -cy + 0.0 + cy
        return (cos, sin, c, -sin, cos, f)
    if name == "shear_x":
        return (1.0, arg, 0.0, 0.0, 1.0, 0.0)
    if name == "shear_y":
        return (1.0, 0.0, 0.0, arg, 1.0, 0.0)
    if name == "translate_x":
        return (1.0, 0.0, arg * width, 0.0, 1.0, 0.0)
    if name == "translate_y":
        return (1.0, 0.0, 0.0, 0.0, 1.0, arg * height)
    raise ValueError(f"{name} is not a geometric op")


def cubic(v1, v2, v3, v4, d):
    """Pillow's transform bicubic (a = -1) in its exact float64 operation order."""
    p2 = -v1 + v3
    p3 = 2 * (v1 - v2) + v3 - v4
    p4 = -v1 + v2 - v3 + v4
    return v2 + d * (p2 + d * (p3 + d * p4))


def affine(image: np.ndarray, matrix, fill) -> np.ndarray:
    """Image.transform(AFFINE, matrix, BICUBIC, fillcolor=fill) of one image [C, H, W]."""
    _, h, w = image.shape
    a, b, c, d, e, f = matrix
    xo = np.arange(w, dtype=np.float64)[None, :] + 0.5  # [1, W]
    yo = np.arange(h, dtype=np.float64)[:, None] + 0.5  # [H, 1]
    xs = a * xo + b * yo + c  # [H, W]
    ys = d * xo + e * yo + f
    # A source point off the image leaves the output pixel at the fill colour.
    inside = (xs >= 0.0) & (xs < w) & (ys >= 0.0) & (ys < h)
    xs, ys = np.where(inside, xs, 0.5) - 0.5, np.where(inside, ys, 0.5) - 0.5
    x0, y0 = np.floor(xs), np.floor(ys)
    dx, dy = xs - x0, ys - y0
    # Pillow clamps the 4x4 neighbourhood to the image (its row fallbacks amount to the same clamp).
    cols = [np.clip(x0.astype(np.int64) + k, 0, w - 1) for k in (-1, 0, 1, 2)]
    rows = [np.clip(y0.astype(np.int64) + k, 0, h - 1) for k in (-1, 0, 1, 2)]
    src = image.astype(np.float64)
    out = np.empty_like(image)
    for ch in range(image.shape[0]):
        across = [cubic(*(src[ch][r, cc] for cc in cols), dx) for r in rows]
        v = cubic(*across, dy)
        # uint8 by truncation after clipping, as Pillow's (UINT8) cast
        out[ch] = np.where(inside, np.clip(v, 0.0, 255.0).astype(np.uint8), np.uint8(fill[ch]))
    return out


def gray(image: np.ndarray) -> np.ndarray:
    """Pillow's "L" conversion [H, W] int64 (ITU-R 601 in 16-bit fixed point, rounded)."""
    if image.shape[0] == 1:
        return image[0].astype(np.int64)
    r, g, b = image.astype(np.int64)
    return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16


def smooth(image: np.ndarray) -> np.ndarray:
    """ImageFilter.SMOOTH: 3x3 kernel (1,1,1,1,5,1,1,1,1)/13 inside, border rows and columns copied.

    Pillow sums in float32 plus 0.5 and truncates; the exact sum S/13 + 0.5 is never within 1/26 of an
    integer (13 is odd), so every float32 summation order gives floor(S/13 + 0.5) = (2S + 13) // 26.
    """
    out = image.copy()
    _, h, w = image.shape
    if h < 3 or w < 3:
        return out
    v = image.astype(np.int64)
    s = sum(v[:, 1 + i:h - 1 + i, 1 + j:w - 1 + j] for i in (-1, 0, 1) for j in (-1, 0, 1)) + 4 * v[:, 1:-1, 1:-1]
    out[:, 1:-1, 1:-1] = (2 * s + 13) // 26
    return out


def blend(degenerate: np.ndarray, image: np.ndarray, factor: float) -> np.ndarray:
    """Image.blend(degenerate, image, factor): float32 in1 + alpha * (in2 - in1), clipped, truncated."""
    f32 = np.float32
    v = degenerate.astype(f32) + f32(factor) * (image.astype(np.int32) - degenerate.astype(np.int32)).astype(f32)
    return np.clip(v, f32(0), f32(255)).astype(np.uint8)


def auto_contrast_lut(channel: np.ndarray) -> np.ndarray:
    """ImageOps.autocontrast's table [256] for one channel (cutoff 0)."""
    lo, hi = int(channel.min()), int(channel.max())
    if hi <= lo:
        return np.arange(256)
    scale = 255.0 / (hi - lo)
    offset = -lo * scale
    return np.clip(np.trunc(np.arange(256) * scale + offset), 0, 255).astype(np.int64)


def equalize_lut(channel: np.ndarray) -> np.ndarray:
    """ImageOps.equalize's table [256] for one channel; Pillow's point() clips entries above 255."""
    hist = np.bincount(channel.ravel(), minlength=256).astype(np.int64)
    present = np.flatnonzero(hist)
    step = (int(hist.sum()) - int(hist[present[-1]])) // 255
    if len(present) <= 1 or step == 0:
        return np.arange(256)
    n = step // 2 + np.concatenate([[0], np.cumsum(hist)[:-1]])
    return np.minimum(n // step, 255)


def apply_op(image: np.ndarray, op: int, arg: float, fill) -> np.ndarray:
    """One op on one image [C, H, W] uint8; `fill` (C ints) colours what geometric ops uncover."""
    name = OPS[op]
    v = image.astype(np.int64)
    if name in ("auto_contrast", "equalize"):
        make = auto_contrast_lut if name == "auto_contrast" else equalize_lut
        return np.stack([make(ch)[ch] for ch in image]).astype(np.uint8)
    if name == "invert":
        return (255 - v).astype(np.uint8)
    if name == "posterize":
        bits = int(arg)
        if bits >= 8:  # timm returns the image untouched
            return image.copy()
        return (v & ~(2 ** (8 - bits) - 1)).astype(np.uint8)
    if name == "solarize":
        return np.where(v < arg, v, 255 - v).astype(np.uint8)
    if name == "solarize_add":
        return np.where(v < 128, np.minimum(255, v + int(arg)), v).astype(np.uint8)
    if name == "brightness":
        degenerate = np.zeros_like(image)
    elif name == "contrast":
        luma = gray(image)
        mean = int(luma.sum()) / luma.size  # ImageStat's mean: histogram sum / count, a correctly rounded division
        degenerate = np.full_like(image, int(mean + 0.5))
    elif name == "color":
        degenerate = np.broadcast_to(gray(image).astype(np.uint8), image.shape)
    elif name == "sharpness":
        degenerate = smooth(image)
    else:
        return affine(image, affine_matrix(op, arg, image.shape[1], image.shape[2]), fill)
    return blend(degenerate, image, arg)


def apply(images: np.ndarray, ops: np.ndarray, args: np.ndarray, fill) -> np.ndarray:
    """Layer 0, then layer 1, ... on each image. images [B, C, H, W] uint8; ops [B, L] int (-1 skips that
    layer for that image); args [B, L] float (from `op_argument`); fill: C ints. Returns a new array."""
    ops, args = np.asarray(ops), np.asarray(args, np.float64)
    out = np.array(images, dtype=np.uint8, copy=True)
    for b in range(out.shape[0]):
        for layer in range(ops.shape[1]):
            if ops[b, layer] >= 0:
                out[b] = apply_op(out[b], int(ops[b, layer]), float(args[b, layer]), fill)
    return out
