"""3D IFS models and views on the CPU with numba: must equal `render_ref` bit for bit.

Stage 1 builds each distinct model once (prange over worker-owned scratch); stage 2 projects one view
per step. float64 in the reference's order, no fastmath, sequential sums, libm-free arithmetic only.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ...backends.numba_parallel import parallel_jit
from ...backends.numba_philox import philox4x32_10, uniform53
from ..ifs_numba import map_index, running_sums
from .batch import Settings3D, ViewBatch
from .render_ref import SUBPIXEL

_jit = nb.njit(cache=True, error_model="numpy", nogil=True)
_pjit = parallel_jit  # launched under one lock: see backends.numba_parallel
_MASK = np.uint64(0xFFFFFFFF)


@_jit
def _uniforms(seed, stream, category, model, u):
    """As `render_ref.uniforms` into u [n]: two words per uniform, four words per Philox step."""
    n = u.shape[0]
    for step in range((n + 1) // 2):
        s = np.uint64(step)
        w0, w1, w2, w3 = philox4x32_10(s & _MASK, s >> np.uint64(32), model, category, seed, stream)
        u[2 * step] = uniform53(w0, w1)
        if 2 * step + 1 < n:
            u[2 * step + 1] = uniform53(w2, w3)


@_jit
def _chaos(system, n_maps, u, out):
    """As `render_ref.chaos_game` into out [3, n - 1]; branch-free map choice (running sums never decrease)."""
    cum = running_sums(system, n_maps, 12)
    x = 0.0
    y = 0.0
    z = 0.0
    for i in range(u.shape[0] - 1):
        j = map_index(cum, u[i], n_maps)
        if j < n_maps:
            m = system[j]
            nx = x * m[0] + y * m[1] + z * m[2] + m[9]
            ny = x * m[3] + y * m[4] + z * m[5] + m[10]
            z = x * m[6] + y * m[7] + z * m[8] + m[11]
            x = nx
            y = ny
        out[0, i] = x
        out[1, i] = y
        out[2, i] = z


@_jit
def _normalise(q, n_points):
    """As `render_ref.normalise`, in place on q [3, m]; returns True if every value is finite."""
    m = q.shape[1]
    lo = q[0, 0]
    hi = q[0, 0]
    for r in range(3):
        for i in range(m):
            v = q[r, i]
            if np.isnan(v):
                lo = np.nan
                hi = np.nan
            elif v < lo:
                lo = v
            elif v > hi:
                hi = v
    finite = True
    for r in range(3):
        total = 0.0
        for i in range(m):
            q[r, i] = ((q[r, i] - lo) / (hi - lo)) * 2.0 - 1.0
            total += q[r, i]
        centre = total / n_points
        for i in range(m):
            q[r, i] = q[r, i] - centre
            finite &= q[r, i] - q[r, i] == 0.0
    return finite


@_jit
def _variances_above(q, threshold):
    m = q.shape[1]
    for r in range(3):
        total = 0.0
        for i in range(m):
            total += q[r, i]
        mean = total / m
        acc = 0.0
        for i in range(m):
            d = q[r, i] - mean
            acc += d * d
        if not acc / m > threshold:
            return False
    return True


@_jit
def _cloud(systems, n_maps, keys, s, seed, stream, u, q):
    """System s's normalised, centred cloud into q [3, n - 1] (u [n] is scratch); True if it is finite."""
    _uniforms(seed, stream, np.uint64(keys[s, 0]), np.uint64(keys[s, 1]), u)
    _chaos(systems[s], n_maps[s], u, q)
    return _normalise(q, u.shape[0])


@_pjit
def _models_kernel(systems, n_maps, keys, n_points, seed, stream, workers, points, finite):
    """Stage 1: float32 points [U, 3, n - 1] and finite [U] of every model."""
    n_sys = systems.shape[0]
    for w in nb.prange(workers):
        u = np.empty(n_points)
        q = np.empty((3, n_points - 1))
        for s in range(w, n_sys, workers):
            finite[s] = _cloud(systems, n_maps, keys, s, seed, stream, u, q)
            for r in range(3):
                for i in range(n_points - 1):
                    points[s, r, i] = np.float32(q[r, i])


@_pjit
def _views_kernel(points, finite, system_of, mvp, workers, out):
    """Stage 2: one view per step into out [B, 1, S, S] (cleared here)."""
    n_img = out.shape[0]
    size = out.shape[2]
    half = size / 2.0
    for w in nb.prange(workers):
        for b in range(w, n_img, workers):
            img = out[b, 0]
            img[:] = 0
            s = system_of[b]
            if not finite[s]:
                continue
            m = mvp[b]
            for i in range(points.shape[2]):
                x = np.float64(points[s, 0, i])
                y = np.float64(points[s, 1, i])
                z = np.float64(points[s, 2, i])
                cx = m[0, 0] * x + m[0, 1] * y + m[0, 2] * z + m[0, 3]
                cy = m[1, 0] * x + m[1, 1] * y + m[1, 2] * z + m[1, 3]
                cz = m[2, 0] * x + m[2, 1] * y + m[2, 2] * z + m[2, 3]
                cw = m[3, 0] * x + m[3, 1] * y + m[3, 2] * z + m[3, 3]
                if not (cw > 0 and abs(cx) <= cw and abs(cy) <= cw and abs(cz) <= cw):
                    continue
                col = np.floor(np.floor((cx / cw + 1.0) * half * SUBPIXEL + 0.5) / SUBPIXEL)
                row = np.floor(np.floor((cy / cw + 1.0) * half * SUBPIXEL + 0.5) / SUBPIXEL)
                if 0 <= col < size and 0 <= row < size:
                    img[np.int64(row), np.int64(col)] = 255


@_pjit
def _evaluate_kernel(systems, n_maps, keys, n_points, seed, stream, threshold, workers, accepted):
    n_sys = systems.shape[0]
    for w in nb.prange(workers):
        u = np.empty(n_points)
        q = np.empty((3, n_points - 1))
        for s in range(w, n_sys, workers):
            accepted[s] = _cloud(systems, n_maps, keys, s, seed, stream, u, q) and _variances_above(q, threshold)


def _workers(n: int) -> int:
    return max(1, min(nb.get_num_threads(), n))


def render(batch: ViewBatch, settings: Settings3D) -> np.ndarray:
    """Render a batch of views. Returns uint8 [B, 1, S, S]; equals `render_ref.render`."""
    n_sys = batch.systems.shape[0]
    points = np.empty((n_sys, 3, settings.n_points - 1), dtype=np.float32)
    finite = np.empty(n_sys, dtype=np.bool_)
    _models_kernel(batch.systems, batch.n_maps, batch.model_key.astype(np.uint32), settings.n_points,
                   np.uint64(settings.seed), np.uint64(settings.stream), _workers(n_sys), points, finite)
    out = np.empty((batch.size, 1, settings.size, settings.size), dtype=np.uint8)
    _views_kernel(points, finite, batch.system_of, batch.mvp, _workers(batch.size), out)
    return out


def evaluate(systems: np.ndarray, n_maps: np.ndarray, keys: np.ndarray, settings: Settings3D,
             threshold: float) -> np.ndarray:
    """Search acceptance of candidates: bool [U]; equals `render_ref.evaluate`."""
    accepted = np.empty(systems.shape[0], dtype=np.bool_)
    _evaluate_kernel(systems, n_maps, keys.astype(np.uint32), settings.n_points, np.uint64(settings.seed),
                     np.uint64(settings.stream), float(threshold), _workers(systems.shape[0]), accepted)
    return accepted
