"""The reference renderer against stored 64² renders (tests/golden/make_golden.py makes them)."""

from pathlib import Path

import numpy as np
import pytest

from .golden.make_golden import CASES, render_cases

GOLDEN = Path(__file__).parent / "golden" / "ifs2d_ref_64.npz"


@pytest.fixture(scope="module")
def rendered():
    return render_cases()


@pytest.mark.parametrize("key", sorted(CASES))
def test_reference_matches_golden(key, rendered):
    stored = np.load(GOLDEN)[key]
    assert stored.any()
    np.testing.assert_array_equal(rendered[key], stored)
