"""Whole-dataset writes through the CLI, as a user runs them: wall time per command, median of runs.

    python benchmarks/bench_export.py [--repeats 3] [--out FILE]

Commands: `fdsl-gen render --db ofdb --categories 1000` (2D-OFDB-1k; the original needs ~3.3 core-hours),
`fdsl-gen render --db fractaldb --categories 10` (10,000 images), and 1,000 images (100 categories x 10
instances) each of RCDB and VisualAtom at 512², and 3D-OFDB with 100 categories (1,200 views at 224²;
the first run includes the category search, later runs find the table in the cache). Each run writes into a fresh
temporary folder that is deleted afterwards; PNG encoding is included (that is the job).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fdsl_gen.bench import machine

RESULTS = Path(__file__).parent / "results"
JOBS = {
    "ofdb-1k": ["--db", "ofdb", "--categories", "1000"],
    "fractaldb-10": ["--db", "fractaldb", "--categories", "10"],
    "rcdb-100x10": ["--db", "rcdb", "--categories", "100", "--instances", "10"],
    "visual_atom-100x10": ["--db", "visual_atom", "--categories", "100", "--instances", "10"],
    "ofdb3d-100": ["--db", "ofdb3d", "--categories", "100"],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for name, job in JOBS.items():
        times, images = [], None
        for _ in range(args.repeats):
            out = Path(tempfile.mkdtemp(prefix="fdsl-bench-"))
            try:
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-m", "fdsl_gen.cli", "render", *job, "--out", str(out / "d"),
                                "--quiet"], check=True, stdout=subprocess.DEVNULL)
                times.append(time.perf_counter() - t0)
                images = len(list((out / "d").rglob("*.png")))
            finally:
                shutil.rmtree(out, ignore_errors=True)
        med = statistics.median(times)
        rows.append({"job": name, "command": "fdsl-gen render " + " ".join(job), "images": images,
                     "median_s": med, "min_s": min(times), "max_s": max(times), "img_s": images / med})
        print(f"{name}: {images} images, median {med:.1f} s (min {min(times):.1f}, max {max(times):.1f})")
    doc = {"benchmark": "export", "machine": machine(), "rows": rows}
    out = args.out or RESULTS / f"{time.strftime('%Y-%m-%d')}-{platform.node() or 'host'}-export.json"
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
