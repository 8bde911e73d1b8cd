"""Render throughput: images/s per database x backend, median of repeated runs after warm-up.

Every image of a timed batch is a different category, so each one runs its own chaos game (no
sharing of points between images, which would flatter the numbers). The first call of a backend
compiles (numba, NVRTC) and is never timed. On the GPU a call is timed with CUDA events and its images
stay on the device. Results carry the machine, library versions and git commit.

With `published=True`, databases that replay a released script (`published_backends`: rcdb,
visual_atom) get a second numba row, search "published": a one-process launch (numof_thread 1) at
the launcher's flags, instances 2..4 of batch / 3 categories, each rendered from its category's
stream state (the walk to the instance is timed, the one-off category scan is not).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .backends import BACKENDS, unavailable_reason
from .errors import UsageError
from .registry import database_class, get_database, list_databases

REF_BATCH = 2  # the reference is slow: it is timed on this many images, once


@dataclass
class BenchRow:
    database: str
    backend: str
    size: int
    points: int | None  # chaos-game points (IFS databases only)
    draw_type: str | None  # (IFS databases only)
    batch: int
    threads: int
    repeats: int
    median_img_s: float
    min_img_s: float
    max_img_s: float
    per_thread_img_s: float
    search: str = "native"  # "published": the exact replay of the released script


def machine() -> dict:
    """Where and with what a benchmark ran."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version(), "numpy": np.__version__, "fdsl_gen": __version__}
    for mod in ("numba", "torch", "PIL"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:
            versions[mod] = None
    try:
        git = lambda *a: subprocess.run(["git", *a], capture_output=True, text=True,  # noqa: E731
                                        cwd=Path(__file__).parent, timeout=5).stdout.strip()
        commit = git("rev-parse", "--short", "HEAD") or None
        if commit and git("status", "--porcelain", "--untracked-files=no"):
            commit += "-dirty"
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "platform": platform.platform(), "versions": versions,
            "git_commit": commit, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _set_threads(backend: str, threads: int | None) -> int:
    if backend != "numba":
        return 1
    import numba

    n = threads or numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return numba.get_num_threads()


def _timed(db, cats, insts, backend: str) -> float:
    """Seconds for one render call: wall clock on the CPU, CUDA events on the GPU (images stay there)."""
    if backend != "cuda":
        t0 = time.perf_counter()
        db.render_array(cats, insts, backend)
        return time.perf_counter() - t0
    import torch

    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    db.render(cats, insts, backend)
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1000.0


def bench_one(db, backend: str, batch: int, repeats: int, warmup: int, threads: int | None) -> BenchRow:
    """Time rendering `batch` distinct categories (instance 0 each); the host-side set-up is included."""
    if backend == "ref":
        batch, repeats, warmup = min(batch, REF_BATCH), 1, 0
    n_threads = _set_threads(backend, threads)
    cats = np.arange(batch) % db.n_categories
    insts = np.zeros(batch, dtype=np.int64)
    db.render_array(cats[:1], insts[:1], backend)  # compile / load; never timed
    for _ in range(warmup):
        _timed(db, cats, insts, backend)
    rates = [batch / _timed(db, cats, insts, backend) for _ in range(repeats)]
    cfg = db.config
    med = statistics.median(rates)
    return BenchRow(db.key, backend, cfg.size, getattr(cfg, "points", None), getattr(cfg, "draw_type", None), batch,
                    n_threads, repeats, med, min(rates), max(rates), med / n_threads)


def bench_replay(key: str, size: int | None, batch: int, repeats: int, warmup: int, threads: int | None) -> BenchRow:
    """Time the published replay: categories 0 .. batch/3 - 1, instances 2, 3, 4 each, one launch process."""
    n_cat = max(1, batch // 3)
    db = get_database(key, search="published", processes=1, categories=n_cat, instances=5,
                      **({"size": size} if size else {}))
    n_threads = _set_threads("numba", threads)
    db.table()  # the scan of the launch's stream: once per dataset, not per image
    cats, insts = np.repeat(np.arange(n_cat), 3), np.tile(np.arange(2, 5), n_cat)
    db.render_array(cats[:1], insts[:1], "numba")  # compile; never timed
    for _ in range(warmup):
        _timed(db, cats, insts, "numba")
    rates = [cats.size / _timed(db, cats, insts, "numba") for _ in range(repeats)]
    med = statistics.median(rates)
    return BenchRow(key, "numba", db.config.size, None, None, int(cats.size), n_threads, repeats, med, min(rates),
                    max(rates), med / n_threads, search="published")


def bench_search(db, backend: str, n: int, threads: int | None) -> dict | None:
    """Time a fresh search of n categories (one run after a 1-category warm-up that compiles)."""
    n_threads = _set_threads(backend, threads)
    if db.benchmark_search(1, backend) is None:
        return None
    t0 = time.perf_counter()
    result = db.benchmark_search(n, backend)
    seconds = time.perf_counter() - t0
    return {"database": db.key, "backend": backend, "threads": n_threads, **result, "seconds": seconds,
            "categories_s": n / seconds, "per_thread_categories_s": n / seconds / n_threads,
            "candidates_s": result["candidates"] / seconds}


def run_bench(databases: str = "all", backends: str = "all", size: int | None = None, points: int | None = None,
              draw_type: str | None = None, batch: int = 256, repeats: int = 5, warmup: int = 1,
              threads: int | None = None, search: int = 0, published: bool = False, log=print) -> dict:
    """Benchmark databases x backends; returns {"machine": ..., "rows": [...], "search_rows": [...]}.

    With search > 0, also time a fresh category search of that many categories where a database has one;
    with `published`, also the exact replay of the released scripts where a database has one (`bench_replay`).
    """
    names = list_databases() if databases == "all" else [database_class(databases).key]
    rows, search_rows = [], []
    for name in names:
        cls = database_class(name)
        wanted = cls.implemented_backends if backends == "all" else (backends,)
        fields = set(cls.defaults())
        wanted_options = {"size": size, "points": points, "draw_type": draw_type}
        db = get_database(name, categories=max(1, min(1000, batch)),
                          **{k: v for k, v in wanted_options.items() if k in fields})
        db.table()
        for backend in BACKENDS:
            if backend not in wanted:
                continue
            if backend not in cls.implemented_backends or unavailable_reason(backend):
                log(f"{name:12s} {backend:7s} skipped: "
                    f"{unavailable_reason(backend) or 'not implemented for this database yet'}")
                continue
            if search and backend != "ref":
                found = bench_search(db, backend, search, threads)
                if found:
                    search_rows.append(found)
                    log(f"{name:12s} {backend:7s} search: {found['categories']} categories of "
                        f"{found['candidates']} candidates in {found['seconds']:.2f} s = "
                        f"{found['per_thread_categories_s']:.2f} categories/s per thread")
            timed = [bench_one(db, backend, batch, repeats, warmup, threads)]
            if published and backend == "numba" and backend in getattr(cls, "published_backends", ()):
                timed.append(bench_replay(name, size, batch, repeats, warmup, threads))
            for row in timed:
                rows.append(asdict(row))
                log(f"{name:12s} {backend:7s} {row.size:4d}px {row.points or '':>7} pts {row.draw_type or '-':11s} "
                    f"batch {row.batch:4d} x{row.repeats} threads {row.threads:2d}: "
                    f"{row.median_img_s:10.1f} img/s (min {row.min_img_s:.1f}, max {row.max_img_s:.1f}; "
                    f"{row.per_thread_img_s:.1f} per thread){' published replay' if row.search != 'native' else ''}")
    return {"machine": machine(), "config": {"batch": batch, "repeats": repeats, "warmup": warmup,
                                             "threads": threads}, "rows": rows, "search_rows": search_rows}


def run_model(log=print) -> list[dict]:
    """The GPU cost model of a source checkout (benchmarks/gpu_model.py): modeled img/s per workload."""
    import sys

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_model.py"
    if not script.exists():
        raise UsageError("the GPU cost model lives in a source checkout's benchmarks/ (not in an installed wheel)")
    sys.path.insert(0, str(script.parent))
    import gpu_model
    import sass

    try:
        sass.nvcc(), sass.cuobjdump()
    except FileNotFoundError as exc:
        raise UsageError(f"the GPU cost model compiles and reads the kernels here: {exc}") from None

    rows = gpu_model.model("h200")
    log("modeled on an NVIDIA H200 from the kernels' SASS (not measured; about +-50 %; "
        "python benchmarks/gpu_model.py prints the assumptions)")
    for r in rows:
        met = "met" if r["modeled_img_s_h200"] >= r["target_img_s"] else "NOT met"
        log(f"  {r['workload']:24s} {r['modeled_img_s_h200']:12.4g} img/s  (target {r['target_img_s']:.3g}: {met})")
    return rows
