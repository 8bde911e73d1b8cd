"""numba's parallel kernels under fork() and under Python threads.

PyTorch's DataLoader forks its workers, and GNU OpenMP (numba's default threading layer where it is
installed) aborts a forked child once the parent has run a parallel region. OpenMP is also the fastest
layer here (3D views: about 9,000 against 5,200 images/s with numba's `workqueue` on 2 cores), so it stays
the default for rendering and writing datasets, and the datasets meant for DataLoaders (FDSLStream,
FDSLDataset) ask for the fork-safe layer when they are made (`prefer_fork_safe`): TBB if installed, else
`workqueue`, unless NUMBA_THREADING_LAYER names one or a parallel kernel has already run. A worker forked
after OpenMP ran gets a clear error instead of an abort (`check_fork_safe`).

`workqueue` must not be entered by two threads at once, so every parallel kernel of this package is
launched under one lock (`parallel_jit`); nothing of the kernels' results depends on it.
"""

from __future__ import annotations

import functools
import os
import threading

import numba as nb

from ..errors import UsageError

_LAUNCH = threading.RLock()


def parallel_jit(fn):
    """`numba.njit(parallel=True, nogil=True, cache=True)` launched under the package's launch lock."""
    kernel = nb.njit(cache=True, error_model="numpy", nogil=True, parallel=True)(fn)

    @functools.wraps(fn)
    def launch(*args):
        with _LAUNCH:
            return kernel(*args)

    launch.kernel = kernel
    return launch


def _layer() -> str | None:
    """The threading layer numba has started in this process, or None before its first parallel kernel."""
    try:
        return nb.threading_layer()
    except ValueError:  # "Threading layer is not initialized."
        return None


def prefer_fork_safe() -> str | None:
    """Choose numba's fork-safe layer if nothing has decided yet; returns the layer in force (None: not
    started, and the fork-safe one will be)."""
    layer = _layer()
    if layer is None and "NUMBA_THREADING_LAYER" not in os.environ:
        nb.config.THREADING_LAYER = "forksafe"
    return layer


_inherited = None  # in a forked child: the layer the parent had started ("omp": a parallel kernel would abort)


def _after_fork_in_child() -> None:
    global _inherited
    _inherited = _layer()


os.register_at_fork(after_in_child=_after_fork_in_child)


def check_fork_safe(what: str, fix: str) -> None:
    """In a process forked after its parent ran OpenMP kernels: a one-line UsageError instead of an abort."""
    if _inherited == "omp":
        raise UsageError(f"this DataLoader worker was forked after numba's OpenMP threads ran, which would abort it:"
                         f" use {fix}, or make the {what} before anything renders")
