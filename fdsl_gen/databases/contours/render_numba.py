"""Contour rendering on the CPU with numba: must equal `render_ref` bit for bit.

One image per worker step (prange over workers, each owning its scratch arrays); inside an image the
orbits are drawn in order, so the highest orbit's gray wins a pixel as in the reference. float64
geometry in the reference's order, float32 noise, libm sin/cos, no fastmath: LLVM neither fuses nor
reorders. A segment whose bounding box misses the canvas is skipped (none of its pixels can land).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ...backends.numba_philox import bounded, philox4x32_10
from .batch import NOISE_SCALE, RCDB, ContourBatch, ContourSettings, orbit_steps
from .noise import GRADIENT

_jit = nb.njit(cache=True, error_model="numpy", nogil=True)
_pjit = nb.njit(cache=True, error_model="numpy", nogil=True, parallel=True)
_MASK = np.uint64(0xFFFFFFFF)
_F1, _F6, _F10, _F15, _F04 = np.float32(1), np.float32(6), np.float32(10), np.float32(15), np.float32(0.4)


_orbit_steps = _jit(orbit_steps)  # the one definition, compiled for use inside the kernel


@_jit
def _pnoise1(x, gradient):
    """As `noise.pnoise1` for one float32 x >= 0."""
    fl = np.floor(x)
    i = np.int64(fl) % 1024
    ii = (i + 1) % 1024
    t = x - fl
    fade = t * t * t * (t * (t * _F6 - _F15) + _F10)
    a = gradient[i & 255] * t
    b = gradient[ii & 255] * (t - _F1)
    return (a + fade * (b - a)) * _F04


@_jit
def _segment(img, x0, y0, x1, y1, gray):
    """Draw a 1-px line like `render_ref.line_pixels`, clipped per pixel."""
    s = img.shape[0]
    if max(x0, x1) < 0 or min(x0, x1) >= s or max(y0, y1) < 0 or min(y0, y1) >= s:
        return
    dx = x1 - x0
    xs = 1
    if dx < 0:
        dx = -dx
        xs = -1
    dy = y1 - y0
    ys = 1
    if dy < 0:
        dy = -dy
        ys = -1
    x = x0
    y = y0
    if dx == 0 or dy == 0:
        sx = xs if dx else 0
        sy = ys if dy else 0
        for _ in range(max(dx, dy)):
            if 0 <= x < s and 0 <= y < s:
                img[y, x] = gray
            x += sx
            y += sy
    elif dx > dy:
        e = 2 * dy - dx
        for _ in range(dx):
            if 0 <= x < s and 0 <= y < s:
                img[y, x] = gray
            if e >= 0:
                y += ys
                e -= 2 * dx
            e += 2 * dy
            x += xs
    else:
        e = 2 * dx - dy
        for _ in range(dy):
            if 0 <= x < s and 0 <= y < s:
                img[y, x] = gray
            if e >= 0:
                x += xs
                e -= 2 * dy
            e += 2 * dx
            y += ys
    if 0 <= x1 < s and 0 <= y1 < s:
        img[y1, x1] = gray


@_jit
def _orbit_words(seed, stream, category, instance, first_step, n_steps, words):
    """Words of steps first_step .. first_step + n_steps - 1 into words[: 4 n_steps]."""
    for j in range(n_steps):
        s = np.uint64(first_step + j)
        w0, w1, w2, w3 = philox4x32_10(s & _MASK, s >> np.uint64(32), instance, category, seed, stream)
        words[4 * j] = w0
        words[4 * j + 1] = w1
        words[4 * j + 2] = w2
        words[4 * j + 3] = w3


@_pjit
def _render_kernel(vertices, orbits, eta, c, r0, sx, sy, xc, yc, n1, n2, key,
                   kind, background, gray_levels, seed, stream, gradient, max_q, workers, out):
    """All images of a batch into out [B, 1, S, S]."""
    n_img = out.shape[0]
    rcdb = kind == RCDB
    for w in nb.prange(workers):
        cos = np.empty(max_q)
        sin = np.empty(max_q)
        wave1 = np.empty(max_q)
        wave2 = np.empty(max_q)
        px = np.empty(max_q)
        py = np.empty(max_q)
        ix = np.empty(max_q, dtype=np.int64)
        iy = np.empty(max_q, dtype=np.int64)
        words = np.empty(4 * _orbit_steps(max_q), dtype=np.uint32)
        for b in range(w, n_img, workers):
            img = out[b, 0]
            img[:] = background
            q = vertices[b]
            angle = (2 * np.pi) / q
            for v in range(q):
                cos[v] = math.cos(angle * v)
                sin[v] = math.sin(angle * v)
                wave1[v] = 0.5 * math.sin(angle * v * n1[b])
                wave2[v] = 0.5 * math.sin(angle * v * n2[b])
                if rcdb:
                    px[v] = cos[v] * r0[b] * sx[b]
                    py[v] = sin[v] * r0[b] * sy[b]
                else:
                    px[v] = cos[v] * r0[b] * sx[b] + xc[b]
                    py[v] = sin[v] * r0[b] * sy[b] + yc[b]
            steps = _orbit_steps(q)
            category = np.uint64(key[b, 0])
            instance = np.uint64(key[b, 1])
            for k in range(orbits[b]):
                _orbit_words(seed, stream, category, instance, k * steps, steps, words)
                gray = min(bounded(words[0], gray_levels), 255)
                for v in range(q):
                    nx = np.float64(_pnoise1(np.float32(np.float64(words[1 + v]) * NOISE_SCALE), gradient))
                    ny = np.float64(_pnoise1(np.float32(np.float64(words[1 + q + v]) * NOISE_SCALE), gradient))
                    if rcdb:
                        nx = nx * eta[b] * 2 - eta[b]
                        ny = ny * eta[b] * 2 - eta[b]
                    else:
                        nx = nx * eta[b] - eta[b] - wave1[v] - wave2[v]
                        ny = ny * eta[b] - eta[b] - wave1[v] - wave2[v]
                    px[v] -= cos[v] * (nx - c[b])
                    py[v] -= sin[v] * (ny - c[b])
                    if rcdb:
                        ix[v] = np.int64(px[v] + xc[b])
                        iy[v] = np.int64(py[v] + yc[b])
                    else:
                        ix[v] = np.int64(px[v])
                        iy[v] = np.int64(py[v])
                for v in range(q):
                    u = v + 1 if v + 1 < q else 0
                    _segment(img, ix[v], iy[v], ix[u], iy[u], np.uint8(gray))


def render(batch: ContourBatch, settings: ContourSettings) -> np.ndarray:
    """Render a batch. Returns uint8 [B, 1, S, S]; equals `render_ref.render`."""
    out = np.empty((batch.size, 1, settings.size, settings.size), dtype=np.uint8)
    if batch.size == 0:
        return out
    workers = max(1, min(nb.get_num_threads(), batch.size))
    _render_kernel(batch.vertices, batch.orbits, batch.eta, batch.c, batch.r0, batch.sx, batch.sy, batch.xc,
                   batch.yc, batch.n1, batch.n2, batch.key.astype(np.uint32), settings.kind,
                   np.uint8(settings.background), settings.gray_levels, np.uint64(settings.seed),
                   np.uint64(settings.stream), GRADIENT, int(batch.vertices.max()), workers, out)
    return out


@_jit
def _vertex_tables(q, n1, n2, out):
    """out [4, q]: cos, sin, 0.5 sin(n1 theta), 0.5 sin(n2 theta) at theta = (2 pi / q) v (libm, as the kernel)."""
    angle = (2 * np.pi) / q
    for v in range(q):
        out[0, v] = math.cos(angle * v)
        out[1, v] = math.sin(angle * v)
        out[2, v] = 0.5 * math.sin(angle * v * n1)
        out[3, v] = 0.5 * math.sin(angle * v * n2)


def vertex_tables(vertices: np.ndarray, n1: np.ndarray, n2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image tables for the CUDA kernel: (flat float64 tables, int64 offset of each image's [4, q] block).

    Images with the same (q, n1, n2) share one block.
    """
    blocks, offsets, index, size = [], [], {}, 0
    for q, a, b in zip(vertices.tolist(), n1.tolist(), n2.tolist()):
        if (q, a, b) not in index:
            table = np.empty((4, q))
            _vertex_tables(q, a, b, table)
            index[(q, a, b)] = size
            blocks.append(table.ravel())
            size += 4 * q
        offsets.append(index[(q, a, b)])
    return np.concatenate(blocks), np.array(offsets, dtype=np.int64)
