"""Regenerate tests/golden/ifs2d_ref_64.npz: a few 64² renders of each 2D IFS database by the reference.

    python tests/golden/make_golden.py

Run it only when the reference is meant to change; the test then guards the new behaviour.
"""

from pathlib import Path

import numpy as np

import fdsl_gen

CASES = {  # database -> (options, [(category, instance)])
    "fractaldb": ({"draw_type": "patch_gray"}, [(0, 0), (1, 7), (2, 999)]),
    "ofdb": ({"draw_type": "point_color"}, [(0, 0), (3, 0)]),
    "onepfrac": ({"draw_type": "patch_gray"}, [(0, 0), (2, 0)]),
}


def render_cases():
    out = {}
    for key, (options, ids) in CASES.items():
        db = fdsl_gen.get_database(key, categories=4, size=64, points=5000, seed=0, **options)
        out[key] = db.render_array([c for c, _ in ids], [i for _, i in ids], backend="ref")
    return out


if __name__ == "__main__":
    np.savez_compressed(Path(__file__).parent / "ifs2d_ref_64.npz", **render_cases())
