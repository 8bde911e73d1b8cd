"""3D IFS models and views with the CUDA kernels of csrc/<key>.cu (common/ifs3d.cuh): must equal `render_ref`.

`models` builds each distinct model once (one thread per model, the chain run three times instead of
storing a float64 cloud); `views` projects them (one block per image). With `runner=HostRunner()` the
same source runs on the CPU (tests).
"""

from __future__ import annotations

import math

import numpy as np

from ...backends import kernels
from .batch import Settings3D, ViewBatch

MODEL_THREADS = 64
VIEW_THREADS = 256
MODELS_SIG = "p p p p p i i u u"
VIEWS_SIG = "p p p p p i i"
EVALUATE_SIG = "p p p p i i u u d"


def render(batch: ViewBatch, settings: Settings3D, runner=None):
    """Render a batch of views: uint8 [B, 1, S, S] (a CUDA torch tensor, or NumPy under the host runner)."""
    runner = runner or kernels.CudaRunner()
    key, n_sys = settings.database, batch.systems.shape[0]
    points = runner.empty((n_sys, 3, settings.n_points - 1), np.float32)
    finite = runner.empty((n_sys,), np.int32)
    runner.launch(key, f"{key}_models", (math.ceil(n_sys / MODEL_THREADS),), MODEL_THREADS, 0, MODELS_SIG,
                  [runner.upload(batch.systems), runner.upload(batch.n_maps.astype(np.int64)),
                   runner.upload(batch.model_key.astype(np.uint32)), points, finite, n_sys, settings.n_points,
                   settings.seed, settings.stream])
    out = runner.empty((batch.size, 1, settings.size, settings.size), np.uint8)
    runner.launch(key, f"{key}_views", (batch.size,), VIEW_THREADS, 0, VIEWS_SIG,
                  [points, finite, runner.upload(batch.system_of.astype(np.int64)),
                   runner.upload(batch.mvp.astype(np.float64)), out, settings.n_points, settings.size])
    return runner.result(out)


def evaluate(systems: np.ndarray, n_maps: np.ndarray, keys: np.ndarray, settings: Settings3D, threshold: float,
             runner=None) -> np.ndarray:
    """Search acceptance of candidates: bool [U]; equals `render_ref.evaluate`."""
    runner = runner or kernels.CudaRunner()
    key, n_sys = settings.database, systems.shape[0]
    accepted = runner.empty((n_sys,), np.int32)
    runner.launch(key, f"{key}_evaluate", (math.ceil(n_sys / MODEL_THREADS),), MODEL_THREADS, 0, EVALUATE_SIG,
                  [runner.upload(systems), runner.upload(n_maps.astype(np.int64)),
                   runner.upload(keys.astype(np.uint32)), accepted, n_sys, settings.n_points, settings.seed,
                   settings.stream, threshold])
    return runner.to_numpy(accepted).astype(bool)
