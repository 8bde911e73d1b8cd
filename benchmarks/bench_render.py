"""Render throughput of every database x CPU backend, and the headline configurations of the issues.

    python benchmarks/bench_render.py [--out benchmarks/results/<date>-<host>-render.json]

Rows (each the median of repeated timed runs after an untimed warm-up; every image its own chaos game):
  * every database at its native settings (IFS: its points and size; contours: 512², the category laws, so
    the batch of distinct categories has the dataset-average complexity), numba on all cores and on one
    thread, ref on 2 images;
  * rcdb and visual_atom also as the exact replay of the released scripts (search "published", one launch
    process, instances 2..4 of each category; `fdsl_gen.bench.bench_replay`), numba on all cores and one thread;
  * IFS 224², 100k points, point_gray (the CPU target: >= 300 img/s per core, the project's aim 1,000);
  * a fresh category search of 100 categories for every database that searches (one thread);
  * 3D-OFDB the way a dataset is written: 12 views per model, so each model is built once per 12 images.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numba
import numpy as np

import fdsl_gen
from fdsl_gen.bench import machine, run_bench

RESULTS = Path(__file__).parent / "results"


def views_per_model(threads, repeats: int) -> dict:
    """3D-OFDB images as a dataset holds them: 12 categories x 12 views (each model built once, viewed 12 times)."""
    numba.set_num_threads(threads or numba.config.NUMBA_NUM_THREADS)
    db = fdsl_gen.get_database("ofdb3d", categories=24)
    cats, views = np.repeat(np.arange(12), 12), np.tile(np.arange(12), 12)
    db.render_array(cats, views)  # compile and warm up
    rates = []
    for r in range(repeats):
        c = cats + 12 * (r % 2)  # alternate category blocks: nothing is reused between runs
        t0 = time.perf_counter()
        db.render_array(c, views)
        rates.append(cats.size / (time.perf_counter() - t0))
    med = statistics.median(rates)
    row = {"database": "ofdb3d", "backend": "numba", "images": int(cats.size), "views_per_model": 12,
           "threads": numba.get_num_threads(), "median_img_s": med, "min_img_s": min(rates),
           "max_img_s": max(rates), "per_thread_img_s": med / numba.get_num_threads()}
    print(f"ofdb3d 12 views per model, threads {row['threads']}: {med:.1f} img/s "
          f"(min {min(rates):.1f}, max {max(rates):.1f})")
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    runs = []
    for threads in (None, 1):
        runs.append(run_bench("all", "numba", batch=128, repeats=args.repeats, threads=threads,
                              search=100 if threads == 1 else 0, published=True))
        runs.append(run_bench("fractaldb", "numba", size=224, points=100_000, draw_type="point_gray", batch=256,
                              repeats=args.repeats, threads=threads))
    runs.append(run_bench("all", "ref", batch=2, repeats=1))
    doc = {"benchmark": "render", "machine": machine(), "rows": [r for run in runs for r in run["rows"]],
           "search_rows": [r for run in runs for r in run["search_rows"]],
           "views_per_model_rows": [views_per_model(threads, args.repeats) for threads in (None, 1)]}
    out = args.out or RESULTS / f"{time.strftime('%Y-%m-%d')}-{platform.node() or 'host'}-render.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
