"""Render throughput of every database x CPU backend, and the headline configurations of the issues.

    python benchmarks/bench_render.py [--out benchmarks/results/<date>-<host>-render.json]

Rows (each the median of repeated timed runs after an untimed warm-up; every image its own chaos game):
  * every database at its native settings (IFS: its points and size; contours: 512², the category laws, so
    the batch of distinct categories has the dataset-average complexity), numba on all cores and on one
    thread, ref on 2 images;
  * IFS 224², 100k points, point_gray (the CPU target: >= 300 img/s per core, SPEC §9.9 aims at 1,000).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from fdsl_gen.bench import machine, run_bench

RESULTS = Path(__file__).parent / "results"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    runs = []
    for threads in (None, 1):
        runs.append(run_bench("all", "numba", batch=128, repeats=args.repeats, threads=threads))
        runs.append(run_bench("fractaldb", "numba", size=224, points=100_000, draw_type="point_gray", batch=256,
                              repeats=args.repeats, threads=threads))
    runs.append(run_bench("all", "ref", batch=2, repeats=1))
    doc = {"benchmark": "render", "machine": machine(), "rows": [r for run in runs for r in run["rows"]]}
    out = args.out or RESULTS / f"{time.strftime('%Y-%m-%d')}-{platform.node() or 'host'}-render.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
