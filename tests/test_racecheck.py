"""Races on the CPU: every CUDA kernel in random thread orders, and under the race checker.

The kernels run on the host shim through the production launch code (as `cuda_on_host`): in several
seeded random orders of blocks and threads, each of which must give the reference's bytes; and in the
race-checking build (csrc/common/racecheck.h), which must find no race, no access outside the launch's
arguments and shared memory, and same-value stores only in the kernels SAME_VALUE lists. Races planted
in tests/csrc/planted_race.cu prove that the checker and the random order catch what they must.
"""

import importlib
import re
from pathlib import Path

import numpy as np
import pytest

import fdsl_gen
from fdsl_gen.backends import cuda_modules, cuda_runner, host_runner
from fdsl_gen.backends.host_runner import HostRunner, RaceError

from .conftest import VARIANTS

ORDERS = (1, 2, 3)
SAME_VALUE = {  # kernel: why several of its threads may store one value to one byte
    f"{key}_render": "the segments of an orbit share their end pixels and may cross; every thread of the orbit "
                     "draws its one gray, and a barrier separates orbits" for key in ("rcdb", "visual_atom")
}
RENDER_KERNELS = {"IFS2D": ("trace", "coords", "raster"), "CONTOUR": ("render",), "IFS3D": ("models", "views")}
CASES = [pytest.param(key, options, id=f"{key}-{i}") for key in fdsl_gen.list_databases()
         for i, options in enumerate(VARIANTS[key])]
PLANTED = Path(__file__).parent / "csrc"
pytestmark = pytest.mark.skipif(host_runner.host_compiler_available() is not None,
                                reason=str(host_runner.host_compiler_available()))


@pytest.fixture
def install(monkeypatch):
    """install(runner): the `cuda` backend's launches go to `runner`, a HostRunner, from then on."""
    from fdsl_gen import backends

    real = backends.unavailable_reason
    monkeypatch.setattr(backends, "unavailable_reason", lambda name: None if name == "cuda" else real(name))
    return lambda runner: monkeypatch.setattr(cuda_runner, "CudaRunner", lambda: runner)


def renders(key, options, n=3):
    """(the reference's images, a function rendering them with `cuda`) for n fixed ids of a small database."""
    sized = {"instances": 3} if key != "fractaldb" else {}
    db = fdsl_gen.get_database(key, categories=6, seed=11, **options, **sized)
    rng = np.random.default_rng(7)
    cats, insts = rng.integers(0, db.n_categories, n), rng.integers(0, db.n_instances, n)
    ref = db.render_array(cats, insts, backend="ref")
    assert ref.any()
    return ref, lambda: db.render_array(cats, insts, backend="cuda")


def render_kernels(key):
    family = re.search(r"(\w+)_KERNELS\(", (cuda_modules.csrc_dir() / f"{key}.cu").read_text()).group(1)
    return {f"{key}_{name}" for name in RENDER_KERNELS[family]}


def assert_clean(verdicts, kernels_expected):
    """Every launch judged: no race, no stray, same-value stores only where SAME_VALUE lists them."""
    assert {v.kernel for v in verdicts} >= set(kernels_expected)
    for v in verdicts:
        assert v.races == 0 and v.strays == 0, v.report
        assert v.same_value == 0 or v.kernel in SAME_VALUE, f"{v.kernel}: unlisted same-value stores\n{v.report}"


# -- every kernel ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("key,options", CASES)
def test_renders_in_random_orders_equal_reference(key, options, install):
    ref, render = renders(key, options)
    for seed in ORDERS:
        install(HostRunner(order_seed=seed))
        np.testing.assert_array_equal(render(), ref, err_msg=f"order {seed}")


@pytest.mark.parametrize("key,options", CASES)
def test_renders_pass_the_race_checker(key, options, install):
    ref, render = renders(key, options)
    runner = HostRunner(order_seed=5, check=True)
    install(runner)
    try:
        np.testing.assert_array_equal(render(), ref)
    finally:  # the checker's report, also where a caller turned its RaceError into another error
        assert_clean(runner.verdicts, render_kernels(key))


# 64² in bands of 20 rows, for 8-thread raster blocks (a queue of 8 * 8 + 2 words): keys (VARIANTS'
# patch_color), then a bitmap (its point_gray); 96² views in bands of 20 rows
SMALL_RASTER = {"RASTER_THREADS": 8, "QUEUE_WORDS": 8 * 8 + 2}


@pytest.mark.parametrize("key,variant,module,limits,bands", [
    ("fractaldb", -1, "ifs2d", {**SMALL_RASTER, "BAND_BYTES": 4 * (64 * 20 + 8 * 8 + 2)},
     lambda m: m.raster_grid(64, False)[:2] == (4, 20)),
    ("fractaldb", 0, "ifs2d", {**SMALL_RASTER, "BAND_BYTES": 64 * 20 // 8 + 4 * (8 * 8 + 2)},
     lambda m: m.raster_grid(64, True)[:2] == (4, 20)),
    ("exfractaldb", -1, "ifs3d", {"VIEW_SHARED_BYTES": 96 * 20 // 8}, lambda m: m.view_grid(3, 96)[0] == (3, 5)),
])
def test_banded_launches_in_random_orders_and_under_the_checker(key, variant, module, limits, bands, install,
                                                                  monkeypatch):
    """Small shared memory forces the bands that only images over 886² (views) or 166² (raster keys) need."""
    render_cuda = importlib.import_module(f"fdsl_gen.databases.{module}.render_cuda")
    for name, value in limits.items():
        monkeypatch.setattr(render_cuda, name, value)
    assert bands(render_cuda)
    ref, render = renders(key, VARIANTS[key][variant])
    checked = HostRunner(order_seed=6, check=True)
    for runner in (HostRunner(order_seed=2), checked):
        install(runner)
        np.testing.assert_array_equal(render(), ref)
    assert_clean(checked.verdicts, render_kernels(key))


def test_fill_search_kernel_in_random_orders_and_under_the_checker():
    from fdsl_gen.databases.ifs2d import render_cuda, render_ref
    from fdsl_gen.databases.ifs2d.batch import pack_systems

    rng = np.random.default_rng(3)
    systems = []
    for n in (2, 3, 4):
        params = rng.uniform(-0.7, 0.7, (n, 6))
        det = np.abs(params[:, 0] * params[:, 3] - params[:, 1] * params[:, 2])
        systems.append(np.c_[params, det / det.sum()])
    packed, n_maps = pack_systems(systems)
    u, rows = rng.random((2, 3000)), np.array([0, 1, 0])
    want = render_ref.point_fill_counts(packed, n_maps, u, rows, 96, 6)
    assert want.min() > 0
    checked = HostRunner(order_seed=9, check=True)
    for runner in [HostRunner(order_seed=seed) for seed in ORDERS] + [checked]:
        got = render_cuda.point_fill_counts(packed, n_maps, u, rows, 96, 6, runner=runner)
        np.testing.assert_array_equal(got, want)
    assert_clean(checked.verdicts, ["fractaldb_trace", "fractaldb_fill"])


def test_evaluate_search_kernel_in_random_orders_and_under_the_checker():
    from fdsl_gen.databases.ifs3d import render_cuda, render_numba
    from fdsl_gen.databases.ifs3d.batch import Settings3D, pack_systems
    from fdsl_gen.databases.ifs3d.search import candidates

    settings = Settings3D(size=1, n_points=1000, seed=2, stream=fdsl_gen.rng.stream_id("ifs3d/search-points"))
    packed, n_maps = pack_systems(candidates(2, 0, 200))
    keys = np.stack([np.arange(200), np.zeros(200, np.int64)], axis=1)
    accepted = render_numba.evaluate(packed, n_maps, keys, settings, 0.05)
    pick = np.r_[np.flatnonzero(accepted)[:2], np.flatnonzero(~accepted)[:4]]  # both answers, few candidates
    assert accepted[pick].sum() == 2
    packed, n_maps, keys = packed[pick], n_maps[pick], keys[pick]
    checked = HostRunner(order_seed=9, check=True)
    for runner in [HostRunner(order_seed=seed) for seed in ORDERS] + [checked]:
        got = render_cuda.evaluate(packed, n_maps, keys, settings, 0.05, runner=runner)
        np.testing.assert_array_equal(got, accepted[pick])
    assert_clean(checked.verdicts, ["ofdb3d_evaluate"])


# -- what the checker relies on -----------------------------------------------------------------------------

HEADERS = ("ifs2d.cuh", "contours.cuh", "ifs3d.cuh")
RAW_POINTER = re.compile(r"\b(?:double|float|int|char|long long)\s*\*\s*(?:__restrict__\s+)?(\w+)")
LOCAL = {"cum"}  # pointers to a thread's own arrays, which no other thread sees


@pytest.mark.parametrize("header", HEADERS)
def test_device_code_reaches_memory_only_through_tracked_pointers(header):
    """A raw pointer would bypass the checker: device code holds gmem<T> and smem<T> only."""
    text = (cuda_modules.csrc_dir() / "common" / header).read_text()
    device_code = re.sub(r"//[^\n]*", "", re.split(r"#define \w+_PARAMS", text)[0])  # before the kernels
    assert "gmem<" in device_code
    assert set(RAW_POINTER.findall(device_code)) <= LOCAL, "raw pointers in device code"


def phases(body: str, barrier: str) -> list[list[str]]:
    """The device functions a kernel body calls, grouped by phase (`barrier` opens or closes one)."""
    groups = [[]]
    for token in re.findall(rf"{barrier}|\b(?:ifs2d|ifs3d|contour)_\w+(?=\()", body):
        if re.fullmatch(barrier, token):
            groups.append([])
        else:
            groups[-1].append(token)
    return [g for g in groups if g]


@pytest.mark.parametrize("header", HEADERS)
def test_host_drivers_phases_are_the_kernels_barriers(header):
    """The checker judges the host drivers' phases: they must split each kernel where __syncthreads() does."""
    text = (cuda_modules.csrc_dir() / "common" / header).read_text()
    host, device = re.search(r"#ifndef __CUDACC__\n(.*?)#else\n(.*?)#endif", text, re.S).groups()
    name = re.compile(r"\s*(?:__global__ )?void (?:__launch_bounds__\([^)]*\) )?prefix##_(\w+?)(?:_host)?\(")
    host, device = ({name.match(k).group(1): k for k in section.split('extern "C"')[1:]} for section in (host, device))
    assert host.keys() == device.keys()
    for name in host:
        want = phases(device[name], r"__syncthreads\(\)")
        assert want and phases(host[name], r"g\.phase\(|\.threads\(") == want, name


# -- the checker and the orders on planted races ------------------------------------------------------------

# plant (the enum of planted_race.cu, in order): (racing bytes, same-value bytes, stray accesses), each
# over both blocks' phase scopes and the launch's
PLANTS = {
    "shared_write_write": (8, 0, 0),
    "shared_write_write_barrier": (0, 0, 0),
    "shared_write_write_atomic": (0, 0, 0),
    "shared_atomic_read": (8, 0, 0),
    "shared_read_write": (8, 0, 0),
    "shared_read_write_barrier": (0, 0, 0),
    "shared_increment": (8, 0, 0),
    "shared_per_block": (0, 0, 0),
    "global_two_blocks": (4, 0, 0),
    "global_two_blocks_atomic": (0, 0, 0),
    "global_same_value": (0, 12, 0),  # block 0's phase, block 1's phase, the launch: one word each
    "global_same_value_read": (8, 4, 0),  # block 0's phase and the launch race; block 1's phase does not
    "stray": (0, 0, 2),
}


def run_plant(runner, plant):
    """out [4] of the planted kernel on 2 blocks of 4 threads (a word past its end: the stray's target)."""
    names = re.findall(r"^\s+([A-Z_]+),", (PLANTED / "planted_race.cu").read_text(), re.M)
    assert [n.lower() for n in names] == list(PLANTS)
    buffer = np.zeros(8, np.uint32)
    runner.launch("planted_race", "planted", (2,), 4, 4, "p i", [buffer[:4], list(PLANTS).index(plant)])
    return buffer


@pytest.mark.parametrize("plant", PLANTS)
def test_the_checker_catches_planted_races(plant):
    races, same, strays = PLANTS[plant]
    for seed in (0, 4):
        runner = HostRunner(order_seed=seed, check=True, sources=PLANTED)
        if races or strays:
            with pytest.raises(RaceError, match="race at" if races else "stray"):
                run_plant(runner, plant)
        else:
            run_plant(runner, plant)
        (verdict,) = runner.verdicts
        assert (verdict.races, verdict.same_value, verdict.strays) == (races, same, strays), verdict.report


def test_the_checker_names_the_place_threads_and_phases():
    runner = HostRunner(check=True, sources=PLANTED)
    with pytest.raises(RaceError):
        run_plant(runner, "global_two_blocks")
    assert runner.verdicts[0].report.splitlines()[0] == (
        "race at argument 0 + bytes 8..11 (two blocks): plain write by block (1, 0) thread 0 phase 2; "
        "plain write by block (0, 0) thread 0 phase 1")
    with pytest.raises(RaceError, match=r"stray 4-byte access through a global pointer at argument 0 \+ byte 16 "):
        run_plant(runner, "stray")


def test_random_orders_change_an_order_dependent_result():
    """The planted write/write race: the last of threads 0 and 1 wins, which the order decides."""
    plain = {tuple(run_plant(HostRunner(sources=PLANTED), "shared_write_write")[:2]) for _ in range(2)}
    assert plain == {(2, 2)}  # index order: thread 1 stores last
    seen = {tuple(run_plant(HostRunner(order_seed=s, sources=PLANTED), "shared_write_write")[:2]) for s in range(1, 9)}
    assert {1, 2} <= {v for pair in seen for v in pair}
    again = [run_plant(HostRunner(order_seed=s, sources=PLANTED), "shared_write_write")[:2].tolist() for s in (3, 3)]
    assert again[0] == again[1]  # a seed gives one order
