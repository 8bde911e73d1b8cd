"""2D IFS rendering on the CPU with numba: must equal `render_ref` bit for bit.

Work decomposition (the one the CUDA kernel will use): stage 1 runs one chaos game per unique system
(prange over systems) into pixel coordinates; stage 2 draws one image per iteration (prange over
images), each image reading its system's points and its own Philox patch words. Compiled with
`error_model="numpy"` (a division by zero gives inf/NaN as in NumPy) and without fastmath, so that
LLVM neither contracts a*b + c into a fused multiply-add nor reorders float64 arithmetic: the chaos
game amplifies a last-bit difference into different pixels.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ...backends.numba_philox import bounded, philox4x32_10
from .batch import IFSBatch, RenderSettings
from .fixed import COLOR_TABLE, GRAY, map_sequence
from .render_ref import NAN_BACKOFF

_jit = nb.njit(cache=True, error_model="numpy", nogil=True)
_pjit = nb.njit(cache=True, error_model="numpy", nogil=True, parallel=True)
_MASK = np.uint64(0xFFFFFFFF)


@_jit
def _chaos(system, n_maps, u, xs, ys):
    """Chaos game from the origin into xs, ys ([n] float64); as `render_ref.chaos_game`."""
    cum = np.empty(n_maps)
    total = 0.0
    for j in range(n_maps):
        total += system[j, 6]
        cum[j] = total
    x = 0.0
    y = 0.0
    xs[0] = 0.0
    ys[0] = 0.0
    for i in range(u.shape[0] - 1):
        ui = u[i]
        for j in range(n_maps):
            if ui <= cum[j]:
                nx = x * system[j, 0] + y * system[j, 1] + system[j, 4]
                y = x * system[j, 2] + y * system[j, 3] + system[j, 5]
                x = nx
                break
        xs[i + 1] = x
        ys[i + 1] = y


@_jit
def _drop_nan_rows(xs, ys, m):
    """The NaN rule of `render_ref.drop_nan_rows`, compacting xs[:m], ys[:m] in place; returns the new m."""
    for coord in range(2):
        arr = xs if coord == 0 else ys
        k = -1
        for i in range(m):
            if np.isnan(arr[i]):
                k = i
                break
        if k < 0:
            continue
        keep = np.ones(m, dtype=np.bool_)
        for i in range(k - NAN_BACKOFF, k):
            j = i + m if i < 0 else i
            if j < 0:
                return 0  # np.delete raises IndexError: no points
            keep[j] = False
        for i in range(k, m):
            if np.isnan(arr[i]):
                keep[i] = False
        w = 0
        for i in range(m):
            if keep[i]:
                xs[w] = xs[i]
                ys[w] = ys[i]
                w += 1
        m = w
    return m


@_jit
def _min_max(v, m):
    """(np.min, np.max) of v[:m], NaN if any element is NaN."""
    lo = v[0]
    hi = v[0]
    for i in range(m):
        t = v[i]
        if np.isnan(t):
            return np.nan, np.nan
        if t < lo:
            lo = t
        if t > hi:
            hi = t
    return lo, hi


@_jit
def _c_cast_uint16(v):
    """As `render_ref.c_cast_uint16` for one value."""
    if not (v > -2147483649.0 and v < 2147483648.0):
        return np.uint16(0)
    return np.uint16(np.int64(v) & 0xFFFF)


@_jit
def _rescale_axis(v, m, extent, pad, out):
    """As `render_ref.rescale_axis` on v[:m] (shifted in place), writing uint16 out[:m]."""
    lo, hi = _min_max(v, m)
    if lo < 0.0:
        for i in range(m):
            v[i] = v[i] - lo
        lo, hi = _min_max(v, m)
    span = hi - lo
    scale = float(extent - 2 * pad)
    off = float(pad)
    for i in range(m):
        out[i] = _c_cast_uint16(v[i] / span * scale + off)


@_jit
def _points(system, n_maps, u, size, pad, xs, ys, px, py):
    """One system's pixel coordinates into px, py; returns how many points there are."""
    _chaos(system, n_maps, u, xs, ys)
    m = _drop_nan_rows(xs, ys, u.shape[0])
    if m > 0:
        _rescale_axis(xs, m, size, pad, px)
        _rescale_axis(ys, m, size, pad, py)
    return m


@_pjit
def _points_kernel(systems, n_maps, u, size, pad, px, py, count):
    """Stage 1. systems [U,7,7], n_maps [U], u [n] -> px, py [U, n] uint16 and count [U]."""
    n = u.shape[0]
    for s in nb.prange(systems.shape[0]):
        xs = np.empty(n)
        ys = np.empty(n)
        count[s] = _points(systems[s], n_maps[s], u, size, pad, xs, ys, px[s], py[s])


@_jit
def _put(img, row, col, table_row, color, bit):
    """Write one pixel of a [C, H, W] image: gray 127 or a colour-table row, times bit."""
    if color:
        for ch in range(3):
            img[ch, row, col] = table_row[ch] * bit
    else:
        img[0, row, col] = GRAY * bit


@_pjit
def _raster_kernel(px, py, count, system_of, flip, patch_key, seed, stream, patch, color, table, out):
    """Stage 2. One image per iteration into out [B, C, H, W] (cleared here)."""
    size = out.shape[2]
    for b in nb.prange(out.shape[0]):
        img = out[b]
        img[:] = 0
        s = system_of[b]
        vflip = flip[b] == 0 or flip[b] == 2  # the originals' save flip, undone again by flip1/flip3
        hflip = flip[b] >= 2
        cat = np.uint64(patch_key[b, 0])
        rid = np.uint64(patch_key[b, 1])
        w0 = w1 = w2 = w3 = np.uint64(0)
        for i in range(count[s]):
            x = np.int64(px[s, i])
            y = np.int64(py[s, i])
            trow = table[i % 128]
            if not patch:
                if x < size and y < size:
                    _put(img, size - 1 - y if vflip else y, size - 1 - x if hflip else x, trow, color, 1)
                continue
            if i % 4 == 0:
                step = np.uint64(i // 4)
                w0, w1, w2, w3 = philox4x32_10(step & _MASK, step >> np.uint64(32), rid, cat, seed, stream)
            lane = i % 4
            word = w0 if lane == 0 else (w1 if lane == 1 else (w2 if lane == 2 else w3))
            pattern = 1 + bounded(word, 511)
            ox = (x + 1) & 0xFFFF
            oy = (y + 1) & 0xFFFF
            for r in range(3):
                if oy + r >= size:
                    continue
                row = size - 1 - (oy + r) if vflip else oy + r
                for c in range(3):
                    if ox + c >= size:
                        continue
                    bit = (pattern >> (8 - (3 * r + c))) & 1
                    _put(img, row, size - 1 - (ox + c) if hflip else ox + c, trow, color, bit)


@_pjit
def _fill_kernel(systems, n_maps, u, u_row, size, pad, filled):
    """Distinct lit pixels of a point render per system; u [R, n] rows chosen by u_row [U]."""
    n = u.shape[1]
    for s in nb.prange(systems.shape[0]):
        xs = np.empty(n)
        ys = np.empty(n)
        px = np.empty(n, dtype=np.uint16)
        py = np.empty(n, dtype=np.uint16)
        m = _points(systems[s], n_maps[s], u[u_row[s]], size, pad, xs, ys, px, py)
        lit = np.zeros(size * size, dtype=np.bool_)
        total = 0
        for i in range(m):
            x = np.int64(px[i])
            y = np.int64(py[i])
            if x < size and y < size and not lit[y * size + x]:
                lit[y * size + x] = True
                total += 1
        filled[s] = total


def points(batch: IFSBatch, settings: RenderSettings):
    """Stage 1 for a batch: (px, py [U, n] uint16, count [U] int64)."""
    u = map_sequence(settings.n_points)
    n_sys = batch.systems.shape[0]
    px = np.empty((n_sys, settings.n_points), dtype=np.uint16)
    py = np.empty_like(px)
    count = np.empty(n_sys, dtype=np.int64)
    _points_kernel(batch.systems, batch.n_maps, u, settings.size, settings.pad, px, py, count)
    return px, py, count


def render(batch: IFSBatch, settings: RenderSettings) -> np.ndarray:
    """Render a batch. Returns uint8 [B, C, H, W]; equals `render_ref.render`."""
    px, py, count = points(batch, settings)
    out = np.empty((batch.size, settings.channels, settings.size, settings.size), dtype=np.uint8)
    _raster_kernel(px, py, count, batch.system_of, batch.flip, batch.patch_key.astype(np.uint32),
                   np.uint64(settings.seed), np.uint64(settings.patch_stream),
                   settings.patch, settings.color, COLOR_TABLE, out)
    return out


def point_fill_counts(systems: np.ndarray, n_maps: np.ndarray, u: np.ndarray, u_row: np.ndarray,
                      size: int, pad: int) -> np.ndarray:
    """Distinct lit pixels of each system's point render (int64 [U]); u [R, n], u_row [U]."""
    filled = np.empty(systems.shape[0], dtype=np.int64)
    _fill_kernel(systems, n_maps, np.ascontiguousarray(u), u_row.astype(np.int64), size, pad, filled)
    return filled
