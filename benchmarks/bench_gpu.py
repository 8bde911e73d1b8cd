"""GPU throughput of the cuda backend and the Triton resampler, for a machine with a CUDA GPU.

    python benchmarks/bench_gpu.py [--out FILE] [--repeats 5] [--categories 4096]

Rows (median of repeats after a warm-up, CUDA events, images left on the device):
  * the workloads of the cost model (benchmarks/gpu_model.py), under its names and beside its figures, batch
    1,024 of distinct categories: ofdb_362 (2D-OFDB native, 362², 200k points, patches), ifs_224_point
    (FractalDB 224², 100k points, point_gray), visual_atom_avg_stream (wall clock of calls in a row, host
    and GPU overlapping), visual_atom_worst (q 1000, K 200, eta 4, c 0.1, r0 60, sx = sy = 2, centre
    (256, 256)), rcdb_512, ofdb3d_views, ifs2d_host (the host side of a 2D call alone);
  * every database at its native settings, batch 1024 and 4096, the images cycling through the table;
  * Triton crop + resample 362² -> 224² bicubic to uint8 RGB (Pillow's bytes), per-image boxes.
Each row carries its ratio to the target. Exits with a message when no GPU is visible.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import fdsl_gen
from fdsl_gen.bench import machine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpu_workloads  # noqa: E402
from gpu_model import TARGETS  # noqa: E402

RESULTS = Path(__file__).parent / "results"
_prepared: dict = {}


def prepared(key: str, categories: int, **options):
    """A database made and prepared for cuda once per run (its table and device data are built once)."""
    name = (key, categories, tuple(sorted(options.items())))
    if name not in _prepared:
        _prepared[name] = fdsl_gen.get_database(key, categories=categories, **options)
        _prepared[name].prepare("cuda")
    return _prepared[name]


def cuda_time(fn, repeats: int) -> list[float]:
    import torch

    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000.0)
    return times


def row(name: str, images: int, times: list[float], target: float | None = None, **extra) -> dict:
    rates = [images / t for t in times]
    med = statistics.median(rates)
    out = {"name": name, "images": images, "median_img_s": med, "min_img_s": min(rates), "max_img_s": max(rates),
           "target_img_s": target, "ratio_to_target": med / target if target else None, **extra}
    print(f"{name:48s} {med:12.0f} img/s (min {min(rates):.0f}, max {max(rates):.0f})"
          + (f"  {med / target:.2f}x target" if target else ""), flush=True)
    return out


def wall_times(fn, calls: int = 10) -> list[float]:
    """Seconds per call of `calls` back-to-back calls, host and GPU work overlapping as in the stream (one wait)."""
    import torch

    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) / calls)
    return times


def host_times(fn, calls: int = 10) -> list[float]:
    """Seconds of the host side alone: the time a call takes to return (its kernels queued, not waited for)."""
    import torch

    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        torch.cuda.synchronize()
    return times


def workload_rows(args) -> list[dict]:
    """The rows of the cost model (benchmarks/gpu_model.py), measured: batch 1,024, distinct categories."""
    n = 1024
    rng = np.random.default_rng(0)
    cats = rng.permutation(max(n, args.categories))[:n] % args.categories
    rows = []
    ofdb = prepared("ofdb", args.categories)
    rows.append(row("ofdb_362", n, cuda_time(lambda: ofdb.render(cats, 0, "cuda"), args.repeats), TARGETS["ofdb_362"]))
    ifs = prepared("fractaldb", args.categories, size=224, points=100_000, draw_type="point_gray")
    rows.append(row("ifs_224_point", n, cuda_time(lambda: ifs.render(cats, 0, "cuda"), args.repeats),
                    TARGETS["ifs_224_point"]))
    va = prepared("visual_atom", args.categories)
    insts = rng.integers(0, va.n_instances, n)
    rows.append(row("visual_atom_avg_stream", n, wall_times(lambda: va.render(cats, insts, "cuda")),
                    TARGETS["visual_atom_avg_stream"],
                    timing="wall clock of 10 calls in a row (host and GPU overlapping)"))
    from fdsl_gen.databases.contours import render_cuda

    worst, settings, _ = gpu_workloads.visual_atom_worst(n)
    rows.append(row("visual_atom_worst", n, cuda_time(lambda: render_cuda.render(worst, settings), args.repeats),
                    TARGETS["visual_atom_worst"]))
    rcdb = prepared("rcdb", args.categories)
    rows.append(row("rcdb_512", n, cuda_time(lambda: rcdb.render(cats, insts, "cuda"), args.repeats),
                    TARGETS["rcdb_512"]))
    views = prepared("ofdb3d", args.categories)
    rows.append(row("ofdb3d_views", n, cuda_time(lambda: views.render(cats, rng.integers(0, 12, n), "cuda"),
                                                 args.repeats), TARGETS["ofdb3d_views"]))
    rows.append(row("ifs2d_host", n, host_times(lambda: ofdb.render(cats, 0, "cuda")), TARGETS["ifs2d_host"],
                    timing="host side only: until the call returns"))
    try:  # the model's figure beside each measurement
        import gpu_model

        modeled = {r["workload"]: r["modeled_img_s_h200"] for r in gpu_model.model("h200")}
        for r in rows:
            r["modeled_img_s_h200"] = modeled.get(r["name"])
    except Exception as exc:  # nvcc or cuobjdump missing: measurements without the model
        print(f"(no model figures: {exc})", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--categories", type=int, default=4096, help="categories of each table (batches cycle them)")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("no CUDA GPU is visible: nothing to measure")
    rows = workload_rows(args)
    for key in fdsl_gen.list_databases():
        db = prepared(key, args.categories)
        for batch in (1024, 4096):
            cats = np.arange(batch) % args.categories
            call = lambda db=db, c=cats: db.render(c, np.zeros(len(c), np.int64), "cuda")  # noqa: E731
            rows.append(row(f"{key} native, batch {batch}", batch, cuda_time(call, args.repeats), database=key))
    from fdsl_gen.augment.resample_triton import resample

    src = prepared("ofdb", args.categories).render(np.arange(1024) % args.categories, 0, "cuda")
    rng = np.random.default_rng(0)
    side = rng.integers(100, 363, 1024)
    boxes = np.stack([rng.integers(0, 363 - side), rng.integers(0, 363 - side), side, side], 1)
    flips = rng.integers(0, 2, (1024, 2)).astype(bool)
    rows.append(row("Triton crop+resample 362²->224² bicubic uint8 RGB (Pillow-exact), batch 1024", 1024,
                    cuda_time(lambda: resample(src, boxes, flips, (224, 224), "bicubic", 3), args.repeats)))
    doc = {"benchmark": "gpu", "machine": machine(), "device": torch.cuda.get_device_name(),
           "versions": {"torch": torch.__version__, "cuda": torch.version.cuda}, "rows": rows}
    out = args.out or RESULTS / f"{time.strftime('%Y-%m-%d')}-{platform.node() or 'host'}-gpu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
