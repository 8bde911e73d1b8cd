"""Every backend against the reference, for every database and draw type (tests/_parity.py tolerances)."""

from pathlib import Path

import numpy as np
import pytest

import fdsl_gen
from fdsl_gen.databases.ifs2d import render_numba, render_ref
from fdsl_gen.databases.ifs2d.batch import IFSBatch, RenderSettings, pack_systems
from ._parity import assert_matches_ref
from .conftest import VARIANTS, backend_params

CASES = [pytest.param(key, options, id=f"{key}-{i}") for key in fdsl_gen.list_databases()
         for i, options in enumerate(VARIANTS[key])]


@pytest.mark.parametrize("backend", backend_params(("numba", "cuda")))
@pytest.mark.parametrize("key,options", CASES)
def test_backend_equals_reference(key, options, backend):
    db = fdsl_gen.get_database(key, categories=6, seed=11, **options,
                               **({"instances": 3} if key != "fractaldb" else {}))
    rng = np.random.default_rng(5)
    cats = rng.integers(0, db.n_categories, 8)
    insts = rng.integers(0, db.n_instances, 8)
    ref = db.render_array(cats, insts, backend="ref")
    got = db.render_array(cats, insts, backend=backend)
    assert ref.any()
    assert_matches_ref(key, backend, got, ref)


@pytest.mark.parametrize("key,options", CASES)
def test_cuda_kernels_on_the_host_equal_reference(key, options, cuda_on_host):
    """The CUDA sources, compiled for the CPU with the host shim, through the production launch code."""
    db = fdsl_gen.get_database(key, categories=6, seed=11, **options,
                               **({"instances": 3} if key != "fractaldb" else {}))
    rng = np.random.default_rng(7)
    cats = rng.integers(0, db.n_categories, 6)
    insts = rng.integers(0, db.n_instances, 6)
    ref = db.render_array(cats, insts, backend="ref")
    assert ref.any()
    np.testing.assert_array_equal(db.render_array(cats, insts, backend="cuda"), ref)


@pytest.mark.parametrize("key,options", [c for c in CASES if c.values[0] in ("fractaldb", "ofdb3d")])
def test_cuda_without_kept_tables_equals_reference(key, options, cuda_on_host, monkeypatch):
    """FDSL_GPU_TABLE_GB=0: no coordinates (2D) or models (3D) kept, each batch makes its own."""
    monkeypatch.setenv("FDSL_GPU_TABLE_GB", "0")
    db = fdsl_gen.get_database(key, categories=6, seed=11, **options)
    cats, insts = np.array([0, 5, 2, 2]), np.array([0, 1, 3, 0])
    np.testing.assert_array_equal(db.render_array(cats, insts, backend="cuda"),
                                  db.render_array(cats, insts, backend="ref"))


def _exploding_systems(count):
    """Non-contractive systems whose chaos game reaches NaN (the NaN rule and +-inf paths)."""
    rng = np.random.default_rng(1)
    found = []
    while len(found) < count:
        n = int(rng.integers(2, 5))
        params = rng.uniform(-3, 3, (n, 6))
        det = np.abs(params[:, 0] * params[:, 3] - params[:, 1] * params[:, 2])
        s = np.c_[params, det / det.sum()]
        xs, ys = render_ref.chaos_game(s, np.random.RandomState(len(found)).random_sample(3000))
        if np.isnan(xs).any() or np.isnan(ys).any():
            found.append(s)
    return found


@pytest.mark.parametrize("draw_type", ["point_gray", "patch_color"])
def test_numba_equals_reference_on_overflowing_systems(draw_type):
    systems = _exploding_systems(4)
    packed, n_maps = pack_systems(systems)
    batch = IFSBatch(packed, n_maps, np.arange(4), np.array([0, 1, 2, 3]), np.zeros((4, 2), np.uint32))
    st = RenderSettings(size=48, n_points=3000, draw_type=draw_type, seed=1, patch_stream=2)
    np.testing.assert_array_equal(render_numba.render(batch, st), render_ref.render(batch, st))


def test_cuda_kernels_on_the_host_handle_overflow_and_fill(cuda_on_host):
    """Overflowing systems fall back to the CPU backend; fill counts equal the reference."""
    from fdsl_gen.backends.host_runner import HostRunner
    from fdsl_gen.databases.ifs2d import render_cuda

    systems = _exploding_systems(2) + [np.array([[0.5, 0.2, -0.1, 0.5, 0.3, 0.1, 0.6],
                                                 [0.4, -0.3, 0.2, 0.6, -0.5, 0.2, 0.4]])]
    packed, n_maps = pack_systems(systems)
    batch = IFSBatch(packed, n_maps, np.array([0, 1, 2, 2]), np.array([0, 1, 2, 3]), np.zeros((4, 2), np.uint32))
    st = RenderSettings(size=48, n_points=3000, draw_type="patch_gray", seed=1, patch_stream=2)
    np.testing.assert_array_equal(render_cuda.render(batch, st, runner=HostRunner()), render_ref.render(batch, st))
    u = np.random.RandomState(3).random_sample((2, 5000))
    rows = np.array([0, 1, 0])
    np.testing.assert_array_equal(render_cuda.point_fill_counts(packed, n_maps, u, rows, 128, 6, runner=HostRunner()),
                                  render_ref.point_fill_counts(packed, n_maps, u, rows, 128, 6))


def test_numba_fill_counts_equal_reference():
    contractive = np.array([[0.5, 0.2, -0.1, 0.5, 0.3, 0.1, 0.6], [0.4, -0.3, 0.2, 0.6, -0.5, 0.2, 0.4]])
    systems = _exploding_systems(2) + [contractive]
    packed, n_maps = pack_systems(systems)
    u = np.random.RandomState(3).random_sample((2, 5000))
    rows = np.array([0, 1, 0])
    np.testing.assert_array_equal(render_numba.point_fill_counts(packed, n_maps, u, rows, 128, 6),
                                  render_ref.point_fill_counts(packed, n_maps, u, rows, 128, 6))


def test_fast_rescale_equals_the_exact_division():
    """The coordinates kernel rescales through a reciprocal, guarded; it must truncate as the exact division.

    tests/csrc/rescale.cu draws bounds of every scale and values at and next to integer results."""
    import ctypes

    from fdsl_gen.backends import host_runner

    reason = host_runner.host_compiler_available()
    if reason:
        pytest.skip(reason)
    lib = host_runner.host_library(str(Path(__file__).parent / "csrc" / "rescale.cu"))
    lib.rescale_mismatches.restype = ctypes.c_longlong
    lib.rescale_mismatches.argtypes = [ctypes.c_uint64, ctypes.c_longlong, ctypes.POINTER(ctypes.c_longlong)]
    near = ctypes.c_longlong(0)
    assert lib.rescale_mismatches(7, 2_000_000, ctypes.byref(near)) == 0
    assert near.value > 1000  # the guard was exercised, not only the plain cases
