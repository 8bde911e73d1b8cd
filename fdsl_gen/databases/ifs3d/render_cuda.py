"""3D IFS models and views with the CUDA kernels of csrc/<key>.cu (common/ifs3d.cuh): must equal `render_ref`.

`models` builds each distinct model once (one thread per model, the chain run three times instead of
storing a float64 cloud); `views` projects them (one block per image and band of rows, lit pixels as
bits in shared memory). With `runner=HostRunner()` the same source runs on the CPU (tests).
"""

from __future__ import annotations

import math

import numpy as np

from ...backends import kernels
from .batch import Settings3D, ViewBatch

MODEL_THREADS = 64
VIEW_THREADS = 256
VIEW_SHARED_BYTES = 96 * 1024  # the lit-pixel bitmap of one band of rows: two blocks fit on an SM of the H100
MODELS_SIG = "p p p p p i i u u"
VIEWS_SIG = "p p p p p i i i"
EVALUATE_SIG = "p p p p i i u u d"


def view_grid(n_images: int, size: int) -> tuple[tuple[int, int], int, int]:
    """((images, bands), rows per band, shared bytes) of the views launch: a band's bitmap fits VIEW_SHARED_BYTES."""
    band_rows = max(1, min(size, VIEW_SHARED_BYTES * 8 // size))
    return (n_images, math.ceil(size / band_rows)), band_rows, 4 * math.ceil(band_rows * size / 32)


def render(batch: ViewBatch, settings: Settings3D, runner=None):
    """Render a batch of views: uint8 [B, 1, S, S] (a CUDA torch tensor, or NumPy under the host runner)."""
    runner = runner or kernels.CudaRunner()
    key, n_sys = settings.database, batch.systems.shape[0]
    systems, n_maps, model_key, system_of, mvp = runner.upload(
        batch.systems, batch.n_maps.astype(np.int64), batch.model_key.astype(np.uint32),
        batch.system_of.astype(np.int64), batch.mvp.astype(np.float64))
    points = runner.empty((n_sys, 3, settings.n_points - 1), np.float32)
    finite = runner.empty((n_sys,), np.int32)
    runner.launch(key, f"{key}_models", (math.ceil(n_sys / MODEL_THREADS),), MODEL_THREADS, 0, MODELS_SIG,
                  [systems, n_maps, model_key, points, finite, n_sys, settings.n_points, settings.seed,
                   settings.stream])
    out = runner.empty((batch.size, 1, settings.size, settings.size), np.uint8)
    grid, band_rows, shared = view_grid(batch.size, settings.size)
    runner.launch(key, f"{key}_views", grid, VIEW_THREADS, shared, VIEWS_SIG,
                  [points, finite, system_of, mvp, out, settings.n_points, settings.size, band_rows])
    return runner.result(out)


def evaluate(systems: np.ndarray, n_maps: np.ndarray, keys: np.ndarray, settings: Settings3D, threshold: float,
             runner=None) -> np.ndarray:
    """Search acceptance of candidates: bool [U]; equals `render_ref.evaluate`."""
    runner = runner or kernels.CudaRunner()
    key, n_sys = settings.database, systems.shape[0]
    d_systems, d_maps, d_keys = runner.upload(systems, n_maps.astype(np.int64), keys.astype(np.uint32))
    accepted = runner.empty((n_sys,), np.int32)
    runner.launch(key, f"{key}_evaluate", (math.ceil(n_sys / MODEL_THREADS),), MODEL_THREADS, 0, EVALUATE_SIG,
                  [d_systems, d_maps, d_keys, accepted, n_sys, settings.n_points, settings.seed, settings.stream,
                   threshold])
    return runner.to_numpy(accepted).astype(bool)
