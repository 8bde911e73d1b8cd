"""Backends: which ones exist, which are usable on this machine (and why not), and "auto" resolution.

`ref` (NumPy, the specification) and `numba` (parallel CPU) run everywhere; `cuda` and `triton` need
a GPU. Probing imports the libraries but compiles nothing; a probe's answer is remembered.
"""

from __future__ import annotations

import functools
import importlib

from .. import _env
from ..errors import UsageError

BACKENDS = ("cuda", "triton", "numba", "ref")  # "auto" takes the first that is usable and implemented
_GATES: dict = {}  # kind -> the check a GPU path must pass before use; `fdsl_gen.selfcheck` installs them


def install_gate(kind: str, check) -> None:
    """Register the check that decides whether a GPU path may be used ("database", "augment")."""
    _GATES[kind] = check


def gate(kind: str, *args):
    """Ask the installed self-check (`fdsl_gen.selfcheck`, imported with the package) about a GPU path: for a
    database the backend to use instead of `cuda`, for the augmentation whether its GPU path is trusted."""
    if kind not in _GATES:  # the package's __init__ imports the self-check: this is a broken installation
        raise RuntimeError(f"no self-check is installed for {kind}: import fdsl_gen, not one module alone")
    return _GATES[kind](*args)


@functools.lru_cache(maxsize=None)
def unavailable_reason(name: str) -> str | None:
    """None if backend `name` can run on this machine, else one line saying why not."""
    if name == "ref":
        return None
    if name == "numba":
        try:
            importlib.import_module("numba")
        except Exception as exc:  # an import can fail in many ways (missing, broken llvmlite, ...)
            return f"numba cannot be imported ({exc})"
        return None
    if name in ("cuda", "triton"):
        module = "cupy" if name == "cuda" else "triton"
        try:
            importlib.import_module(module)
        except Exception:
            return f"{module} is not installed (pip install 'fdsl-gen[gpu]')"
        try:
            import torch
        except Exception as exc:
            return f"torch cannot be imported ({exc})"
        if not torch.cuda.is_available():
            return "no CUDA GPU is visible"
        return None
    raise UsageError(f"unknown backend {name!r}; choose one of: auto, {', '.join(BACKENDS)}")


def resolve(backend: str, implemented: tuple[str, ...], what: str) -> str:
    """The backend to run for `what` (a database key), given the ones it implements.

    Raises:
        UsageError: an unknown backend, one `what` does not implement, or one that cannot run here.
    """
    if backend == "auto":
        gpu = _env.default_device() != "cpu"  # FDSL_DEVICE=cpu: auto never picks a GPU backend
        for name in BACKENDS:
            if name in implemented and unavailable_reason(name) is None and (gpu or name not in ("cuda", "triton")):
                return name
        raise UsageError(f"no backend of {what} can run here")
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose one of: auto, {', '.join(BACKENDS)}")
    if backend not in implemented:
        raise UsageError(f"{what} has no {backend} backend yet; it has: {', '.join(implemented)}")
    reason = unavailable_reason(backend)
    if reason:
        raise UsageError(f"backend {backend} cannot run here: {reason}")
    return backend
