"""2D IFS rendering with the CUDA kernels of csrc/<key>.cu (common/ifs2d.cuh): must equal `render_ref`.

Pass 1 (`trace`, one thread per distinct system) runs each chaos game once, keeping a checkpoint every
CHUNK points and the bounds. Pass 2 (`raster`, one block per image and band of rows; images on the
grid's x) re-runs whole chunks from their checkpoints and resolves "the last point wins" with atomicMax
keys in shared memory. Systems whose chaos game overflows (rare; the NaN rule) are drawn by the numba
backend and copied in: which ones is known before the launch (`IFSBatch.finite`, computed once per
category table by `finite_systems`), so a render never reads anything back from the GPU. With
`runner=HostRunner()` the same sources run on the CPU (tests).
"""

from __future__ import annotations

import math

import numpy as np

from ...backends import kernels
from .batch import IFSBatch, RenderSettings
from .fixed import COLOR_TABLE, map_sequence

CHUNK = 1024  # points per checkpoint (a multiple of 4: a chunk starts at a Philox step)
TRACE_THREADS = 128
RASTER_THREADS = 256
SHARED_BYTES = 96 * 1024  # keys of one band of rows: two blocks fit on an SM of the H100
TRACE_SIG = "i p p p p i i i p p p"
RASTER_SIG = "p p p p p p p p p p i i i i i i i i i u u"
FILL_SIG = "p p p p p p p i i i i i"


def raster_grid(n_images: int, size: int) -> tuple[tuple[int, int], int]:
    """((images, bands), rows per band) of the raster launch: a band's keys fill at most SHARED_BYTES."""
    band_rows = max(1, min(size, SHARED_BYTES // (4 * size)))
    return (n_images, math.ceil(size / band_rows)), band_rows


def _sequence(runner, n: int):
    return runner.constant(f"ifs2d/map_sequence/{n}", lambda: map_sequence(n))


def _trace(runner, key: str, systems, n_maps, u, u_row, n_sys: int, n: int):
    n_chunks = math.ceil(n / CHUNK)
    checkpoints = runner.empty((n_sys, n_chunks, 2), np.float64)
    bounds = runner.empty((n_sys, 4), np.float64)
    finite = runner.empty((n_sys,), np.int32)
    runner.launch(key, f"{key}_trace", (math.ceil(n_sys / TRACE_THREADS),), TRACE_THREADS, 0, TRACE_SIG,
                  [n_sys, systems, n_maps, u, u_row, n, CHUNK, n_chunks, checkpoints, bounds, finite])
    return checkpoints, bounds, finite, n_chunks


def finite_systems(systems: np.ndarray, n_maps: np.ndarray, n_points: int, runner=None,
                   key: str = "fractaldb") -> np.ndarray:
    """bool [U]: whether each system's chaos game of `n_points` stays finite (one trace, one read-back).

    Finiteness depends on the parameters only (the map-choice sequence is fixed), so a database asks
    this once per category table, never per batch.
    """
    runner = runner or kernels.CudaRunner()
    n_sys = systems.shape[0]
    if n_sys == 0:
        return np.zeros(0, dtype=bool)
    d_systems, d_maps, d_rows = runner.upload(systems, n_maps.astype(np.int64), np.zeros(n_sys, np.int64))
    finite = _trace(runner, key, d_systems, d_maps, _sequence(runner, n_points), d_rows, n_sys, n_points)[2]
    return runner.to_numpy(finite) != 0


def render(batch: IFSBatch, settings: RenderSettings, runner=None):
    """Render a batch: uint8 [B, C, H, W] (a CUDA torch tensor, or NumPy under the host runner)."""
    runner = runner or kernels.CudaRunner()
    key, n, size = settings.database, settings.n_points, settings.size
    n_sys = batch.systems.shape[0]
    finite = batch.finite
    if finite is None:  # a caller without the table's answer pays one read-back here
        finite = finite_systems(batch.systems, batch.n_maps, n, runner, key)
    systems, n_maps, u_row, system_of, flip, patch_key = runner.upload(
        batch.systems, batch.n_maps.astype(np.int64), np.zeros(n_sys, np.int64), batch.system_of.astype(np.int64),
        batch.flip.astype(np.int64), batch.patch_key.astype(np.uint32))
    u = _sequence(runner, n)
    checkpoints, bounds, _, n_chunks = _trace(runner, key, systems, n_maps, u, u_row, n_sys, n)
    grid, band_rows = raster_grid(batch.size, size)
    out = runner.empty((batch.size, settings.channels, size, size), np.uint8)
    runner.launch(key, f"{key}_raster", grid, RASTER_THREADS, band_rows * size * 4, RASTER_SIG,
                  [systems, n_maps, u, checkpoints, bounds, system_of, flip, patch_key,
                   runner.constant("ifs2d/color_table", lambda: COLOR_TABLE), out, n, CHUNK, n_chunks, size,
                   settings.pad, settings.channels, int(settings.patch), int(settings.color), band_rows,
                   settings.seed, settings.patch_stream])
    overflowed = np.flatnonzero(~np.asarray(finite, dtype=bool))
    if overflowed.size:
        _redraw_on_cpu(batch, settings, overflowed, out, runner)
    return runner.result(out)


def _redraw_on_cpu(batch: IFSBatch, settings: RenderSettings, systems: np.ndarray, out, runner) -> None:
    """Images of non-finite systems: the NaN rule and the infinities are the CPU backend's (exact) job."""
    from . import render_numba

    images = np.flatnonzero(np.isin(batch.system_of, systems))
    if images.size == 0:
        return
    sub = IFSBatch(batch.systems, batch.n_maps, batch.system_of[images], batch.flip[images],
                   batch.patch_key[images])
    drawn, index = runner.upload(render_numba.render(sub, settings), images.astype(np.int64))
    if isinstance(out, np.ndarray):
        out[index] = drawn
    else:  # stream-ordered after the raster; no host wait
        out.index_copy_(0, index, drawn)


def point_fill_counts(systems: np.ndarray, n_maps: np.ndarray, u: np.ndarray, u_row: np.ndarray, size: int,
                      pad: int, runner=None, key: str = "fractaldb") -> np.ndarray:
    """Distinct lit pixels of each system's point render (int64 [U]), as `render_numba.point_fill_counts`."""
    runner = runner or kernels.CudaRunner()
    n_sys, n = systems.shape[0], u.shape[1]
    d_systems, d_maps, d_u, d_row = runner.upload(systems, n_maps.astype(np.int64), u, u_row.astype(np.int64))
    checkpoints, bounds, finite, n_chunks = _trace(runner, key, d_systems, d_maps, d_u, d_row, n_sys, n)
    filled = runner.empty((n_sys,), np.int64)
    words = (size * size + 31) // 32
    runner.launch(key, f"{key}_fill", (n_sys,), RASTER_THREADS, (words + RASTER_THREADS) * 4, FILL_SIG,
                  [d_systems, d_maps, d_u, d_row, checkpoints, bounds, filled, n, CHUNK, n_chunks, size, pad])
    counts = runner.to_numpy(filled).copy()
    bad = np.flatnonzero(runner.to_numpy(finite) == 0)
    if bad.size:
        from . import render_numba

        counts[bad] = render_numba.point_fill_counts(systems[bad], n_maps[bad], u, u_row[bad], size, pad)
    return counts
