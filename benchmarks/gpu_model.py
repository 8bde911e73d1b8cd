"""A cost model of the GPU path, read from the compiled kernels: modeled images/s on an H200 and an H100.

    python benchmarks/gpu_model.py [--json] [--device h200|h100]

A model, not a measurement. For every workload of the throughput targets it
1. compiles the kernels for sm_90 (benchmarks/sass.py: nvcc with the production options and the region
   markers of FDSL_MARK) and counts the SASS instructions of each region of work by class;
2. counts how often each region runs per image, in warp instructions: from the launch configuration
   and from the work itself (points, bands, vertices, segment lengths), the contours' geometry sampled
   from the database's own parameter laws and replayed warp by warp as the kernel assigns it;
3. turns that into time: each pipe's rate (PIPES, warp instructions per clock per SM), the issue rate
   (4 per clock per SM), and DRAM traffic against the bandwidth; the slowest of them sets the rate.
The host side (the Python and NumPy work before a launch) is measured on this machine's CPU instead.
Printed beside each row: the physical bound of the workload (the project's design arithmetic: about 25
instructions per chaos-game point, ~1.1e12 shared atomic updates/s, the DRAM write of the output) and
the target. Assumptions, printed with every run, make it good to about +-50 %.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sass  # noqa: E402

DEVICES = {  # one GPU, its SMs, sustained clock (Hz) and DRAM bandwidth (bytes/s, the measured copy rate)
    "h200": {"name": "NVIDIA H200 SXM", "sms": 132, "clock": 1.98e9, "dram": 4.3e12},
    "h100": {"name": "NVIDIA H100 SXM", "sms": 132, "clock": 1.98e9, "dram": 3.0e12},
}
# Warp instructions per clock per SM that each pipe of a Hopper SM completes (4 partitions: 32 FP32, 16 INT32,
# 16 FP64 lanes and 4 special-function units each; shared memory 32 banks; atomics at half the store rate).
PIPES = {"issue": 4.0, "fp32": 4.0, "fp64": 2.0, "imad": 2.0, "int": 2.0, "sfu": 0.5, "conv": 0.5, "shared": 1.0,
         "atoms": 0.5, "global": 1.0}
ASSUMPTIONS = [
    "a region's SASS runs whole each time: every branch's instructions counted (an upper bound per run)",
    "enough resident warps to hide latency; occupancy is printed and flagged under 16 warps per SM",
    "no bank conflicts, no same-address serialisation of shared atomics",
    "the bands of one image read its coordinates from L2 (they are adjacent on the grid)",
    "kernels of a batch run one after another; work outside the marked regions (launch, prologues) is not counted",
    "DRAM: the copy rate measured on these machines (4.3 TB/s H200, ~3.0 TB/s H100), reads and writes together",
    "per-table work (traces, vertex tables, 3D models) is done once and not charged to images",
    "host side: measured on this machine's CPU; the GPU machine's cores differ",
]
TARGETS = {"ofdb_362": 250_000, "ifs_224_point": 1_000_000, "visual_atom_avg_stream": 500_000,
           "visual_atom_worst": 260_000, "rcdb_512": 2_000_000, "ofdb3d_views": 2_000_000, "ifs2d_host": 2_000_000}


class Kernels:
    """SASS region counts per kernel (compiled once per module)."""

    def __init__(self):
        self.modules: dict[str, dict] = {}

    def kernel(self, module: str, name: str) -> sass.Kernel:
        if module not in self.modules:
            self.modules[module] = sass.compile_module(module)
        return self.modules[module][name]

    def region(self, module: str, name: str, marker: int) -> dict:
        return dict(self.kernel(module, name).regions().get(marker, {}))


def warp_instructions(kernels: Kernels, module: str, name: str, runs: dict[int, float]) -> dict[str, float]:
    """{class: warp instructions per image} of a kernel whose region `marker` runs runs[marker] warp-times."""
    total: dict[str, float] = {}
    for marker, count in runs.items():
        for cls, n in kernels.region(module, name, marker).items():
            total[cls] = total.get(cls, 0.0) + n * count
    return total


def warps_per_sm(registers: int, threads: int, shared: int) -> int:
    """Resident warps per SM of a kernel (Hopper: 2,048 threads, 65,536 registers, 228 KB of shared memory)."""
    blocks = min(2048 // threads, 65536 // max(1, registers * threads), 32,
                 (228 * 1024) // (shared + 1024) if shared else 32)  # 1 KB reserved per block
    return blocks * threads // 32


def seconds(work: dict[str, float], dram_bytes: float, device: dict) -> dict:
    """Time per image on the whole GPU for warp instructions by class and DRAM bytes."""
    lanes = device["sms"] * device["clock"]
    limits = {"issue": sum(work.values()) / PIPES["issue"] / lanes}
    for cls, n in work.items():
        if cls in PIPES:
            limits[cls] = n / PIPES[cls] / lanes
    limits["dram"] = dram_bytes / device["dram"]
    bound = max(limits, key=limits.get)
    return {"seconds": limits[bound], "limit": bound, "by_limit": limits}


def workloads() -> dict:
    """{workload: description} of the rows of the issue's table (what runs, per image)."""
    import gpu_workloads as w

    va = w.contour_sample("visual_atom", 12)
    rcdb = w.contour_sample("rcdb", 12)
    worst = w.visual_atom_worst()
    return {
        "ofdb_362": {**w.ifs2d("ofdb", 362, 200_000, "patch_gray"),
                     "without_kept_table": w.ifs2d("ofdb", 362, 200_000, "patch_gray", kept=False)},
        "ifs_224_point": {**w.ifs2d("fractaldb", 224, 100_000, "point_gray"),
                          "without_kept_table": w.ifs2d("fractaldb", 224, 100_000, "point_gray", kept=False)},
        "visual_atom_avg_stream": {**w.contours("visual_atom", *va), "host": w.host_seconds("visual_atom")},
        "visual_atom_worst": w.contours("visual_atom", *worst),
        "rcdb_512": w.contours("rcdb", *rcdb),
        "ofdb3d_views": w.ofdb3d_views(),
        "ifs2d_host": {"kernels": [], "dram": 0.0, "host": w.host_seconds("ofdb"),
                       "notes": ["ofdb, 1,024 distinct categories per call; the kernels not run"]},
    }


def bound(name: str, device: dict) -> float | None:
    """The workload's physical bound (images/s), from the project's design arithmetic."""
    lanes = device["sms"] * device["clock"] * 4 * 32  # thread instructions per second
    return {
        "ofdb_362": min(1.1e12 / (9 * 200_000), lanes / (2 * 25 * 200_000)),  # shared scatter; chain + raster
        "ifs_224_point": lanes / (2 * 25 * 100_000),  # ~25 instructions per point, the chain run twice
        "visual_atom_avg_stream": lanes / (90 * 60_000),  # ~90 instructions per segment, ~60k segments
        "visual_atom_worst": lanes / (90 * 200_000),
        "rcdb_512": lanes / (90 * 10_000),  # ~100 orbits of ~100 vertices
        "ofdb3d_views": min(device["dram"] / (12 * 9998 + 224 * 224), lanes / (25 * 9998)),
    }.get(name)


def rate(kernels: Kernels, load: dict, device: dict) -> dict:
    """Modeled images/s of one workload: the GPU's (its slowest pipe, issue or DRAM) and the host's."""
    work: dict[str, float] = {}
    occupancy = {}
    for module, kernel, runs, threads, smem in load["kernels"]:
        for cls, n in warp_instructions(kernels, module, kernel, runs).items():
            work[cls] = work.get(cls, 0.0) + n
        occupancy[kernel] = warps_per_sm(kernels.kernel(module, kernel).registers, threads, smem)
    gpu = seconds(work, load["dram"], device) if load["kernels"] else None
    gpu_rate = 1.0 / gpu["seconds"] if gpu else math.inf
    host_rate = 1.0 / load["host"] if load.get("host") else math.inf
    return {"img_s": min(gpu_rate, host_rate), "limit": "host" if host_rate < gpu_rate else gpu["limit"],
            "gpu_img_s": gpu_rate if gpu else None, "host_img_s": host_rate if load.get("host") else None,
            "warp_instructions_per_image": {k: round(v, 1) for k, v in sorted(work.items())},
            "warps_per_sm": occupancy}


def model(device_key: str = "h200") -> list[dict]:
    device = DEVICES[device_key]
    kernels = Kernels()
    rows = []
    for name, load in workloads().items():
        r = rate(kernels, load, device)
        row = {"workload": name, f"modeled_img_s_{device_key}": r["img_s"], "bound_img_s": bound(name, device),
               "target_img_s": TARGETS[name], **{k: v for k, v in r.items() if k != "img_s"}, "notes": load["notes"]}
        if "without_kept_table" in load:  # a table over FDSL_GPU_TABLE_GB: coordinates made per image
            row["modeled_img_s_without_kept_table"] = rate(kernels, load["without_kept_table"], device)["img_s"]
        rows.append(row)
    for module in sorted(kernels.modules):
        for k in kernels.modules[module].values():
            print(f"# {k.name}: {k.registers} registers, {k.stack} B stack, {k.total()} SASS instructions",
                  file=sys.stderr)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the rows as a JSON list")
    ap.add_argument("--device", choices=sorted(DEVICES), default="h200")
    ap.add_argument("--out", type=Path, help="also write the rows, the device and the assumptions as JSON")
    args = ap.parse_args()
    rows = model(args.device)
    if args.out:
        from fdsl_gen.bench import machine

        doc = {"benchmark": "gpu-model", "kind": "a model, not a measurement", "device": DEVICES[args.device],
               "pipes_warp_instructions_per_clock_per_sm": PIPES, "assumptions": ASSUMPTIONS,
               "machine": machine(), "rows": rows}
        args.out.write_text(json.dumps(doc, indent=1) + "\n")
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    key = f"modeled_img_s_{args.device}"
    print(f"A MODEL of {DEVICES[args.device]['name']} (not a measurement), from the kernels' SASS. Assumptions:")
    for line in ASSUMPTIONS:
        print(f"  - {line}")
    print(f"{'workload':24s} {'modeled img/s':>14s} {'limit':>7s} {'bound':>12s} {'target':>10s}  met")
    for r in rows:
        b = f"{r['bound_img_s']:12.3g}" if r["bound_img_s"] else f"{'-':>12s}"
        extra = ([f"without a kept table {r['modeled_img_s_without_kept_table']:.3g}"]
                 if "modeled_img_s_without_kept_table" in r else [])
        extra += [f"{k}: {w} warps/SM" + (" (LOW)" if w < 16 else "") for k, w in r["warps_per_sm"].items()]
        print(f"{r['workload']:24s} {r[key]:14.4g} {r['limit']:>7s} {b} {r['target_img_s']:10.3g}  "
              f"{'yes' if r[key] >= r['target_img_s'] else 'NO'}   {'; '.join(r['notes'] + extra)}")


if __name__ == "__main__":
    main()
