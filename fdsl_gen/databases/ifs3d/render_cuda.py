"""3D IFS models and views with the CUDA kernels of csrc/<key>.cu (common/ifs3d.cuh): must equal `render_ref`.

`models` builds each distinct model once (one thread per model, the chain run three times instead of
storing a float64 cloud); `views` projects them (one block per image and band of rows, lit pixels as
bits in shared memory). A model depends on its category and weight row only, so a database whose models
fit FDSL_GPU_TABLE_GB builds every model of its table once (`Models`) and a batch only projects views.
With `runner=HostRunner()` the same source runs on the CPU (tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...backends import cuda_runner
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


@dataclass(frozen=True)
class Models:
    """T models built on the runner's device: centred float32 points and whether each stayed finite."""

    points: object  # [T, 3, n_points - 1] float32
    finite: object  # [T] int32


def build_models(systems: np.ndarray, n_maps: np.ndarray, keys: np.ndarray, settings: Settings3D,
                 runner=None) -> Models:
    """Run the models kernel for systems [T, 7, 13] keyed by keys [T, 2] (one thread per model)."""
    runner = runner or cuda_runner.CudaRunner()
    key, n_sys = settings.database, systems.shape[0]
    d_systems, d_maps, d_keys = runner.upload(systems, n_maps.astype(np.int64), keys.astype(np.uint32))
    points = runner.empty((n_sys, 3, settings.n_points - 1), np.float32)
    finite = runner.empty((n_sys,), np.int32)
    runner.launch(key, f"{key}_models", (math.ceil(n_sys / MODEL_THREADS),), MODEL_THREADS, 0, MODELS_SIG,
                  [d_systems, d_maps, d_keys, points, finite, n_sys, settings.n_points, settings.seed,
                   settings.stream])
    return Models(points, finite)


def render(batch: ViewBatch, settings: Settings3D, runner=None, models: Models | None = None):
    """Render a batch of views: uint8 [B, 1, S, S] (a CUDA torch tensor, or NumPy under the host runner).

    `models` holds the models of a table that `batch.model_index` points into (a database's); without it
    the batch's own models are built here.
    """
    runner = runner or cuda_runner.CudaRunner()
    key = settings.database
    if models is None:
        models, index = build_models(batch.systems, batch.n_maps, batch.model_key, settings, runner), batch.system_of
    else:
        index = batch.model_index[batch.system_of]
    model_of, mvp = runner.upload(index.astype(np.int64), batch.mvp.astype(np.float64))
    out = runner.empty((batch.size, 1, settings.size, settings.size), np.uint8)
    grid, band_rows, shared = view_grid(batch.size, settings.size)
    runner.launch(key, f"{key}_views", grid, VIEW_THREADS, shared, VIEWS_SIG,
                  [models.points, models.finite, model_of, mvp, out, settings.n_points, settings.size, band_rows])
    return runner.result(out)


def evaluate(systems: np.ndarray, n_maps: np.ndarray, keys: np.ndarray, settings: Settings3D, threshold: float,
             runner=None) -> np.ndarray:
    """Search acceptance of candidates: bool [U]; equals `render_ref.evaluate`."""
    runner = runner or cuda_runner.CudaRunner()
    key, n_sys = settings.database, systems.shape[0]
    d_systems, d_maps, d_keys = runner.upload(systems, n_maps.astype(np.int64), keys.astype(np.uint32))
    accepted = runner.empty((n_sys,), np.int32)
    runner.launch(key, f"{key}_evaluate", (math.ceil(n_sys / MODEL_THREADS),), MODEL_THREADS, 0, EVALUATE_SIG,
                  [d_systems, d_maps, d_keys, accepted, n_sys, settings.n_points, settings.seed, settings.stream,
                   threshold])
    return runner.to_numpy(accepted).astype(bool)
