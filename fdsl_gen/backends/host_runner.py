"""The project's CUDA kernels compiled for the CPU with csrc/common/host_shim.h, for the tests.

`HostRunner` takes the same launch descriptions as `cuda_runner.CudaRunner` (module, kernel, grid, block,
shared memory, typed arguments) and calls the kernel's host driver, which runs every block and thread
in turn, phase by phase: the launch code of each backend (array set-up, packed uploads, chunking,
bands, fallbacks) is thereby tested without a GPU, against the NumPy reference.

Two ways to look for races there. `order_seed` runs the blocks, and the threads of every phase, in a
seeded random order, so that an output which depends on the order changes. `check=True` uses a second
build (`-DFDSL_RACECHECK`, csrc/common/racecheck.h) that records every access to global and shared
memory and judges each launch: a `Verdict` per launch in `verdicts`, and `RaceError` on a race or on an
access outside every argument.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import hashlib
import itertools
import os
import subprocess
from pathlib import Path

import numpy as np

from .. import _env
from . import cuda_modules
from .cuda_runner import grid_limits, pack_into, pack_layout

_CTYPES = {"p": ctypes.c_void_p, "i": ctypes.c_int32, "u": ctypes.c_uint32, "d": ctypes.c_double}
_SAME_VALUE, _RACE, _STRAY = 1, 2, 3  # the checker's count indices (racecheck.h: Verdict)
_instances = itertools.count()
POISON = 0xA5  # every byte of a fresh array, as memory on a GPU holds whatever was there before


class RaceError(AssertionError):
    """A launch under the race checker raced or touched memory outside its arguments."""


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The race checker's judgement of one launch; counts are of (byte, scope) pairs (racecheck.h)."""

    kernel: str
    races: int  # bytes two threads (or blocks) touched unordered, at least one writing plainly
    same_value: int  # bytes only written, all with one value, by several threads (or blocks)
    strays: int  # accesses outside every argument and the shared memory
    report: str  # the first few of each, one per line


@functools.lru_cache(maxsize=None)
def host_library(source: str, check: bool = False) -> ctypes.CDLL:
    """`source` (a .cu file including csrc/common headers) built with g++, cached by content.

    `check` selects the race-checking build. Floating point stays exact: nothing is contracted.
    """
    path, root = Path(source), cuda_modules.csrc_dir()
    digest = hashlib.sha256(f"{cuda_modules.sources_digest()} {check} ".encode() + path.read_bytes()).hexdigest()[:16]
    out = _env.cache_dir() / "host-shim" / f"{path.stem}{'-racecheck' if check else ''}-{digest}.so"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        flags = ["-DFDSL_RACECHECK"] if check else []
        subprocess.run(["g++", "-O2", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off", *flags, "-x", "c++",
                        f"-I{root}", str(path), "-o", str(tmp)], check=True, capture_output=True)
        tmp.replace(out)
    lib = ctypes.CDLL(str(out))
    lib.fdsl_shim_set_order.argtypes = [ctypes.c_uint64]
    if check:
        lib.fdsl_rc_global.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int]
        lib.fdsl_rc_count.argtypes = [ctypes.c_int]
        lib.fdsl_rc_count.restype = ctypes.c_longlong
        lib.fdsl_rc_report.restype = ctypes.c_char_p
    return lib


class HostRunner:
    """The same kernels compiled for the CPU (tests); arrays are NumPy arrays.

    Args:
        order_seed: 0 runs blocks and threads in index order; another value a random order, new per launch.
        check: use the race-checking build (slower): `verdicts` gets one `Verdict` per launch, and a race
            or a stray access raises `RaceError`.
        sources: the folder of the `<key>.cu` files (default: the project's csrc/).
    """

    def __init__(self, order_seed: int = 0, check: bool = False, sources: Path | None = None):
        self.order_seed, self.check, self.sources = order_seed, check, sources
        self.cache_key = ("host", next(_instances))  # data kept for one runner never serves another
        self.verdicts: list[Verdict] = []
        self._launches = 0

    def identity(self) -> str:
        return "host shim (g++)"

    def upload(self, *arrays) -> list[np.ndarray]:
        """As `CudaRunner.upload`: one packed buffer, a view per array (so the packing is tested too)."""
        arrays = [np.ascontiguousarray(a) for a in arrays]
        offsets, total = pack_layout(arrays)
        buffer = np.empty(total, dtype=np.uint8)
        pack_into(buffer, arrays, offsets)
        return [buffer[off: off + a.nbytes].view(a.dtype).reshape(a.shape) for a, off in zip(arrays, offsets)]

    def constant(self, name: str, make) -> np.ndarray:
        return np.ascontiguousarray(make())

    def fill(self, array: np.ndarray, value) -> None:
        array.fill(value)

    def empty(self, shape, dtype) -> np.ndarray:
        array = np.empty(shape, dtype=dtype)
        array.view(np.uint8).fill(POISON)  # a byte no kernel writes shows
        return array

    def launch(self, key: str, name: str, grid, block: int, smem: int, signature: str, args: list) -> None:
        lib = host_library(str(Path(self.sources or cuda_modules.csrc_dir()) / f"{key}.cu"), self.check)
        fn = getattr(lib, f"{name}_host")
        kinds = ["i", "i", "i", "i", *signature.split()]
        fn.argtypes = [_CTYPES[k] for k in kinds]
        gx, gy, gz = grid_limits(grid)
        if gz != 1:
            raise ValueError(f"{name}: the host drivers run grids of one layer, not {gz}")
        self._launches += 1
        lib.fdsl_shim_set_order(self._order())
        if self.check:
            lib.fdsl_rc_begin()
            for i, (kind, a) in enumerate(zip(signature.split(), args)):
                if kind == "p":
                    lib.fdsl_rc_global(a.ctypes.data, a.nbytes, i)
        values = [gx, gy, block, smem, *args]
        fn(*[v.ctypes.data if k == "p" else (float(v) if k == "d" else int(v)) for k, v in zip(kinds, values)])
        if self.check:
            self._judge(lib, name)

    def _order(self) -> int:
        """The launch's order seed: 0 (index order), or one drawn from `order_seed` and the launch's number."""
        if not self.order_seed:
            return 0
        return (self.order_seed * 1_000_003 + self._launches) % 2**64 or 1

    def _judge(self, lib, name: str) -> None:
        verdict = Verdict(name, lib.fdsl_rc_count(_RACE), lib.fdsl_rc_count(_SAME_VALUE), lib.fdsl_rc_count(_STRAY),
                          lib.fdsl_rc_report().decode())
        self.verdicts.append(verdict)
        if verdict.races or verdict.strays:
            raise RaceError(f"{name}: {verdict.races} racing bytes, {verdict.strays} stray accesses "
                            f"(arguments counted from 0 as launched)\n{verdict.report}")

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
