"""The one comparison helper and tolerance table for backend outputs.

Every output of this project so far is integer (uint8 images, integer fill counts), and every backend
is bit-exact by design, so every entry is "exact" (0.0); a backend that cannot be exact would get a
bounded fraction of differing pixels here, with the reason.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = {
    # (database, backend): maximum fraction of differing pixels against `ref`
    ("fractaldb", "numba"): 0.0,
    ("ofdb", "numba"): 0.0,
    ("onepfrac", "numba"): 0.0,
    ("rcdb", "numba"): 0.0,
    ("visual_atom", "numba"): 0.0,
    ("ofdb3d", "numba"): 0.0,
    ("exfractaldb", "numba"): 0.0,
    # The CUDA kernels pin every float64/float32 rounding (__d*_rn/__f*_rn, NVRTC --fmad=false) and take
    # transcendental values from the host, so they are exact too.
    **{(key, "cuda"): 0.0 for key in ("fractaldb", "ofdb", "onepfrac", "rcdb", "visual_atom", "ofdb3d", "exfractaldb")},
}


def assert_matches_ref(database: str, backend: str, got: np.ndarray, ref: np.ndarray) -> None:
    assert got.shape == ref.shape and got.dtype == ref.dtype
    allowed = TOLERANCE[(database, backend)]
    differing = float(np.mean(got != ref))
    assert differing <= allowed, f"{database}/{backend}: {differing:.2%} of values differ (allowed {allowed:.2%})"
