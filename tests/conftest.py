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
