"""numba's parallel kernels, made safe under fork() and under Python threads.

PyTorch's DataLoader forks its workers, and GNU OpenMP (numba's default threading layer where it is
installed) aborts a forked child once the parent has run a parallel region: a plain
`DataLoader(stream, num_workers=2)` died after anything had rendered. Importing this module therefore
selects numba's fork-safe layer (TBB if installed, else its own `workqueue`) unless NUMBA_THREADING_LAYER
names one. The choice is process-wide, so it applies to the caller's own numba code too.

`workqueue` must not be entered by two threads at once, so every parallel kernel of this package is
launched under one lock (`parallel_jit`): launches from threads queue behind each other, each using all
of numba's threads. Nothing of the kernels' results depends on it.
"""

from __future__ import annotations

import functools
import os
import threading

import numba as nb

if "NUMBA_THREADING_LAYER" not in os.environ:
    nb.config.THREADING_LAYER = "forksafe"

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
