"""The 2D chaos game and its coordinate normalisation for the numba backend (docs/spec/fractals.md §1.3).

One system's points in float64, evaluated in the reference's order (no fused multiply-add: `error_model`
numpy and no fastmath), the NaN rule, and the per-axis rescale to uint16 pixel coordinates; `_points` is
what the render and search kernels of `render_numba` call per system. Must equal `render_ref` bit for bit.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..ifs_numba import map_index, running_sums
from .render_ref import NAN_BACKOFF

_jit = nb.njit(cache=True, error_model="numpy", nogil=True)


@_jit
def _chaos(system, n_maps, u, xs, ys):
    """Chaos game from the origin into xs, ys ([n] float64); as `render_ref.chaos_game`.

    The map choice is `ifs_numba.map_index` (branch-free); the float64 arithmetic per point is exactly the
    reference's.
    """
    cum = running_sums(system, n_maps, 6)
    x = 0.0
    y = 0.0
    xs[0] = 0.0
    ys[0] = 0.0
    for i in range(u.shape[0] - 1):
        j = map_index(cum, u[i], n_maps)
        if j < n_maps:  # else no map matches: the previous point repeats
            nx = x * system[j, 0] + y * system[j, 1] + system[j, 4]
            y = x * system[j, 2] + y * system[j, 3] + system[j, 5]
            x = nx
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
def _finite_bounds(xs, ys, m):
    """(all finite?, min x, max x, min y, max y) of the first m points, in one pass."""
    xlo = xhi = xs[0]
    ylo = yhi = ys[0]
    finite = True
    for i in range(m):
        x = xs[i]
        y = ys[i]
        finite &= (x - x == 0.0) & (y - y == 0.0)  # False for NaN and +-inf
        xlo = min(xlo, x)
        xhi = max(xhi, x)
        ylo = min(ylo, y)
        yhi = max(yhi, y)
    return finite, xlo, xhi, ylo, yhi


@_jit
def _rescale_finite(v, m, lo, hi, extent, pad, out):
    """`_rescale_axis` for finite values with known bounds, without the in-place shift.

    Shifting by lo < 0 makes the new minimum lo - lo = 0 and, rounding being monotonic, the new
    maximum fl(hi - lo); each value is still rounded as fl(v - lo) before the division, as in NumPy.
    """
    scale = float(extent - 2 * pad)
    off = float(pad)
    if lo < 0.0:
        span = (hi - lo) - 0.0
        for i in range(m):
            out[i] = _c_cast_uint16((v[i] - lo) / span * scale + off)
    else:
        span = hi - lo
        for i in range(m):
            out[i] = _c_cast_uint16(v[i] / span * scale + off)


@_jit
def _points(system, n_maps, u, size, pad, xs, ys, px, py):
    """One system's pixel coordinates into px, py; returns how many points there are."""
    _chaos(system, n_maps, u, xs, ys)
    m = u.shape[0]
    finite, xlo, xhi, ylo, yhi = _finite_bounds(xs, ys, m)
    if finite:  # the common case: no NaN rule, no infinities
        _rescale_finite(xs, m, xlo, xhi, size, pad, px)
        _rescale_finite(ys, m, ylo, yhi, size, pad, py)
        return m
    m = _drop_nan_rows(xs, ys, m)
    if m > 0:
        _rescale_axis(xs, m, size, pad, px)
        _rescale_axis(ys, m, size, pad, py)
    return m
