"""Contour rendering on the CPU with numba: must equal `render_ref` bit for bit.

One image per worker step (prange over workers, each owning its scratch arrays); inside an image the
orbits are drawn in order, so the highest orbit's gray wins a pixel as in the reference. float64
geometry in the reference's order, float32 noise, libm sin/cos, no fastmath: LLVM neither fuses nor
reorders. A segment whose bounding box misses the canvas is skipped (none of its pixels can land).
Two kernels share the geometry and the rasteriser and differ only in where an orbit's gray and noise
positions come from: Philox (native) or the released script's MT19937 stream (published replay, `mt19937`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ...backends.numba_parallel import parallel_jit
from ...backends.numba_philox import bounded, philox4x32_10
from . import mt19937
from .batch import NOISE_SCALE, RCDB, ContourBatch, ContourSettings, orbit_steps
from .noise import GRADIENT

_jit = nb.njit(cache=True, error_model="numpy", nogil=True)
_pjit = parallel_jit  # launched under one lock: see backends.numba_parallel
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


@_jit
def _scratch(max_q):
    """One worker's arrays: cos, sin, wave1, wave2, px, py (float64), ix, iy (int64), nx, ny (float32), [max_q]."""
    f = np.empty((6, max_q))
    i = np.empty((2, max_q), dtype=np.int64)
    n = np.empty((2, max_q), dtype=np.float32)
    return f[0], f[1], f[2], f[3], f[4], f[5], i[0], i[1], n[0], n[1]


@_jit
def _start_polygon(q, r0, sx, sy, xc, yc, n1, n2, rcdb, cos, sin, wave1, wave2, px, py):
    """The vertex tables [q] and the start polygon [q] (RCDB: without the centre, added when drawing)."""
    angle = (2 * np.pi) / q
    for v in range(q):
        cos[v] = math.cos(angle * v)
        sin[v] = math.sin(angle * v)
        wave1[v] = 0.5 * math.sin(angle * v * n1)
        wave2[v] = 0.5 * math.sin(angle * v * n2)
        if rcdb:
            px[v] = cos[v] * r0 * sx
            py[v] = sin[v] * r0 * sy
        else:
            px[v] = cos[v] * r0 * sx + xc
            py[v] = sin[v] * r0 * sy + yc


@_jit
def _advance(q, eta, c, xc, yc, rcdb, cos, sin, wave1, wave2, noise_x, noise_y, px, py, ix, iy):
    """One orbit: push the polygon out by the noise [q] (float32) and the waves; ix, iy: its pixel vertices."""
    for v in range(q):
        nx = np.float64(noise_x[v])
        ny = np.float64(noise_y[v])
        if rcdb:
            nx = nx * eta * 2 - eta
            ny = ny * eta * 2 - eta
        else:
            nx = nx * eta - eta - wave1[v] - wave2[v]
            ny = ny * eta - eta - wave1[v] - wave2[v]
        px[v] -= cos[v] * (nx - c)
        py[v] -= sin[v] * (ny - c)
        if rcdb:
            ix[v] = np.int64(px[v] + xc)
            iy[v] = np.int64(py[v] + yc)
        else:
            ix[v] = np.int64(px[v])
            iy[v] = np.int64(py[v])


@_jit
def _draw_polygon(img, q, ix, iy, gray):
    for v in range(q):
        u = v + 1 if v + 1 < q else 0
        _segment(img, ix[v], iy[v], ix[u], iy[u], gray)


@_pjit
def _render_kernel(vertices, orbits, eta, c, r0, sx, sy, xc, yc, n1, n2, key,
                   kind, background, gray_levels, seed, stream, gradient, max_q, workers, out):
    """All images of a batch into out [B, 1, S, S]: orbit draws from Philox at (category, instance)."""
    n_img = out.shape[0]
    rcdb = kind == RCDB
    for w in nb.prange(workers):
        cos, sin, wave1, wave2, px, py, ix, iy, noise_x, noise_y = _scratch(max_q)
        words = np.empty(4 * _orbit_steps(max_q), dtype=np.uint32)
        for b in range(w, n_img, workers):
            img = out[b, 0]
            img[:] = background
            q = vertices[b]
            _start_polygon(q, r0[b], sx[b], sy[b], xc[b], yc[b], n1[b], n2[b], rcdb, cos, sin, wave1, wave2, px, py)
            steps = _orbit_steps(q)
            category = np.uint64(key[b, 0])
            instance = np.uint64(key[b, 1])
            for k in range(orbits[b]):
                _orbit_words(seed, stream, category, instance, k * steps, steps, words)
                gray = min(bounded(words[0], gray_levels), 255)
                for v in range(q):
                    noise_x[v] = _pnoise1(np.float32(np.float64(words[1 + v]) * NOISE_SCALE), gradient)
                    noise_y[v] = _pnoise1(np.float32(np.float64(words[1 + q + v]) * NOISE_SCALE), gradient)
                _advance(q, eta[b], c[b], xc[b], yc[b], rcdb, cos, sin, wave1, wave2, noise_x, noise_y, px, py, ix, iy)
                _draw_polygon(img, q, ix, iy, np.uint8(gray))


@_jit
def _replay_noise(words, first, q, gradient, out):
    """out [q] = P(uniform(0, 10000)) of the q random() calls in words[first : first + 2q] (§2.7, §1.6)."""
    for v in range(q):
        u = 10000.0 * mt19937.random_of(words[first + 2 * v], words[first + 2 * v + 1])  # 0 + (10000 - 0) * r
        out[v] = _pnoise1(np.float32(u), gradient)


@_pjit
def _replay_kernel(vertices, orbits, eta, c, r0, sx, sy, xc, yc, n1, n2, mt_state,
                   kind, background, gray_levels, gradient, max_q, workers, out):
    """All images of a batch into out [B, 1, S, S]: orbit draws from the released script's stream.

    Image b continues MT19937 from mt_state[b] (uint32 [625], its first orbit's gray word next) exactly as
    the script does: per orbit gray = randint(0, gray_levels - 1), then q uniforms for x, q for y.
    """
    n_img = out.shape[0]
    rcdb = kind == RCDB
    for w in nb.prange(workers):
        cos, sin, wave1, wave2, px, py, ix, iy, noise_x, noise_y = _scratch(max_q)
        words = np.empty(4 * max_q, dtype=np.uint32)
        st = np.empty(mt19937.STATE_WORDS, dtype=np.uint32)
        for b in range(w, n_img, workers):
            img = out[b, 0]
            img[:] = background
            q = vertices[b]
            st[:] = mt_state[b]
            _start_polygon(q, r0[b], sx[b], sy[b], xc[b], yc[b], n1[b], n2[b], rcdb, cos, sin, wave1, wave2, px, py)
            for _ in range(orbits[b]):
                gray = min(mt19937.randint(st, 0, gray_levels - 1), 255)
                mt19937.fill(st, words[: 4 * q])
                _replay_noise(words, 0, q, gradient, noise_x)
                _replay_noise(words, 2 * q, q, gradient, noise_y)
                _advance(q, eta[b], c[b], xc[b], yc[b], rcdb, cos, sin, wave1, wave2, noise_x, noise_y, px, py, ix, iy)
                _draw_polygon(img, q, ix, iy, np.uint8(gray))


def render(batch: ContourBatch, settings: ContourSettings) -> np.ndarray:
    """Render a batch. Returns uint8 [B, 1, S, S]; equals `render_ref.render`.

    A batch with `mt_state` replays the released script's stream (search="published"), else Philox.
    """
    out = np.empty((batch.size, 1, settings.size, settings.size), dtype=np.uint8)
    if batch.size == 0:
        return out
    workers = max(1, min(nb.get_num_threads(), batch.size))
    geometry = (batch.vertices, batch.orbits, batch.eta, batch.c, batch.r0, batch.sx, batch.sy, batch.xc,
                batch.yc, batch.n1, batch.n2)
    max_q = int(batch.vertices.max())
    if batch.mt_state is not None:
        _replay_kernel(*geometry, batch.mt_state, settings.kind, np.uint8(settings.background),
                       settings.gray_levels, GRADIENT, max_q, workers, out)
    else:
        _render_kernel(*geometry, batch.key.astype(np.uint32), settings.kind, np.uint8(settings.background),
                       settings.gray_levels, np.uint64(settings.seed), np.uint64(settings.stream), GRADIENT, max_q,
                       workers, out)
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
