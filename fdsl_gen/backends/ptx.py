"""The PTX of every kernel for Hopper (sm_90), made without a GPU, and the check that it computes exactly.

CUDA kernels: `csrc/<key>.cu` compiled by NVRTC itself (libnvrtc through ctypes: the `nvidia-cuda-nvrtc`
wheel, CuPy's toolkit or a CUDA installation) with the production options of `cuda_modules.NVRTC_OPTIONS`, the
include folder and the sources' digest, for compute_90. Triton kernels: every entry of each Triton
module's `PTX_SPECS` compiled by `triton.compile` for the sm_90 target with the production launch
options. Neither needs a GPU or a driver.

`inexact` lists what would make a kernel differ from its NumPy reference on hardware: approximate
division, reciprocal, square root and transcendentals, fused multiply-adds (the references never fuse),
floating-point multiplies and adds without a rounding modifier (ptxas is free to fuse those), and
anything that flushes subnormal numbers to zero (`.ftz`).
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import glob
import importlib
import os
import re
import sys
from pathlib import Path

from . import cuda_modules

ARCH = 90
TRITON_MODULES = ("fdsl_gen.augment.resample_triton", "fdsl_gen.augment.normalize_triton")

_MNEMONIC = re.compile(r"^\s*(?:@!?%\w+\s+)?([a-z][\w.]*)")
_FLOAT = re.compile(r"\.(?:f16|bf16|f32|f64)(?:x2)?(?:\.|$)")
_APPROX = re.compile(r"^(?:div|rcp|sqrt|rsqrt|lg2|ex2|sin|cos|tanh)\.(?:approx|full)\b")
_FUSED = re.compile(r"^(?:fma|mad)\.")
_LOOSE = re.compile(r"^(?:mul|add|sub)\.(?!rn|rz|rm|rp)")  # no rounding modifier: ptxas may fuse it


def inexact(ptx: str) -> dict[str, int]:
    """{instruction: count} of every instruction in `ptx` that could make its results inexact."""
    found = collections.Counter()
    for line in ptx.splitlines():
        match = _MNEMONIC.match(line)
        if not match:
            continue
        op = match.group(1)
        floating = bool(_FLOAT.search(op))
        if _APPROX.match(op) or ".ftz" in op or (floating and (_FUSED.match(op) or _LOOSE.match(op))):
            found[op] += 1
    return dict(found)


def entries(ptx: str) -> list[str]:
    """The kernel entry points of a PTX module."""
    return re.findall(r"\.entry\s+(\w+)", ptx)


# -- NVRTC ----------------------------------------------------------------------------------------------

def _nvrtc_candidates() -> list[str]:
    found = []
    for base in sys.path:  # the nvidia-cuda-nvrtc wheels (CUDA 13 and 12 layouts)
        found += sorted(glob.glob(os.path.join(base, "nvidia", "cu1*", "lib", "libnvrtc.so.*")))
        found += sorted(glob.glob(os.path.join(base, "nvidia", "cuda_nvrtc", "lib", "libnvrtc.so.*")))
    for home in (os.environ.get("CUDA_PATH"), os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if home:
            found += sorted(glob.glob(os.path.join(home, "lib64", "libnvrtc.so*")))
    name = ctypes.util.find_library("nvrtc")
    return [f for f in found if "builtins" not in f and ".alt." not in f] + ([name] if name else [])


def nvrtc_library() -> ctypes.CDLL:
    """libnvrtc, from the first place that has one; OSError naming where it looked otherwise."""
    for candidate in _nvrtc_candidates():
        try:
            # NVRTC dlopens its builtins library by name: load the one beside it first
            for builtins in sorted(glob.glob(os.path.join(os.path.dirname(candidate), "libnvrtc-builtins.so.*"))):
                if ".alt." not in builtins:
                    ctypes.CDLL(builtins, mode=ctypes.RTLD_GLOBAL)
            return ctypes.CDLL(candidate)
        except OSError:
            continue
    raise OSError("libnvrtc was not found (pip install nvidia-cuda-nvrtc, or install the CUDA toolkit)")


def nvrtc_ptx(key: str, arch: int = ARCH) -> str:
    """The PTX NVRTC makes of csrc/<key>.cu with the production options, for compute_<arch>."""
    options = [*cuda_modules.compile_options(), f"-arch=compute_{arch}"]
    return nvrtc_compile((cuda_modules.csrc_dir() / f"{key}.cu").read_text(), f"{key}.cu", options)


def nvrtc_compile(code: str, name: str, options: list[str]) -> str:
    """The PTX of one CUDA C++ source compiled by NVRTC with `options`."""
    lib = nvrtc_library()
    lib.nvrtcGetErrorString.restype = ctypes.c_char_p
    source = code.encode()
    program = ctypes.c_void_p()

    def ok(status: int, what: str) -> None:
        if status != 0:
            log = ""
            size = ctypes.c_size_t()
            if lib.nvrtcGetProgramLogSize(program, ctypes.byref(size)) == 0 and size.value > 1:
                buffer = ctypes.create_string_buffer(size.value)
                lib.nvrtcGetProgramLog(program, buffer)
                log = buffer.value.decode(errors="replace").strip()
            raise RuntimeError(f"NVRTC {what} of {name} failed: {lib.nvrtcGetErrorString(status).decode()}"
                               + (f"\n{log}" if log else ""))

    ok(lib.nvrtcCreateProgram(ctypes.byref(program), source, name.encode(), 0, None, None), "set-up")
    try:
        c_options = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
        ok(lib.nvrtcCompileProgram(program, len(options), c_options), "compilation")
        size = ctypes.c_size_t()
        ok(lib.nvrtcGetPTXSize(program, ctypes.byref(size)), "PTX size")
        buffer = ctypes.create_string_buffer(size.value)
        ok(lib.nvrtcGetPTX(program, buffer), "PTX")
        return buffer.value.decode()
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(program))


# -- Triton ---------------------------------------------------------------------------------------------

def triton_specs() -> list[tuple]:
    """(name, jit function, signature, constexprs, options) of every production Triton launch; each name is
    a file name (the PTX goes to <name>.ptx)."""
    specs = []
    for name in TRITON_MODULES:
        specs += importlib.import_module(name).PTX_SPECS
    return specs


def triton_ptx(fn, signature: dict, constexprs: dict, options: dict | None = None, arch: int = ARCH) -> str:
    """The PTX Triton makes of one kernel specialisation for sm_<arch> (no GPU needed)."""
    if os.environ.get("TRITON_INTERPRET", "0") not in ("", "0"):
        raise RuntimeError("Triton's interpreter is on (TRITON_INTERPRET): unset it to compile PTX")
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    source = ASTSource(fn=fn, signature=signature, constexprs=constexprs)
    return triton.compile(source, target=GPUTarget("cuda", arch, 32), options=options or {}).asm["ptx"]


def write_all(directory: Path, log=print) -> dict[str, dict[str, int]]:
    """Write <kernel>.ptx for every NVRTC module and Triton specialisation; returns {file: inexact(ptx)}."""
    from .cuda_modules import csrc_dir

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    found = {}
    modules = sorted(p.stem for p in csrc_dir().glob("*.cu"))  # one module per database
    jobs = [(f"{key}.ptx", lambda key=key: nvrtc_ptx(key)) for key in modules]
    jobs += [(f"{name}.ptx", lambda s=spec: triton_ptx(*s[1:])) for spec in triton_specs() for name in [spec[0]]]
    for filename, make in jobs:
        text = make()
        (directory / filename).write_text(text)
        found[filename] = inexact(text)
        log(f"{filename}: {sum(found[filename].values())} inexact instructions"
            + (f" {found[filename]}" if found[filename] else ""))
    return found


def main() -> None:
    """`python -m fdsl_gen.backends.ptx DIR`: write every kernel's PTX into DIR, print {file: inexact} as JSON."""
    import json

    if len(sys.argv) != 2:
        print("usage: python -m fdsl_gen.backends.ptx DIR", file=sys.stderr)
        sys.exit(2)
    found = write_all(Path(sys.argv[1]), log=lambda line: print(line, file=sys.stderr))
    print(json.dumps(found))


if __name__ == "__main__":
    main()
