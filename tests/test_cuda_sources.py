"""The CUDA sources: one .cu per database, each compiling with nvcc for the H100 without local-memory spills.

The kernels' logic is tested on the CPU through the host shim (test_parity.py); on a GPU the `gpu` tests
run them for real (test_gpu.py).
"""

import re
import shutil
import subprocess

import pytest

import fdsl_gen
from fdsl_gen.backends import cuda_modules

NVCC = shutil.which("nvcc")


def test_every_database_has_its_cu_file():
    root = cuda_modules.csrc_dir()
    keys = fdsl_gen.list_databases()
    assert sorted(p.stem for p in root.glob("*.cu")) == sorted(keys)
    for key in keys:
        assert "cuda" in fdsl_gen.database_class(key).implemented_backends
        assert re.search(rf"KERNELS\({key}\)", (root / f"{key}.cu").read_text())


@pytest.mark.skipif(NVCC is None, reason="nvcc is not installed here")
@pytest.mark.parametrize("key", fdsl_gen.list_databases())
def test_compiles_for_hopper_without_spills(key, tmp_path):
    root = cuda_modules.csrc_dir()
    r = subprocess.run([NVCC, "-arch=sm_90", "-cubin", "--std=c++17", f"-I{root}", *cuda_modules.NVRTC_OPTIONS[1:],
                        "-Xptxas", "-v", "-o", str(tmp_path / f"{key}.cubin"), str(root / f"{key}.cu")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    entries = re.findall(r"Compiling entry function '(\w+)'", r.stderr)
    spills = re.findall(r"(\d+) bytes spill stores, (\d+) bytes spill loads", r.stderr)
    assert entries and all(e.startswith(f"{key}_") for e in entries)
    # one report per entry function and per subroutine (a rare path kept out of a loop), none spilling
    assert len(spills) >= len(entries) and all(s == ("0", "0") for s in spills), r.stderr


def test_sources_digest_changes_with_a_header(tmp_path, monkeypatch):
    copy = tmp_path / "csrc"
    shutil.copytree(cuda_modules.csrc_dir(), copy)
    monkeypatch.setattr(cuda_modules, "csrc_dir", lambda: copy)
    before = cuda_modules.sources_digest()
    (copy / "common" / "philox.cuh").write_text((copy / "common" / "philox.cuh").read_text() + "\n// edited\n")
    assert cuda_modules.sources_digest() != before


def test_importing_compiles_nothing_and_failures_are_remembered(monkeypatch):
    calls = []

    def broken(key):
        calls.append(key)
        raise RuntimeError("nvrtc: error")

    monkeypatch.setattr(cuda_modules, "_compile", broken)
    monkeypatch.setattr(cuda_modules, "_failures", {})
    for _ in range(2):
        with pytest.raises(fdsl_gen.UsageError, match="failed to build"):
            cuda_modules.module("fractaldb")
    assert calls == ["fractaldb"]


@pytest.mark.skipif(NVCC is None, reason="nvcc is not installed here")
def test_the_cost_model_reads_every_workload_from_the_compiled_kernels():
    """benchmarks/gpu_model.py: region markers in the SASS, and a modeled rate for every row of its table."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import gpu_model
    import sass

    regions = sass.compile_module("ofdb")["ofdb_raster"].regions()
    assert {1, 3, 7, 8} <= set(regions) and all(sum(c.values()) > 0 for c in regions.values())
    rows = gpu_model.model("h200")
    assert [r["workload"] for r in rows] == ["ofdb_362", "ifs_224_point", "visual_atom_avg_stream",
                                             "visual_atom_worst", "rcdb_512", "ofdb3d_views", "ifs2d_host"]
    for r in rows:
        assert r["modeled_img_s_h200"] > 0 and r["target_img_s"] > 0 and set(r) >= {"bound_img_s", "limit"}
