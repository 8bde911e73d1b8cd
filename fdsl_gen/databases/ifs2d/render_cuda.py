"""2D IFS rendering with the CUDA kernels of csrc/<key>.cu (common/ifs2d.cuh): must equal `render_ref`.

Pass 1 (`trace`, one thread per distinct system) runs each chaos game once, keeping a checkpoint every
CHUNK points, the bounds and a finiteness flag. Pass 2 (`raster`, one block per image and band of rows)
re-runs whole chunks from their checkpoints and resolves "the last point wins" with atomicMax keys in
shared memory. Systems that overflow (rare; the NaN rule) are drawn by the numba backend and copied
in. With `runner=HostRunner()` the same sources run on the CPU (tests).
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


def _trace(runner, key: str, systems, n_maps, u, u_row, n_sys: int, n: int):
    n_chunks = math.ceil(n / CHUNK)
    checkpoints = runner.empty((n_sys, n_chunks, 2), np.float64)
    bounds = runner.empty((n_sys, 4), np.float64)
    finite = runner.empty((n_sys,), np.int32)
    runner.launch(key, f"{key}_trace", (math.ceil(n_sys / TRACE_THREADS),), TRACE_THREADS, 0, TRACE_SIG,
                  [n_sys, systems, n_maps, u, u_row, n, CHUNK, n_chunks, checkpoints, bounds, finite])
    return checkpoints, bounds, finite, n_chunks


def render(batch: IFSBatch, settings: RenderSettings, runner=None):
    """Render a batch: uint8 [B, C, H, W] (a CUDA torch tensor, or NumPy under the host runner)."""
    runner = runner or kernels.CudaRunner()
    key, n, size = settings.database, settings.n_points, settings.size
    n_sys = batch.systems.shape[0]
    systems = runner.upload(batch.systems)
    n_maps = runner.upload(batch.n_maps.astype(np.int64))
    u = runner.upload(map_sequence(n))
    checkpoints, bounds, finite, n_chunks = _trace(runner, key, systems, n_maps, u,
                                                   runner.upload(np.zeros(n_sys, np.int64)), n_sys, n)
    band_rows = max(1, min(size, SHARED_BYTES // (4 * size)))
    n_bands = math.ceil(size / band_rows)
    out = runner.empty((batch.size, settings.channels, size, size), np.uint8)
    runner.launch(key, f"{key}_raster", (n_bands, batch.size), RASTER_THREADS, band_rows * size * 4, RASTER_SIG,
                  [systems, n_maps, u, checkpoints, bounds, runner.upload(batch.system_of.astype(np.int64)),
                   runner.upload(batch.flip.astype(np.int64)), runner.upload(batch.patch_key.astype(np.uint32)),
                   runner.upload(COLOR_TABLE), out, n, CHUNK, n_chunks, size, settings.pad, settings.channels,
                   int(settings.patch), int(settings.color), band_rows, settings.seed, settings.patch_stream])
    overflowed = np.flatnonzero(runner.to_numpy(finite) == 0)  # a few bytes: the only read-back
    if overflowed.size:
        _redraw_on_cpu(batch, settings, overflowed, out, runner)
    return runner.result(out)


def _redraw_on_cpu(batch: IFSBatch, settings: RenderSettings, systems: np.ndarray, out, runner) -> None:
    """Images of non-finite systems: the NaN rule and the infinities are the CPU backend's (exact) job."""
    from . import render_numba

    images = np.flatnonzero(np.isin(batch.system_of, systems))
    sub = IFSBatch(batch.systems, batch.n_maps, batch.system_of[images], batch.flip[images],
                   batch.patch_key[images])
    drawn = render_numba.render(sub, settings)
    if isinstance(out, np.ndarray):
        out[images] = drawn
    else:
        out[images.tolist()] = runner.upload(drawn)


def point_fill_counts(systems: np.ndarray, n_maps: np.ndarray, u: np.ndarray, u_row: np.ndarray, size: int,
                      pad: int, runner=None, key: str = "fractaldb") -> np.ndarray:
    """Distinct lit pixels of each system's point render (int64 [U]), as `render_numba.point_fill_counts`."""
    runner = runner or kernels.CudaRunner()
    n_sys, n = systems.shape[0], u.shape[1]
    d_systems, d_maps = runner.upload(systems), runner.upload(n_maps.astype(np.int64))
    d_u, d_row = runner.upload(u), runner.upload(u_row.astype(np.int64))
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
