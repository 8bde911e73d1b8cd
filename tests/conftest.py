"""Shared test setup: a private cache folder, small render settings, and the backend lists."""

from __future__ import annotations

import os

import pytest

from fdsl_gen.backends import BACKENDS, unavailable_reason


def pytest_configure(config):
    # Computed category tables go to a per-run folder, never to the user's ~/.cache.
    if "FDSL_CACHE_DIR" not in os.environ:
        import tempfile

        os.environ["FDSL_CACHE_DIR"] = tempfile.mkdtemp(prefix="fdsl-test-cache-")
    # Tests not marked `gpu` run on the CPU also on a machine with a GPU (their defaults, `auto` backends and
    # subprocesses stay off it); the `gpu` tests ask for cuda explicitly.
    os.environ.setdefault("FDSL_DEVICE", "cpu")
    # Without a GPU, Triton kernels run in Triton's interpreter (it must be chosen before triton is imported).
    import torch

    if not torch.cuda.is_available():
        os.environ.setdefault("TRITON_INTERPRET", "1")


def backend_params(implemented):
    """pytest params over the fast backends (all but `ref`), skipped with the probe's reason where they cannot run."""
    params = []
    for name in BACKENDS:
        if name == "ref":
            continue
        reason = "not implemented for this database yet" if name not in implemented else unavailable_reason(name)
        marks = [pytest.mark.skip(reason=f"{name}: {reason}")] if reason else []
        if name in ("cuda", "triton"):
            marks.append(pytest.mark.gpu)
        params.append(pytest.param(name, marks=marks, id=name))
    return params


# Small but real settings: every code path of the renderers, fast under the reference backend.
SMALL = {"size": 64, "points": 4000}
SMALL_BY_DB = {
    "fractaldb": SMALL,
    "ofdb": SMALL,
    "onepfrac": SMALL,
    "rcdb": {"size": 96, "start_pos": 64, "vertex_num": 40},
    "visual_atom": {"size": 96, "start_pos": 64, "vertex_num_min": 20, "vertex_num_max": 80, "line_num_max": 30},
    "ofdb3d": {"size": 96, "points": 3000},
    "exfractaldb": {"size": 96, "points": 3000},
}
# Option sets whose renders together reach every branch of a database's renderer.
VARIANTS = {
    **{key: [{**SMALL, "draw_type": dt} for dt in ("point_gray", "patch_gray", "point_color", "patch_color")]
       for key in ("fractaldb", "ofdb", "onepfrac")},
    "rcdb": [SMALL_BY_DB["rcdb"], {**SMALL_BY_DB["rcdb"], "background": "black"}],
    "visual_atom": [SMALL_BY_DB["visual_atom"], {**SMALL_BY_DB["visual_atom"], "nami_1_max": 0, "nami_2_max": 0}],
    "ofdb3d": [SMALL_BY_DB["ofdb3d"]],
    "exfractaldb": [SMALL_BY_DB["exfractaldb"], {**SMALL_BY_DB["exfractaldb"], "views": "random"}],
}


@pytest.fixture
def cuda_on_host(monkeypatch):
    """Run the `cuda` backend's kernels on the CPU: the same csrc sources, built with the host shim, blocks and
    threads in a seeded random order.

    Everything above the kernels (batch set-up, chunks, bands, fallbacks) is the production code.
    """
    import functools

    from fdsl_gen import backends
    from fdsl_gen.backends import cuda_runner, host_runner

    reason = host_runner.host_compiler_available()
    if reason:
        pytest.skip(reason)
    monkeypatch.setattr(cuda_runner, "CudaRunner", functools.partial(host_runner.HostRunner, order_seed=11))
    real = backends.unavailable_reason
    monkeypatch.setattr(backends, "unavailable_reason", lambda name: None if name == "cuda" else real(name))
