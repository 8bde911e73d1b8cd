"""Contour rendering with the CUDA kernel of csrc/<key>.cu (common/contours.cuh): must equal `render_ref`.

One block per image. The per-vertex cos, sin and wave terms are computed on the host with the C library
(`render_numba.vertex_tables`), as the reference. They depend on a category's (q, n1, n2) only, so a
database computes them once for its whole table and keeps them on the device (`VertexTables`); a batch
then sends one offset per image. Without such tables the batch's own are computed and sent (searches,
tests). With `runner=HostRunner()` the same source runs on the CPU (tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...backends import cuda_runner
from ...errors import UsageError
from .batch import ContourBatch, ContourSettings
from .noise import GRADIENT
from .render_numba import vertex_tables

MAX_VERTICES = 7000  # 32 bytes of shared memory per vertex and 1 KB of gradients, under the H100's 227 KB
SIGNATURE = "i p p p p p p p p p p p p p p i i i u u"


@dataclass(frozen=True)
class VertexTables:
    """The vertex tables of a category table on the device, and where each category's block starts."""

    tables: object  # flat float64: per distinct (q, n1, n2), cos [q], sin [q], wave1 [q], wave2 [q]
    offset: np.ndarray  # [C] int64, on the host: category c's block


def table_tables(vertices: np.ndarray, n1: np.ndarray, n2: np.ndarray, runner=None) -> VertexTables:
    """The vertex tables of every category (q [C], n1 [C], n2 [C]), uploaded once."""
    runner = runner or cuda_runner.CudaRunner()
    flat, offset = vertex_tables(vertices, n1, n2)
    (tables,) = runner.upload(flat)
    return VertexTables(tables, offset)


def shared_bytes(max_q: int) -> int:
    """A block's shared memory: per vertex 2 float64 positions and 2 int64 pixels, the noise gradients
    (256 float32) and the orbit's gray (common/contours.cuh)."""
    return 32 * max_q + 1024 + 4


def threads_for(max_q: int) -> int:
    """Threads per block: a vertex group of 4 or a segment each; few vertices (RCDB) leave few lanes idle."""
    return 128 if max_q <= 256 else 256


def render(batch: ContourBatch, settings: ContourSettings, runner=None, tables: VertexTables | None = None):
    """Render a batch: uint8 [B, 1, S, S] (a CUDA torch tensor, or NumPy under the host runner).

    `tables` holds the vertex tables of the categories that `batch.key[:, 0]` names (a database's).
    """
    if batch.mt_state is not None:  # the replay's MT19937 stream is sequential per image: CPU backends only
        raise UsageError("the cuda backend cannot replay the released scripts (--search published): use numba")
    runner = runner or cuda_runner.CudaRunner()
    max_q = int(batch.vertices.max())
    if max_q > MAX_VERTICES:
        raise UsageError(f"the CUDA contour kernel draws at most {MAX_VERTICES} vertices per orbit, got {max_q}")
    own = ()
    if tables is None:
        flat, offsets = vertex_tables(batch.vertices, batch.n1, batch.n2)
        own = (flat,)
    else:
        offsets = tables.offset[batch.key[:, 0].astype(np.int64)]
    arrays = runner.upload(batch.vertices.astype(np.int64), batch.orbits.astype(np.int64), batch.eta, batch.c,
                           batch.r0, batch.sx, batch.sy, batch.xc, batch.yc, offsets.astype(np.int64),
                           batch.key.astype(np.uint32), *own)
    table_array = arrays.pop() if own else tables.tables
    gradient = runner.constant("contours/gradient", lambda: GRADIENT)
    out = runner.empty((batch.size, 1, settings.size, settings.size), np.uint8)
    runner.fill(out, settings.background)  # a memset-like fill, before the kernel draws on it
    key = settings.database
    runner.launch(key, f"{key}_render", (batch.size,), threads_for(max_q), shared_bytes(max_q), SIGNATURE,
                  [max_q, *arrays[:10], table_array, arrays[10], gradient, out, settings.size, settings.kind,
                   settings.gray_levels, settings.seed, settings.stream])
    return runner.result(out)
