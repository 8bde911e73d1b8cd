"""2D IFS rendering with the CUDA kernels of csrc/<key>.cu (common/ifs2d.cuh): must equal `render_ref`.

A system's trace (`trace`: one thread per system runs its chaos game once, keeping a checkpoint every
CHUNK points, the bounds and whether every value stays finite) depends on its parameters only, so a
database keeps the trace of its whole category table on the device (`Traced`) and a render starts from
it. Two kernels make the images:
  coords  every chunk of every system re-run from its checkpoint and rescaled to pixel coordinates, in
          float64, once per system whatever the number of bands or images;
  raster  one block per image and band of rows (adjacent on the grid, so the bands of an image read its
          coordinates from L2), integer work only: patterns, 3x3 patches, atomicMax keys (or a bitmap
          for plain gray points) in shared memory, then the pixels.
The coordinates depend on the parameters only too: a table whose coordinates fit FDSL_GPU_TABLE_GB keeps
them (`trace(..., size=)`), and a render runs the raster alone; otherwise a render runs both, in passes of
at most `pass_systems` systems.
Systems that overflow (rare; the NaN rule) are drawn by the numba backend and copied in; which ones is
known from the trace, so a render reads nothing back from the GPU. With `runner=HostRunner()` the same
sources run on the CPU (tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...backends import cuda_runner
from .batch import IFSBatch, RenderSettings
from .draw_constants import COLOR_TABLE, map_sequence

CHUNK = 1024  # points per checkpoint (a multiple of 4: a chunk starts at a Philox step)
TRACE_THREADS = 128
FILL_THREADS = 256
COORDS_THREADS = 128  # chunks per block of the coords kernel
RASTER_THREADS = 1024  # 32 warps: a Hopper SM holds one such block when its band takes most of the shared memory
BAND_BYTES = 224 * 1024  # a raster block's shared memory (Hopper allows 227 KB per block): few bands per image
QUEUE_WORDS = 8 * RASTER_THREADS + 2  # (index, coordinates) of a round's 4 points per thread, and 2 counters
COORDS_BYTES = 256 * 2**20  # the coordinates of one pass (uint32 per point)
TRACE_SIG = "i p p p p i i i p p p"
COORDS_SIG = "p p p p p p p i i i i i"
RASTER_SIG = "p p p p p p p i i i i i i i u u"
FILL_SIG = "p p p p p p p i i i i i"


@dataclass(frozen=True)
class Traced:
    """The traces of T systems on the runner's device, and which of them stay finite."""

    systems: object  # [T, 7, 7] float64
    n_maps: object  # [T] int64
    checkpoints: object  # [T, n_chunks, 2] float64: the point at every CHUNK-th step
    bounds: object  # [T, 4] float64: min x, max x, min y, max y
    finite: np.ndarray  # [T] bool, on the host
    n_points: int
    coords: object | None = None  # [T, n_points] uint32 x | y << 16 of every point (for tables that fit)
    size: int | None = None  # the canvas and pad the coordinates are for
    pad: int | None = None


def raster_grid(size: int, bitmap: bool) -> tuple[int, int, int]:
    """(bands per image, rows per band, shared bytes) of the raster launch, within BAND_BYTES: one band if the
    image fits, else bands beside the queue of a round's points (2 words each) and its two counters."""
    bits_per_pixel = 1 if bitmap else 32

    def words(rows: int) -> int:
        return (rows * size + 31) // 32 if bitmap else rows * size

    if 4 * words(size) <= BAND_BYTES:
        return 1, size, 4 * words(size)
    band_rows = max(1, min(size, (BAND_BYTES - 4 * QUEUE_WORDS) * 8 // (bits_per_pixel * size)))
    return math.ceil(size / band_rows), band_rows, 4 * (words(band_rows) + QUEUE_WORDS)


def pass_systems(n_points: int) -> int:
    """Systems per pass, so that their coordinates stay within COORDS_BYTES."""
    return max(1, COORDS_BYTES // (4 * n_points))


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


def trace(systems: np.ndarray, n_maps: np.ndarray, n_points: int, runner=None, key: str = "fractaldb",
          size: int | None = None, pad: int = 6) -> Traced:
    """Trace systems [T, 7, 7] on the device: one kernel, one read-back (which systems stay finite).

    With `size`, also keep every point's pixel coordinates (the coords kernel over the whole table), so that
    renders run the raster only.
    """
    runner = runner or cuda_runner.CudaRunner()
    n_sys = systems.shape[0]
    d_systems, d_maps, d_rows, d_index = runner.upload(systems, n_maps.astype(np.int64), np.zeros(n_sys, np.int64),
                                                       np.arange(n_sys, dtype=np.int64))
    u = _sequence(runner, n_points)
    checkpoints, bounds, finite, n_chunks = _trace(runner, key, d_systems, d_maps, u, d_rows, n_sys, n_points)
    traced = Traced(d_systems, d_maps, checkpoints, bounds, runner.to_numpy(finite) != 0, n_points)
    if size is None:
        return traced
    coords = runner.empty((n_sys, n_points), np.uint32)
    _coords(runner, key, traced, u, d_index, coords, size, pad)
    return Traced(d_systems, d_maps, checkpoints, bounds, traced.finite, n_points, coords, size, pad)


def _coords(runner, key: str, traced: Traced, u, index, out, size: int, pad: int) -> None:
    """The coords kernel: out[k] = the pixel coordinates of system index[k] of the trace."""
    n_chunks = math.ceil(traced.n_points / CHUNK)
    runner.launch(key, f"{key}_coords", (index.shape[0], math.ceil(n_chunks / COORDS_THREADS)), COORDS_THREADS,
                  8 * 49, COORDS_SIG, [traced.systems, traced.n_maps, u, traced.checkpoints, traced.bounds, index,
                                       out, traced.n_points, CHUNK, n_chunks, size, pad])


def render(batch: IFSBatch, settings: RenderSettings, runner=None, traced: Traced | None = None):
    """Render a batch: uint8 [B, C, H, W] (a CUDA torch tensor, or NumPy under the host runner).

    `traced` holds the traces of a table that `batch.table_index` points into (a database's); without
    it the batch's own systems are traced here, which reads their finiteness back (one wait).
    """
    runner = runner or cuda_runner.CudaRunner()
    key, n, size = settings.database, settings.n_points, settings.size
    if traced is None:
        traced, table_index = trace(batch.systems, batch.n_maps, n, runner, key), np.arange(batch.systems.shape[0])
    else:
        table_index = batch.table_index
    if traced.n_points != n:
        raise ValueError(f"the trace has {traced.n_points} points, the settings {n}")
    u = _sequence(runner, n)
    colors = runner.constant("ifs2d/color_table", lambda: COLOR_TABLE)
    bitmap = not settings.patch and not settings.color  # plain gray points: lit or not, no keys
    n_bands, band_rows, smem = raster_grid(size, bitmap)
    out = runner.empty((batch.size, settings.channels, size, size), np.uint8)

    def raster(coords, image_index, system_of, base: int, images: int) -> None:
        runner.launch(key, f"{key}_raster", (images * n_bands,), RASTER_THREADS, smem, RASTER_SIG,
                      [coords, image_index, system_of, flip, patch_key, colors, out, n, size, settings.channels,
                       int(settings.patch), int(settings.color), band_rows, base, settings.seed,
                       settings.patch_stream])  # the kernel derives the bitmap choice and the bands

    if traced.coords is not None and (traced.size, traced.pad) == (size, settings.pad):  # kept: the raster alone
        order, rows, flip, patch_key = runner.upload(
            np.arange(batch.size, dtype=np.int64), table_index[batch.system_of].astype(np.int64),
            batch.flip.astype(np.int64), batch.patch_key.astype(np.uint32))
        raster(traced.coords, order, rows, 0, batch.size)
    else:  # passes of at most `pass_systems` systems: their coordinates, then their images
        order = np.argsort(batch.system_of, kind="stable")  # the images grouped by system
        starts = np.searchsorted(batch.system_of[order], np.arange(0, table_index.shape[0] + 1))
        d_index, d_order, system_of, flip, patch_key = runner.upload(
            table_index.astype(np.int64), order.astype(np.int64), batch.system_of.astype(np.int64),
            batch.flip.astype(np.int64), batch.patch_key.astype(np.uint32))
        per_pass = min(pass_systems(n), max(table_index.shape[0], 1))
        coords = runner.empty((per_pass, n), np.uint32)
        for lo in range(0, table_index.shape[0], per_pass):
            hi = min(lo + per_pass, table_index.shape[0])
            _coords(runner, key, traced, u, d_index[lo:hi], coords, size, settings.pad)
            first, last = int(starts[lo]), int(starts[hi])
            if last > first:
                raster(coords, d_order[first:last], system_of, lo, last - first)
    overflowed = np.flatnonzero(~traced.finite[table_index])
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
    runner = runner or cuda_runner.CudaRunner()
    n_sys, n = systems.shape[0], u.shape[1]
    d_systems, d_maps, d_u, d_row = runner.upload(systems, n_maps.astype(np.int64), u, u_row.astype(np.int64))
    checkpoints, bounds, finite, n_chunks = _trace(runner, key, d_systems, d_maps, d_u, d_row, n_sys, n)
    filled = runner.empty((n_sys,), np.int64)
    words = (size * size + 31) // 32
    runner.launch(key, f"{key}_fill", (n_sys,), FILL_THREADS, (words + FILL_THREADS) * 4, FILL_SIG,
                  [d_systems, d_maps, d_u, d_row, checkpoints, bounds, filled, n, CHUNK, n_chunks, size, pad])
    counts = runner.to_numpy(filled).copy()
    bad = np.flatnonzero(runner.to_numpy(finite) == 0)
    if bad.size:
        from . import render_numba

        counts[bad] = render_numba.point_fill_counts(systems[bad], n_maps[bad], u, u_row[bad], size, pad)
    return counts
