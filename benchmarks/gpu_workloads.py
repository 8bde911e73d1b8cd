"""The workloads of the GPU cost model (gpu_model.py): how often each marked region runs per image.

Each function returns {"kernels": [(module, kernel, {marker: warp runs per image}, threads per block, shared
bytes per block)], "dram": bytes per image,
"notes": [...]} for the launch configuration the production code uses (render_cuda's constants), or, for
the host side, a measured time per image. Warp runs are lane-level runs / 32, divided by the fraction of
lanes that have work; for the contours they are replayed warp by warp from geometry sampled with the
database's own parameter laws (render_ref.polygons), as contours.cuh assigns vertices and segments.
"""

from __future__ import annotations

import math
import time

import numpy as np

import fdsl_gen
from fdsl_gen.databases.contours import render_cuda as contours_cuda
from fdsl_gen.databases.contours import render_ref as contours_ref
from fdsl_gen.databases.contours.batch import ContourBatch
from fdsl_gen.databases.ifs2d import render_cuda as ifs2d_cuda
from fdsl_gen.databases.ifs3d import render_cuda as ifs3d_cuda

WARP = 32


def ifs2d(key: str, size: int, points: int, draw_type: str, kept: bool = True) -> dict:
    """2D IFS images from a kept trace: the coordinates pass (unless the table's coordinates are `kept`),
    then the raster (direct, or queued bands)."""
    patch, color = draw_type.startswith("patch"), draw_type.endswith("color")
    bitmap = not patch and not color
    n_bands, band_rows, smem = ifs2d_cuda.raster_grid(size, bitmap)
    n_chunks = math.ceil(points / ifs2d_cuda.CHUNK)
    slots = math.ceil(n_chunks / ifs2d_cuda.COORDS_THREADS) * ifs2d_cuda.COORDS_THREADS
    coords = {1: points / WARP * slots / n_chunks}  # a lane per chunk: the block's spare lanes idle
    pixels = size * size / WARP
    raster = {6: (pixels / 32 if bitmap else pixels), 5: pixels}  # clear (words), resolve (pixels)
    if n_bands == 1:
        raster[1] = points / WARP
        raster[3 if patch else 4] = points / WARP
        if patch:
            raster[2] = points / 4 / WARP
    else:
        drawn = points * (1 + (2 / band_rows if patch else 0))  # a patch's 3 rows may straddle two bands
        raster[7] = n_bands * points / WARP  # every band reads every point (4 per lane, unrolled)
        raster[8] = drawn / WARP  # the queued points, lanes full
        raster[3 if patch else 4] = drawn / WARP
    notes = [f"{n_bands} band(s) of {band_rows} rows, {smem} B of shared memory per block, "
             f"{ifs2d_cuda.RASTER_THREADS} threads; " +
             ("coordinates kept per table" if kept else f"coordinates made per image ({n_chunks} chunks)")]
    launches = [(key, f"{key}_raster", raster, ifs2d_cuda.RASTER_THREADS, smem)]
    if not kept:
        launches.insert(0, (key, f"{key}_coords", coords, ifs2d_cuda.COORDS_THREADS, 8 * 49))
    return {"kernels": launches, "dram": (4 if kept else 8) * points + size * size * (3 if color else 1),
            "notes": notes}


def _segment_runs(polys: list, size: int, threads: int) -> dict:
    """Warp runs of contour_draw's regions for orbits `polys` ([(xs, ys)]), replayed warp by warp."""
    runs = {4: 0.0, 5: 0.0, 6: 0.0, 7: 0.0, 14: 0.0}
    for xs, ys in polys:
        ix, iy = np.trunc(xs).astype(np.int64), np.trunc(ys).astype(np.int64)
        jx, jy = np.roll(ix, -1), np.roll(iy, -1)
        off = (np.maximum(ix, jx) < 0) | (np.minimum(ix, jx) >= size) | (np.maximum(iy, jy) < 0) | \
              (np.minimum(iy, jy) >= size)
        dx, dy = np.abs(jx - ix), np.abs(jy - iy)
        axis = ~off & ((dx == 0) | (dy == 0))
        flat, steep = ~off & ~axis & (dx > dy), ~off & ~axis & (dx <= dy)
        v = np.arange(ix.shape[0])
        group = (v // threads) * (threads // WARP) + (v % threads) // WARP  # (iteration, warp) of segment v
        for kind, mask, length in ((7, axis, np.maximum(dx, dy)), (5, flat, dx), (6, steep, dy)):
            longest = np.zeros(group.max() + 1, dtype=np.int64)
            np.maximum.at(longest, group[mask], length[mask])
            runs[kind] += float(longest.sum())  # a warp loops as long as its longest segment of the kind
        runs[4] += float(np.unique(group).size)
        runs[14] += float(np.unique(group[~off]).size)
    return runs


def contours(key: str, batch: ContourBatch, settings, images: list[int]) -> dict:
    """Contour images: init, then per orbit the moves (groups of 4 vertices) and the segments."""
    threads = contours_cuda.threads_for(int(batch.vertices.max()))
    runs = {1: 0.0, 2: 0.0, 3: 0.0, 8: settings.size * settings.size / WARP}
    drawn = {4: 0.0, 5: 0.0, 6: 0.0, 7: 0.0, 14: 0.0}
    for b in images:
        q, k = int(batch.vertices[b]), int(batch.orbits[b])
        groups = math.ceil((q + 1) / 4)
        warps = sum(min(WARP, groups - g0) > 0 for g0 in range(0, groups, WARP))
        runs[1] += k * warps
        runs[2] += 4 * k * warps  # the 4 vertices of a group are unrolled
        runs[3] += 2 * k * warps  # their y-noise words span at most 2 Philox steps
        polys = [(xs, ys) for _, xs, ys in contours_ref.polygons(batch, b, settings)]
        for marker, count in _segment_runs(polys, settings.size, threads).items():
            drawn[marker] += count
    per_image = {m: (runs.get(m, 0.0) if m == 8 else runs.get(m, 0.0) / len(images)) for m in (1, 2, 3, 8)}
    per_image.update({m: c / len(images) for m, c in drawn.items()})
    mean_q = float(np.mean(batch.vertices[images]))
    mean_k = float(np.mean(batch.orbits[images]))
    notes = [f"{len(images)} sampled images: mean q {mean_q:.0f}, mean K {mean_k:.0f}; {threads} threads"]
    smem = contours_cuda.shared_bytes(int(batch.vertices.max()))
    return {"kernels": [(key, f"{key}_render", per_image, threads, smem)], "dram": 2 * settings.size ** 2,
            "notes": notes}


def contour_sample(key: str, n: int, **options):
    """(batch, settings, image ids) of n images drawn uniformly from a database's categories and instances."""
    db = fdsl_gen.get_database(key, categories=1000, **options)
    rng = np.random.default_rng(4)
    cats, insts = rng.integers(0, db.n_categories, n), rng.integers(0, db.n_instances, n)
    return db.batch(cats, insts), db.settings(), list(range(n))


def visual_atom_worst(n: int = 2):
    """The named worst case of the VisualAtom target: q 1000, K 200, eta 4, c 0.1, r0 60, sx = sy = 2."""
    db = fdsl_gen.get_database("visual_atom", categories=1)
    full = lambda v, dtype=np.float64: np.full(n, v, dtype=dtype)  # noqa: E731
    batch = ContourBatch(vertices=full(1000, np.int64), orbits=full(200, np.int64), eta=full(4.0), c=full(0.1),
                         r0=full(60.0), sx=full(2.0), sy=full(2.0), xc=full(256.0), yc=full(256.0),
                         n1=full(7, np.int64), n2=full(13, np.int64),
                         key=np.stack([np.arange(n), np.zeros(n, np.int64)], 1).astype(np.uint32))
    return batch, db.settings(), list(range(n))


def ofdb3d_views(size: int = 224, points: int = 9999) -> dict:
    """A view of a kept 3D model: every point projected (lanes over points), the band's pixels written."""
    m = points - 1
    threads = ifs3d_cuda.VIEW_THREADS
    (_, n_bands), band_rows, smem = ifs3d_cuda.view_grid(1, size)
    runs = {1: n_bands * math.ceil(m / threads) * threads / WARP, 2: size * size / WARP}
    notes = [f"{n_bands} band(s) of {band_rows} rows; {m} points over {threads} threads"]
    return {"kernels": [("ofdb3d", "ofdb3d_views", runs, threads, smem)], "dram": 12 * m + size * size,
            "notes": notes}


def host_seconds(key: str, batch: int = 1024, repeats: int = 20, **options) -> float:
    """Seconds per image of the host side of `Database.render(..., "cuda")`, measured here: a recording runner
    stands in for the GPU (uploads are packed, launches recorded), the self-check taken as passed."""
    from fdsl_gen import selfcheck
    from fdsl_gen.backends import cuda_runner

    class HostOnly:
        cache_key = ("model", 0)

        def upload(self, *arrays):
            arrays = [np.ascontiguousarray(a) for a in arrays]
            offsets, total = cuda_runner.pack_layout(arrays)
            cuda_runner.pack_into(np.empty(total, np.uint8), arrays, offsets)
            return [np.empty(a.shape, a.dtype) for a in arrays]

        def constant(self, name, make):
            return np.empty(0)

        def empty(self, shape, dtype):
            return np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape, [0] * len(shape))

        def launch(self, *args):
            pass

        def fill(self, array, value):
            pass

        def to_numpy(self, array):
            return np.ones(array.shape, array.dtype)

        def result(self, array):
            return array

    db = fdsl_gen.get_database(key, categories=max(batch, 1000), **options)
    saved = cuda_runner.CudaRunner, selfcheck._verdicts.get(key)
    cuda_runner.CudaRunner = HostOnly
    selfcheck._verdicts[key] = selfcheck.Verdict("exact")
    try:
        import fdsl_gen.backends as backends

        real = backends.unavailable_reason
        backends.unavailable_reason = lambda name: None if name == "cuda" else real(name)
        try:
            cats = np.random.default_rng(1).permutation(db.n_categories)[:batch]
            db.render_array(cats, np.zeros(batch, np.int64), backend="cuda")  # tables, traces, compiled numba
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                db.render_array(cats, np.zeros(batch, np.int64), backend="cuda")
                times.append(time.perf_counter() - start)
            return float(np.median(times)) / batch
        finally:
            backends.unavailable_reason = real
    finally:
        cuda_runner.CudaRunner = saved[0]
        if saved[1] is None:
            selfcheck._verdicts.pop(key, None)
        else:
            selfcheck._verdicts[key] = saved[1]
