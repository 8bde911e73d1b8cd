"""Whole-dataset writes through the CLI, as a user runs them: wall time per command, median of runs.

    python benchmarks/bench_export.py [--repeats 3] [--out FILE]
    python benchmarks/bench_export.py --papers     # the papers' datasets: time and size here, from samples

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


# The papers' datasets: (name, the full command's arguments, its image count, the sample's arguments). The
# sample is written and timed; the full dataset's time and size are that rate and PNG size scaled up.
PAPERS = [
    ("FractalDB-1k", ["--db", "fractaldb", "--categories", "1000"], 1_000_000, ["--categories", "2"]),
    ("2D-OFDB-1k", ["--db", "ofdb", "--categories", "1000"], 1_000, []),
    ("2D-OFDB-21k", ["--db", "ofdb", "--categories", "21000"], 21_000, ["--categories", "1000"]),
    ("1p-frac", ["--db", "onepfrac"], 1_000, []),
    ("RCDB-1k", ["--db", "rcdb", "--search", "published"], 1_000_000, ["--categories", "40", "--instances", "25"]),
    ("VisualAtom-1k", ["--db", "visual_atom", "--search", "published"], 1_000_000,
     ["--categories", "20", "--instances", "50"]),
    ("3D-OFDB-1k", ["--db", "ofdb3d", "--categories", "1000"], 12_000, ["--categories", "100"]),
    ("ExFractalDB-1k", ["--db", "exfractaldb", "--categories", "1000"], 1_740_000, ["--categories", "1"]),
]


def write(args: list[str]) -> tuple[float, int, int]:
    """(seconds, images, bytes of PNG) of one `fdsl-gen render` into a fresh temporary folder."""
    out = Path(tempfile.mkdtemp(prefix="fdsl-bench-"))
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "fdsl_gen.cli", "render", *args, "--out", str(out / "d"), "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        pngs = list((out / "d").rglob("*.png"))
        return seconds, len(pngs), sum(p.stat().st_size for p in pngs)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def papers() -> list[dict]:
    """Each paper dataset's sample, timed after an untimed run of one instance per category (category table
    cached, kernels compiled), so the estimates are render + PNG + write, without the category search."""
    rows = []
    for name, full, count, sample in PAPERS:
        write([*full, *sample, "--instances", "1"])  # the last --instances wins
        seconds, images, size = write([*full, *sample])
        rate = images / seconds
        rows.append({"dataset": name, "command": "fdsl-gen render " + " ".join(full), "images": count,
                     "sample_images": images, "sample_s": seconds, "img_s": rate, "bytes_per_image": size / images,
                     "estimated_hours": count / rate / 3600, "estimated_gb": count * size / images / 1e9})
        print(f"| {name} | `{rows[-1]['command']}` | {count:,} | {rows[-1]['estimated_gb']:.2f} GB | "
              f"{_duration(rows[-1]['estimated_hours'])} |", flush=True)
    return rows


def _duration(hours: float) -> str:
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--papers", action="store_true", help="estimate the papers' datasets (time, size) instead")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.papers:
        print("| dataset | command | images | size on disk | time here |\n|---|---|---|---|---|")
        doc = {"benchmark": "export-papers", "machine": machine(), "rows": papers()}
        out = args.out or RESULTS / f"{time.strftime('%Y-%m-%d')}-{platform.node() or 'host'}-papers.json"
        out.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {out}")
        return
    rows = []
    for name, job in JOBS.items():
        times, images = [], None
        for _ in range(args.repeats):
            seconds, images, _ = write(job)
            times.append(seconds)
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
