"""2D IFS rendering, the reference: plain NumPy and Python loops, written to be read, not to be fast.

This file is the executable specification of the FractalDB-family renderer (docs/spec/fractals.md
§1.3-1.5), which the original's outputs match to the pixel:

1. chaos game from the origin, float64, map j chosen as the first with u_i <= c_j (c = running sum of
   p), the origin kept as point 0, no burn-in; no map matching repeats the previous point;
2. the NaN rule (first on x, then on y, with NumPy's `delete` semantics);
3. rescale of x and y independently to [pad, size - pad] and a C cast to uint16;
4. rasterisation: single pixels, or 3x3 patches with a random 9-bit pattern per point pasted at
   (x + 1, y + 1) and overwriting all nine pixels (the last point wins); gray 127 or the colour table;
5. a vertical flip (the originals' output orientation), then the instance's flip0..flip3.

Every other backend must equal this one bit for bit.
"""

from __future__ import annotations

import numpy as np

from ... import rng
from .batch import IFSBatch, RenderSettings
from .draw_constants import COLOR_TABLE, GRAY, map_sequence

NAN_BACKOFF = 100  # points dropped before the first NaN


def chaos_game(system: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Iterate one system from the origin.

    Args:
        system: [N, 7] float64 rows (a, b, c, d, e, f, p): x' = x*a + y*b + e, y' = x*c + y*d + f.
        u: [n] float64 map-choice uniforms; u[n - 1] is never used.

    Returns:
        xs, ys: [n] float64, point 0 the origin.
    """
    a, b, c, d, e, f, p = (system[:, k].tolist() for k in range(7))
    cum, total = [], 0.0
    for pk in p:
        total += pk
        cum.append(total)
    n = u.shape[0]
    xs, ys = np.zeros(n), np.zeros(n)
    x = y = 0.0
    for i in range(n - 1):
        ui = float(u[i])
        for j in range(len(cum)):
            if ui <= cum[j]:
                x, y = x * a[j] + y * b[j] + e[j], x * c[j] + y * d[j] + f[j]
                break
        xs[i + 1], ys[i + 1] = x, y
    return xs, ys


def drop_nan_rows(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The original's overflow rule: for x, then y, drop the 100 rows before the first NaN and all NaN rows.

    Row indices below zero count from the end (`np.delete`); where that reaches before the start,
    the original stops with an IndexError, and here no point is left.
    """
    for coord in (0, 1):
        arr = xs if coord == 0 else ys
        nan_rows = np.flatnonzero(np.isnan(arr))
        if nan_rows.size:
            k = int(nan_rows[0])
            rows = np.append(np.arange(k - NAN_BACKOFF, k), nan_rows)
            try:
                xs, ys = np.delete(xs, rows), np.delete(ys, rows)
            except IndexError:
                return np.zeros(0), np.zeros(0)
    return xs, ys


def c_cast_uint16(v: np.ndarray) -> np.ndarray:
    """NumPy's float64 -> uint16 cast on x86-64: truncate to int32 (0x80000000 if out of range or NaN), keep 16 bits."""
    t = np.trunc(v)
    ok = (t > -2147483649.0) & (t < 2147483648.0)  # False for NaN
    ints = np.zeros(v.shape, dtype=np.int64)
    ints[ok] = t[ok].astype(np.int64)
    return (ints & 0xFFFF).astype(np.uint16)


def rescale_axis(v: np.ndarray, extent: int, pad: int) -> np.ndarray:
    """Shift to >= 0 if needed, then map [0, max - min] to [pad, extent - pad], exactly as the original."""
    with np.errstate(all="ignore"):
        if np.min(v) < 0.0:
            v = v - np.min(v)
        vmax, vmin = np.max(v), np.min(v)
        return c_cast_uint16(v / (vmax - vmin) * float(extent - 2 * pad) + float(pad))


def points(system: np.ndarray, u: np.ndarray, size: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (px, py) uint16 [m] of one system's points, before the output flip."""
    xs, ys = drop_nan_rows(*chaos_game(system, u))
    if xs.size == 0:
        return np.zeros(0, np.uint16), np.zeros(0, np.uint16)
    return rescale_axis(xs, size, pad), rescale_axis(ys, size, pad)


def patch_patterns(seed: int, stream: int, category: int, variant: int, n: int) -> np.ndarray:
    """The 9-bit patterns (int64 [n], each in 1..511) of one render, one 32-bit word per point."""
    return 1 + rng.bounded(rng.philox_words(seed, stream, category, variant, n), 511)


def rasterize(
    px: np.ndarray, py: np.ndarray, settings: RenderSettings, patterns: np.ndarray | None, flip: int
) -> np.ndarray:
    """Draw points into a [C, H, W] uint8 image in output orientation (vertical flip, then flip0..3)."""
    size = settings.size
    img = np.zeros((size, size, settings.channels), dtype=np.uint8)  # [H, W, C], drawing orientation
    for i in range(px.shape[0]):
        color = COLOR_TABLE[i % 128] if settings.color else (GRAY,)
        x, y = int(px[i]), int(py[i])
        if patterns is None:
            if x < size and y < size:  # (the original raises IndexError here)
                img[y, x] = color
            continue
        ox, oy = (x + 1) & 0xFFFF, (y + 1) & 0xFFFF  # uint16 arithmetic, as the original's
        for r in range(3):
            for c in range(3):
                if oy + r < size and ox + c < size:  # the paste is clipped at the border
                    bit = (int(patterns[i]) >> (8 - (3 * r + c))) & 1  # MSB first
                    img[oy + r, ox + c] = np.asarray(color, dtype=np.int64) * bit
    img = img[::-1]  # the originals flip top-bottom before saving
    if flip in (1, 3):
        img = img[::-1]
    if flip in (2, 3):
        img = img[:, ::-1]
    return np.ascontiguousarray(img.transpose(2, 0, 1))


def render(batch: IFSBatch, settings: RenderSettings) -> np.ndarray:
    """Render a batch. Returns uint8 [B, C, H, W]."""
    u = map_sequence(settings.n_points)
    pts = [points(batch.systems[s, : batch.n_maps[s]], u, settings.size, settings.pad)
           for s in range(batch.systems.shape[0])]
    out = np.empty((batch.size, settings.channels, settings.size, settings.size), dtype=np.uint8)
    for b in range(batch.size):
        px, py = pts[batch.system_of[b]]
        patterns = None
        if settings.patch:
            cat, rid = (int(v) for v in batch.patch_key[b])
            patterns = patch_patterns(settings.seed, settings.patch_stream, cat, rid, px.shape[0])
        out[b] = rasterize(px, py, settings, patterns, int(batch.flip[b]))
    return out


def point_fill_count(system: np.ndarray, u: np.ndarray, size: int, pad: int) -> int:
    """Number of distinct lit pixels of a point render (the search's acceptance measure)."""
    px, py = points(system, u, size, pad)
    inside = (px < size) & (py < size)
    return int(np.unique(py[inside].astype(np.int64) * size + px[inside]).size)


def point_fill_counts(systems: np.ndarray, n_maps: np.ndarray, u: np.ndarray, u_row: np.ndarray,
                      size: int, pad: int) -> np.ndarray:
    """Lit pixels of each system's point render (int64 [U]); u [R, n], u_row [U] picks each system's row."""
    return np.array([point_fill_count(systems[s, : n_maps[s]], u[u_row[s]], size, pad)
                     for s in range(systems.shape[0])], dtype=np.int64)
