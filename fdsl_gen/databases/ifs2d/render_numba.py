"""2D IFS rendering on the CPU with numba: must equal `render_ref` bit for bit.

Work decomposition (the one the CUDA kernel will use): stage 1 runs one chaos game per unique system
(prange over systems) into pixel coordinates; stage 2 draws one image per iteration (prange over
images), each image reading its system's points and its own Philox patch words. Compiled with
`error_model="numpy"` (a division by zero gives inf/NaN as in NumPy) and without fastmath, so that
LLVM neither contracts a*b + c into a fused multiply-add nor reorders float64 arithmetic: the chaos
game amplifies a last-bit difference into different pixels. The chaos game and the rescale of one system
are in `chaos_numba`.
"""

from __future__ import annotations

import threading

import numba as nb
import numpy as np

from ...backends.numba_parallel import parallel_jit
from ...backends.numba_philox import bounded, philox4x32_10
from .batch import IFSBatch, RenderSettings
from .draw_constants import COLOR_TABLE, GRAY, map_sequence
from .chaos_numba import _points

_jit = nb.njit(cache=True, error_model="numpy", nogil=True)
_pjit = parallel_jit  # launched under one lock: see backends.numba_parallel
_MASK = np.uint64(0xFFFFFFFF)



@_pjit
def _points_kernel(systems, n_maps, u, size, pad, workers, px, py, count):
    """Stage 1. systems [U,7,7], n_maps [U], u [n] -> px, py [U, n] uint16 and count [U].

    Each worker allocates its float64 scratch once and takes every n_workers-th system: allocating
    per system would cost more (page faults on fresh megabytes) than the chaos game itself.
    """
    n = u.shape[0]
    n_sys = systems.shape[0]
    for w in nb.prange(workers):
        xs = np.empty(n)
        ys = np.empty(n)
        for s in range(w, n_sys, workers):
            count[s] = _points(systems[s], n_maps[s], u, size, pad, xs, ys, px[s], py[s])


@_jit
def _patterns(seed, stream, category, variant, m, out):
    """The 9-bit patch patterns of one render (1..511, one Philox word per point) into out[:m]."""
    for step in range((m + 3) // 4):
        s = np.uint64(step)
        w0, w1, w2, w3 = philox4x32_10(s & _MASK, s >> np.uint64(32), variant, category, seed, stream)
        base = step * 4
        out[base] = 1 + bounded(w0, 511)
        out[base + 1] = 1 + bounded(w1, 511)
        out[base + 2] = 1 + bounded(w2, 511)
        out[base + 3] = 1 + bounded(w3, 511)


@_jit
def _dots(img, px, py, m, vflip, hflip, color, table):
    """Point mode into img [C, H, W]: one pixel per point, off-canvas points dropped."""
    size = img.shape[1]
    for i in range(m):
        x = np.int64(px[i])
        y = np.int64(py[i])
        if x < size and y < size:
            row = size - 1 - y if vflip else y
            col = size - 1 - x if hflip else x
            if color:
                for ch in range(3):
                    img[ch, row, col] = table[i % 128, ch]
            else:
                img[0, row, col] = GRAY


@_jit
def _stamps(img, px, py, m, patterns, vflip, hflip, color, table):
    """Patch mode into img [C, H, W]: 3x3 cells at (x + 1, y + 1), MSB first, each point overwriting all nine."""
    size = img.shape[1]
    for i in range(m):
        ox = (np.int64(px[i]) + 1) & 0xFFFF  # uint16 arithmetic, as the original's
        oy = (np.int64(py[i]) + 1) & 0xFFFF
        pattern = patterns[i]
        for r in range(3):
            if oy + r >= size:  # the paste is clipped at the border
                break
            row = size - 1 - (oy + r) if vflip else oy + r
            bits = pattern >> (6 - 3 * r)
            for c in range(3):
                if ox + c >= size:
                    break
                col = size - 1 - (ox + c) if hflip else ox + c
                bit = (bits >> (2 - c)) & 1
                if color:
                    for ch in range(3):
                        img[ch, row, col] = table[i % 128, ch] * bit
                else:
                    img[0, row, col] = GRAY * bit


@_pjit
def _raster_kernel(px, py, count, system_of, flip, patch_key, seed, stream, patch, color, table, workers, out):
    """Stage 2. One image per step into out [B, C, H, W] (cleared here); each worker owns a pattern buffer."""
    n_img = out.shape[0]
    for w in nb.prange(workers):
        patterns = np.empty(px.shape[1] + 4, dtype=np.int64)
        for b in range(w, n_img, workers):
            img = out[b]
            img[:] = 0
            s = system_of[b]
            vflip = flip[b] == 0 or flip[b] == 2  # the originals' save flip, undone again by flip1/flip3
            hflip = flip[b] >= 2
            if patch:
                _patterns(seed, stream, np.uint64(patch_key[b, 0]), np.uint64(patch_key[b, 1]), count[s], patterns)
                _stamps(img, px[s], py[s], count[s], patterns, vflip, hflip, color, table)
            else:
                _dots(img, px[s], py[s], count[s], vflip, hflip, color, table)


@_pjit
def _fill_kernel(systems, n_maps, u, u_row, size, pad, workers, filled):
    """Distinct lit pixels of a point render per system; u [R, n] rows chosen by u_row [U]."""
    n = u.shape[1]
    n_sys = systems.shape[0]
    for w in nb.prange(workers):
        xs = np.empty(n)
        ys = np.empty(n)
        px = np.empty(n, dtype=np.uint16)
        py = np.empty(n, dtype=np.uint16)
        lit = np.zeros(size * size, dtype=np.bool_)
        for s in range(w, n_sys, workers):
            m = _points(systems[s], n_maps[s], u[u_row[s]], size, pad, xs, ys, px, py)
            total = 0
            for i in range(m):
                x = np.int64(px[i])
                y = np.int64(py[i])
                if x < size and y < size and not lit[y * size + x]:
                    lit[y * size + x] = True
                    total += 1
            filled[s] = total
            for i in range(m):  # clear only what was set
                x = np.int64(px[i])
                y = np.int64(py[i])
                if x < size and y < size:
                    lit[y * size + x] = False


def _workers(n_items: int) -> int:
    """How many scratch-owning workers a kernel runs: numba's thread count, at most one per item."""
    return max(1, min(nb.get_num_threads(), n_items))


_scratch = threading.local()


def _coordinate_buffers(n_sys: int, n_points: int):
    """Reusable px, py buffers [n_sys, n_points] uint16 of this thread.

    Fresh tens of megabytes per call cost more in page faults than the chaos games that fill them.
    """
    need = n_sys * n_points
    if getattr(_scratch, "size", 0) < need:
        _scratch.px = np.empty(need, dtype=np.uint16)
        _scratch.py = np.empty(need, dtype=np.uint16)
        _scratch.size = need
    return _scratch.px[:need].reshape(n_sys, n_points), _scratch.py[:need].reshape(n_sys, n_points)


def points(batch: IFSBatch, settings: RenderSettings):
    """Stage 1 for a batch: (px, py [U, n] uint16, count [U] int64); px, py are reused by the next call."""
    u = map_sequence(settings.n_points)
    n_sys = batch.systems.shape[0]
    px, py = _coordinate_buffers(n_sys, settings.n_points)
    count = np.empty(n_sys, dtype=np.int64)
    _points_kernel(batch.systems, batch.n_maps, u, settings.size, settings.pad, _workers(n_sys), px, py, count)
    return px, py, count


def render(batch: IFSBatch, settings: RenderSettings) -> np.ndarray:
    """Render a batch. Returns uint8 [B, C, H, W]; equals `render_ref.render`."""
    px, py, count = points(batch, settings)
    out = np.empty((batch.size, settings.channels, settings.size, settings.size), dtype=np.uint8)
    _raster_kernel(px, py, count, batch.system_of, batch.flip, batch.patch_key.astype(np.uint32),
                   np.uint64(settings.seed), np.uint64(settings.patch_stream),
                   settings.patch, settings.color, COLOR_TABLE, _workers(batch.size), out)
    return out


def point_fill_counts(systems: np.ndarray, n_maps: np.ndarray, u: np.ndarray, u_row: np.ndarray,
                      size: int, pad: int) -> np.ndarray:
    """Distinct lit pixels of each system's point render (int64 [U]); u [R, n], u_row [U]."""
    filled = np.empty(systems.shape[0], dtype=np.int64)
    _fill_kernel(systems, n_maps, np.ascontiguousarray(u), u_row.astype(np.int64), size, pad,
                 _workers(systems.shape[0]), filled)
    return filled
