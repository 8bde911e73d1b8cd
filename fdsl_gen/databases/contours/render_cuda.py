"""Contour rendering with the CUDA kernel of csrc/<key>.cu (common/contours.cuh): must equal `render_ref`.

One block per image; the per-vertex cos, sin and wave terms are computed on the host with the C
library (`render_numba.vertex_tables`), as the reference, and shared by the images that need them. With
`runner=HostRunner()` the same source runs on the CPU (tests).
"""

from __future__ import annotations

import numpy as np

from ...backends import kernels
from ...errors import UsageError
from .batch import ContourBatch, ContourSettings
from .noise import GRADIENT
from .render_numba import vertex_tables

THREADS = 256
MAX_VERTICES = 7000  # 32 bytes of shared memory per vertex, under the H100's 227 KB
SIGNATURE = "i p p p p p p p p p p p p p p i i i i u u"


def render(batch: ContourBatch, settings: ContourSettings, runner=None):
    """Render a batch: uint8 [B, 1, S, S] (a CUDA torch tensor, or NumPy under the host runner)."""
    if batch.mt_state is not None:  # the replay's MT19937 stream is sequential per image: CPU backends only
        raise UsageError("the cuda backend cannot replay the released scripts (--search published): use numba")
    runner = runner or kernels.CudaRunner()
    max_q = int(batch.vertices.max())
    if max_q > MAX_VERTICES:
        raise UsageError(f"the CUDA contour kernel draws at most {MAX_VERTICES} vertices per orbit, got {max_q}")
    tables, offsets = vertex_tables(batch.vertices, batch.n1, batch.n2)
    arrays = runner.upload(batch.vertices.astype(np.int64), batch.orbits.astype(np.int64), batch.eta, batch.c,
                           batch.r0, batch.sx, batch.sy, batch.xc, batch.yc, offsets, tables,
                           batch.key.astype(np.uint32))
    gradient = runner.constant("contours/gradient", lambda: GRADIENT)
    out = runner.empty((batch.size, 1, settings.size, settings.size), np.uint8)
    key = settings.database
    runner.launch(key, f"{key}_render", (batch.size,), THREADS, 32 * max_q, SIGNATURE,
                  [max_q, *arrays, gradient, out, settings.size, settings.kind, settings.background,
                   settings.gray_levels, settings.seed, settings.stream])
    return runner.result(out)
