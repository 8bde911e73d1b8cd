"""The CUDA backend's plumbing: find the sources, compile them lazily with NVRTC (CuPy), launch on torch's stream.

Nothing here runs at import. `module(key)` compiles `csrc/<key>.cu` the first time it is asked for (the
text goes in through `RawModule(code=...)` with `-I csrc`, a hash of every source as a define so that a
changed header forces a recompile past CuPy's cache, and `--fmad=false` so that no multiply-add is
fused), keeps it, and remembers a failure instead of retrying it on every call. Kernels take torch
tensors' device pointers as plain integers (`cuda_runner.CudaRunner`).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from ..errors import UsageError

NVRTC_OPTIONS = ("--std=c++17", "--fmad=false")


def csrc_dir() -> Path:
    """The CUDA sources: inside the installed package (`fdsl_gen/_csrc`), or the repository's `csrc/`."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_csrc", package.parent / "csrc"):
        if (candidate / "common" / "philox.cuh").exists():
            return candidate
    raise FileNotFoundError("the CUDA sources (csrc/) are not installed with this copy of fdsl_gen")


def sources_digest() -> str:
    """SHA-256 over every .cu/.cuh/.h file, in name order (part of the compile options)."""
    h = hashlib.sha256()
    root = csrc_dir()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".cu", ".cuh", ".h"):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def compile_options() -> list[str]:
    """The production compile options of csrc/<key>.cu (NVRTC's, also given to nvcc by the cost model)."""
    return [*NVRTC_OPTIONS, f"-I{csrc_dir()}", f"-DFDSL_SOURCES={sources_digest()}"]


@functools.lru_cache(maxsize=None)
def _compile(key: str):
    import cupy

    code = (csrc_dir() / f"{key}.cu").read_text()
    module = cupy.RawModule(code=code, options=tuple(compile_options()))
    module.compile()
    return module


_failures: dict[str, str] = {}


def module(key: str):
    """The compiled RawModule of `csrc/<key>.cu` (compiled once; a failure is remembered and re-raised)."""
    if key in _failures:
        raise UsageError(f"the CUDA kernels of {key} failed to build earlier: {_failures[key]}")
    try:
        return _compile(key)
    except Exception as exc:  # NVRTC and driver errors come in many types
        _failures[key] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"the CUDA kernels of {key} failed to build: {_failures[key]}") from None


def kernel(key: str, name: str):
    return module(key).get_function(name)


def torch_stream():
    """CuPy's view of torch's current CUDA stream (kernels are launched on it, never on the default)."""
    import cupy
    import torch

    key = (torch.cuda.current_stream().cuda_stream, torch.cuda.current_device())
    if key not in _streams:
        _streams[key] = cupy.cuda.ExternalStream(*key)
    return _streams[key]


_streams: dict = {}  # (CUDA stream handle, device) -> CuPy ExternalStream, made once per stream
