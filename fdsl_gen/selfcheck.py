"""The self-check: a GPU path is trusted only after it has reproduced the CPU's bytes on this machine.

The first time a process resolves `cuda` for a database, `trusted` renders that database's fixed check
batch (`Database.check_outputs`: a few small configurations, written and freshly re-keyed instances,
and its search kernel where it has one) on `cuda` and on the CPU (`numba`, else `ref`) and compares
the bytes; the augmentation's GPU path (Triton resampling and normalisation, torch RandAugment) is checked the
same way against its NumPy reference (`augment_trusted`). A verdict is kept in memory and on disk, per
device name, library versions and source digest, so later processes do not check again. On a mismatch,
or when the kernels cannot run, `auto` warns once and falls back to the CPU; an explicit `cuda` is an
error naming the database. `report` is `fdsl-gen selftest`: everything that can run here against `ref`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _env, backends
from .errors import UsageError

AUGMENT = "augment"  # the verdict key (and report row) of the augmentation's GPU path
# The layers below (databases, augmentation) ask through `backends.gate`; the lambdas look the functions up
# when called, so that a test may replace them.
backends.install_gate("database", lambda db_class, requested: trusted(db_class, requested))
backends.install_gate("augment", lambda: augment_trusted())


@dataclass(frozen=True)
class Verdict:
    status: str  # exact | mismatch | unavailable
    detail: str = ""  # what differed, or why it could not run


_verdicts: dict[str, Verdict] = {}
_warned: set[str] = set()


def compare(got: dict, want: dict) -> str:
    """"" if every output is byte-identical, else a one-line description of the first difference."""
    for name, expected in want.items():
        actual = got.get(name)
        if actual is None or actual.shape != expected.shape or actual.dtype != expected.dtype:
            return f"{name}: shape or type differs"
        differing = int(np.count_nonzero(actual != expected))
        if differing:
            return f"{name}: {differing} of {expected.size} values differ"
    return ""


def _verdict(make_got, make_want) -> Verdict:
    try:
        got = make_got()
    except Exception as exc:  # compile, launch and driver errors come in many types
        return Verdict("unavailable", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    diff = compare(got, make_want())
    return Verdict("mismatch", diff) if diff else Verdict("exact")


def check(db_class, backend: str, against: str) -> Verdict:
    """Render `db_class`'s check outputs on `backend` and on `against`; exact when every byte agrees."""
    return _verdict(lambda: db_class.check_outputs(backend), lambda: db_class.check_outputs(against))


def check_augment() -> Verdict:
    """The augmentation's GPU path against its NumPy reference."""
    return _verdict(lambda: augment_outputs("fast"), lambda: augment_outputs("ref"))


def _cpu_backend(db_class) -> str:
    return "numba" if "numba" in db_class.implemented_backends and backends.unavailable_reason("numba") is None \
        else "ref"


@functools.lru_cache(maxsize=None)
def _code_digest() -> str:
    """SHA-256 of the package's Python code: the host side of every GPU path and the CPU code it is compared
    with both decide the bytes, so a verdict holds for this code only."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _device_id(what: str) -> str:
    """The GPU, the software that compiles for it and the digest of the code, as a file name."""
    from .backends import cuda_modules, cuda_runner

    if what == AUGMENT:
        import torch
        import triton

        ident = f"{torch.cuda.get_device_name()} triton {triton.__version__} torch {torch.__version__}-{_code_digest()}"
    else:
        ident = f"{cuda_runner.CudaRunner().identity()}-{cuda_modules.sources_digest()}-{_code_digest()}"
    return re.sub(r"[^A-Za-z0-9.]+", "_", ident)


def _cached(what: str, run) -> Verdict:
    """The verdict on `what` (a database key or AUGMENT): from memory, from the disk, or `run()` once."""
    if what in _verdicts:
        return _verdicts[what]
    path = _env.cache_dir() / "selfcheck" / f"{what}-{_device_id(what)}.json"
    try:
        verdict = Verdict(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        verdict = run()
        if verdict.status != "unavailable":  # a missing library may be installed later: ask again then
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"status": verdict.status, "detail": verdict.detail}))
            tmp.replace(path)
    _verdicts[what] = verdict
    return verdict


def cuda_verdict(db_class) -> Verdict:
    """The self-check's verdict on `cuda` for this database (computed once per process, cached on disk)."""
    return _cached(db_class.key, lambda: check(db_class, "cuda", _cpu_backend(db_class)))


def _refuse_or_warn(what: str, verdict: Verdict, explicit: bool, fallback: str) -> None:
    problem = "does not reproduce the CPU's images" if verdict.status == "mismatch" else "cannot run"
    message = f"the {what} {problem} on this GPU ({verdict.detail})"
    if explicit:
        raise UsageError(f"{message}; use --backend {fallback}")
    if what not in _warned:
        _warned.add(what)
        warnings.warn(f"{message}; using {fallback} instead", RuntimeWarning, stacklevel=4)


def trusted(db_class, requested: str) -> str:
    """`cuda` if it passed its self-check for this database, else the CPU backend (auto) or an error.

    Args:
        db_class: the database class `cuda` was resolved for.
        requested: what the user asked for ("auto" or "cuda").
    """
    verdict = cuda_verdict(db_class)
    if verdict.status == "exact":
        return "cuda"
    fallback = _cpu_backend(db_class)
    _refuse_or_warn(f"cuda backend of {db_class.key}", verdict, requested == "cuda", fallback)
    return fallback


def augment_trusted() -> bool:
    """Whether the augmentation's GPU path passed its self-check here (if not: one warning, and the caller
    takes the NumPy reference path)."""
    verdict = _cached(AUGMENT, check_augment)
    if verdict.status != "exact":
        _refuse_or_warn("GPU augmentation (Triton, torch)", verdict, False, "the NumPy reference")
    return verdict.status == "exact"


def augment_outputs(impl: str, device: str = "cuda") -> dict[str, np.ndarray]:
    """The augmentation's check outputs on `impl` (ref; or fast, on tensors of `device`): fixed noise images,
    gray and RGB, through `--resize` and the full `ofdb` pipeline (crops, flips, RandAugment, erasing, float16)."""
    import torch

    from .augment import params, resample_ref
    from .augment.config import make_config
    from .augment.pipeline import augment
    from .augment.resample import full_boxes
    from .backends.cuda_runner import to_device

    draws = np.random.default_rng(13)
    config = make_config({"preset": "ofdb", "dtype": "float16"}, 48)
    outputs = {}
    for channels in (1, 3):
        images = draws.integers(0, 256, (6, channels, 90, 70), dtype=np.uint8)
        no_flips = np.zeros((6, 2), bool)
        if impl == "ref":
            source = images
            sized = resample_ref.resample(images, full_boxes(6, 90, 70), no_flips, (37, 53), "bicubic")
        else:  # the kernels themselves (the dispatcher would ask for this very verdict)
            from .augment import resample_triton

            source = to_device(images, device)
            sized = resample_triton.resample(source, full_boxes(6, 90, 70), no_flips, (37, 53), "bicubic")
        p = params.draw(5, np.arange(6, dtype=np.uint64), (90, 70), config)
        out = augment(source, p, config, impl=impl).cpu().view(torch.int16)
        outputs[f"resize/{channels}"] = sized if isinstance(sized, np.ndarray) else sized.cpu().numpy()
        outputs[f"augment/{channels}"] = out.numpy()
    return outputs


def report(keys=None, progress=None) -> list[dict]:
    """Every database × backend that is implemented, and the augmentation: exact, mismatch or unavailable
    against `ref`.

    Returns rows {"database", "backend", "status", "detail"}; no verdict cache is read or written (this is
    the check itself).
    """
    from .registry import database_class, list_databases

    rows = []

    def add(database: str, backend: str, verdict: Verdict) -> None:
        rows.append({"database": database, "backend": backend, "status": verdict.status, "detail": verdict.detail})
        if progress:
            progress(rows[-1])

    for key in keys or list_databases():
        cls = database_class(key)
        for name in backends.BACKENDS:
            if name != "ref" and name in cls.implemented_backends:
                reason = backends.unavailable_reason(name)
                add(key, name, Verdict("unavailable", reason) if reason else check(cls, name, "ref"))
    reason = backends.unavailable_reason("triton")
    add(AUGMENT, "triton", Verdict("unavailable", reason) if reason else check_augment())
    return rows
