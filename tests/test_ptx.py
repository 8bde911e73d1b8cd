"""The PTX of every kernel for Hopper (sm_90), made here without a GPU: nothing in it may compute inexactly.

NVRTC (the `nvidia-cuda-nvrtc` wheel of the test extra) compiles every csrc/<key>.cu with the production
options; Triton compiles every production specialisation of its kernels (in a subprocess: the tests run
Triton's interpreter, which cannot compile). Planted sources prove the check finds what it must.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

import fdsl_gen
from fdsl_gen.backends import cuda_modules, ptx

KERNELS = {"IFS2D": ("trace", "coords", "raster", "fill"), "CONTOUR": ("render",),
           "IFS3D": ("models", "views", "evaluate")}
PLANTED = """
extern "C" __global__ void planted(float* x, double* y) {
    x[0] = x[1] * x[2] + x[3];
    x[4] = x[5] / x[6];
    y[0] = sqrt(y[1]);
}
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Every kernel's PTX written by `python -m fdsl_gen.backends.ptx DIR`, as the selftest --ptx writes it."""
    out = tmp_path_factory.mktemp("ptx")
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    run = subprocess.run([sys.executable, "-m", "fdsl_gen.backends.ptx", str(out)], capture_output=True, text=True,
                         env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return out, json.loads(run.stdout)


@pytest.mark.parametrize("key", fdsl_gen.list_databases())
def test_nvrtc_ptx_is_exact(key, written):
    out, found = written
    text = (out / f"{key}.ptx").read_text()
    family = re.search(r"(\w+)_KERNELS\(", (cuda_modules.csrc_dir() / f"{key}.cu").read_text()).group(1)
    assert sorted(ptx.entries(text)) == sorted(f"{key}_{name}" for name in KERNELS[family])
    assert ".target sm_90" in text and ("mul.rn.f64" in text or "mul.rn.f32" in text)
    assert found[f"{key}.ptx"] == {} and ptx.inexact(text) == {}


def test_triton_ptx_is_exact(written):
    out, found = written
    names = [spec[0] for spec in ptx.triton_specs()]
    assert names and len(set(names)) == len(names) and all(re.fullmatch(r"\w+", n) for n in names)
    for name in names:
        text = (out / f"{name}.ptx").read_text()
        assert ".target sm_90" in text and ptx.entries(text)
        assert found[f"{name}.ptx"] == {}, (name, found[f"{name}.ptx"])


def test_the_check_finds_fused_and_approximate_instructions():
    fast = ptx.nvrtc_compile(PLANTED, "planted.cu", ["--use_fast_math", "-arch=compute_90"])
    found = ptx.inexact(fast)
    assert any(op.startswith("fma.") for op in found) and any(".approx" in op for op in found), found
    exact = ptx.nvrtc_compile(PLANTED, "planted.cu", [*cuda_modules.NVRTC_OPTIONS, "-arch=compute_90"])
    assert ptx.inexact(exact) == {} and "div.rn.f32" in exact and "sqrt.rn.f64" in exact


def test_the_check_reads_instructions_not_comments():
    text = "\t// fma.rn.f32 in a comment\n\t@%p1 fma.rn.f32 %f1, %f2, %f3, %f4;\n\tmad.lo.s32 %r1, %r2, %r3, %r4;\n" \
           "\tmul.f32 %f1, %f2, %f3;\n\tmul.rn.f32 %f1, %f2, %f3;\n\tcvt.rmi.ftz.f32.f32 %f1, %f2;\n" \
           "\tdiv.full.f32 %f1, %f2, %f3;\n\tadd.s64 %rd1, %rd2, %rd3;\n"
    assert ptx.inexact(text) == {"fma.rn.f32": 1, "mul.f32": 1, "cvt.rmi.ftz.f32.f32": 1, "div.full.f32": 1}
