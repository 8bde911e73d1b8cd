"""Launching the project's CUDA kernels, on a GPU or, for the tests, on the CPU through the host shim.

A kernel call is described once: its module (`csrc/<key>.cu`), name, grid, block, dynamic shared
memory and arguments, each tagged with its C type in a signature string ("p" pointer, "i" int32,
"u" uint32, "d" float64). `CudaRunner` launches it with CuPy on torch's current stream, over torch-allocated memory
(DLPack views, no copies). `HostRunner` compiles the same source with the system C++ compiler and
csrc/common/host_shim.h, and calls the kernel's host driver, which runs every block and thread in turn:
the launch code of each backend (array set-up, chunking, bands, fallbacks) is thereby tested without a
GPU, against the NumPy reference.
"""

from __future__ import annotations

import ctypes
import functools
import subprocess

import numpy as np

from .. import _env
from . import cuda

_CTYPES = {"p": ctypes.c_void_p, "i": ctypes.c_int32, "u": ctypes.c_uint32, "d": ctypes.c_double}
_NUMPY = {"i": np.int32, "u": np.uint32, "d": np.float64}


class CudaRunner:
    """Kernels on the current CUDA device; arrays are torch tensors."""

    def __init__(self):
        import torch

        self.torch = torch

    def upload(self, array: np.ndarray):
        return self.torch.from_numpy(np.ascontiguousarray(array)).to("cuda", non_blocking=False)

    def empty(self, shape, dtype):
        return self.torch.empty(shape, dtype=getattr(self.torch, np.dtype(dtype).name), device="cuda")

    def launch(self, key: str, name: str, grid, block: int, smem: int, signature: str, args: list) -> None:
        kernel = cuda.kernel(key, name)
        if smem > 48 * 1024:
            kernel.max_dynamic_shared_size_bytes = smem
        values = [cuda.to_cupy(a) if kind == "p" else _NUMPY[kind](a) for kind, a in zip(signature.split(), args)]
        with cuda.torch_stream():
            kernel(tuple(grid), (block,), tuple(values), shared_mem=smem)

    def to_numpy(self, array) -> np.ndarray:
        return array.cpu().numpy()

    def result(self, array):
        return array


@functools.lru_cache(maxsize=None)
def _host_library(key: str) -> ctypes.CDLL:
    root = cuda.csrc_dir()
    out = _env.cache_dir() / "host-shim" / f"{key}-{cuda.sources_digest()}.so"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp.so")
        subprocess.run(["g++", "-O2", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off", "-x", "c++",
                        f"-I{root}", str(root / f"{key}.cu"), "-o", str(tmp)], check=True, capture_output=True)
        tmp.replace(out)
    return ctypes.CDLL(str(out))


class HostRunner:
    """The same kernels compiled for the CPU (tests); arrays are NumPy arrays."""

    def upload(self, array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(array).copy()

    def empty(self, shape, dtype) -> np.ndarray:
        return np.empty(shape, dtype=dtype)

    def launch(self, key: str, name: str, grid, block: int, smem: int, signature: str, args: list) -> None:
        fn = getattr(_host_library(key), f"{name}_host")
        kinds = ["i", "i", "i", *signature.split()]
        fn.argtypes = [_CTYPES[k] for k in kinds]
        gx, gy = (tuple(grid) + (1,))[:2]
        values = [gx, gy, block, *args]
        fn(*[v.ctypes.data if k == "p" else (float(v) if k == "d" else int(v)) for k, v in zip(kinds, values)])

    def to_numpy(self, array) -> np.ndarray:
        return array

    def result(self, array):
        return array


def host_compiler_available() -> str | None:
    """None if g++ can build the host shim here, else why not."""
    try:
        subprocess.run(["g++", "--version"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"g++ is not available ({exc})"
    return None

