"""The device check: what a lent GPU machine runs, in one call of at most 6 minutes from cold.

    bash tools/device_check.sh          # sets up caches under $OUT, then runs this script

Steps, each with its own time limit inside one overall deadline:
  install        pip install --no-deps --no-build-isolation -e .  (nothing can be downloaded there)
  pytest         the full test suite but the `gpu` tests, in the background while the GPU steps run
  selftest       fdsl-gen selftest: every backend that runs there against `ref` (selftest.json)
  timm           our checkpoint (safetensors) loads into timm's VisionTransformer with strict=True
  gpu tests      pytest -m gpu: cuda/triton against the CPU at full size, the stream and renders under
                 torch.cuda.set_sync_debug_mode("error")
  sanitizer      compute-sanitizer memcheck and racecheck over tools/kernel_workload.py (every kernel,
                 small), where the machine's runtime allows it
  bench-gpu      benchmarks/bench_gpu.py: render throughput against the targets (bench-gpu.json)
  bench-stream   benchmarks/bench_stream.py: the stream, and ViT-Tiny/ViT-Base training fed by it
                 against a constant batch (bench-stream.json)
  proof          with --proof only: benchmarks/proof_finetune.py --form gpu (proof.json), 4 more minutes
Files under $OUT (8 at most): device-check.log (written by the .sh), summary.json, selftest.json,
pytest.log, gpu.log (the gpu tests, then the sanitizer), bench-gpu.json, bench-stream.json, proof.json.

Exit status 0 when every step passed or was unavailable on that machine (the sanitizer where its runtime
refuses it), 1 otherwise; a step left without time by the deadline counts as a failure (it verified
nothing). Without a GPU only install, pytest, selftest and timm run, and the summary says plainly that
the GPU steps need a GPU.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

DEADLINE = 345.0  # seconds for the whole check (one device call may run 600) ...
PROOF_SECONDS = 240.0  # ... and this many more with --proof
ROOT = Path(__file__).resolve().parents[1]


class Check:
    def __init__(self, out: Path, deadline: float = DEADLINE):
        self.out, self.deadline = out, deadline
        self.start = time.monotonic()
        self.steps: list[dict] = []

    def left(self) -> float:
        return self.deadline - (time.monotonic() - self.start)

    def _record(self, name: str, status: str, seconds: float, detail: str = "") -> bool:
        self.steps.append({"step": name, "status": status, "seconds": round(seconds, 1), "detail": detail})
        print(f"[{time.monotonic() - self.start:6.1f} s] {name}: {status} in {seconds:.1f} s"
              + (f" ({detail})" if detail else ""), flush=True)
        return status == "passed"

    def run(self, name: str, cmd: list[str], budget: float, log: str | None = None, env: dict | None = None) -> bool:
        """Run `cmd` within `budget` seconds (less if the deadline is nearer); output to $OUT/log or stdout;
        `env`: variables added to this process's environment for the command."""
        budget = min(budget, self.left() - 5)
        if budget < 10:
            return self._record(name, "skipped", 0.0, "out of time")
        print(f"$ {' '.join(cmd)}", flush=True)
        t0 = time.monotonic()
        sink = open(self.out / log, "a") if log else None
        try:
            proc = subprocess.run(cmd, cwd=ROOT, stdout=sink or sys.stdout, stderr=subprocess.STDOUT, timeout=budget,
                                  env={**os.environ, **env} if env else None)
            status, detail = ("passed", "") if proc.returncode == 0 else ("failed", f"exit {proc.returncode}")
        except subprocess.TimeoutExpired:
            status, detail = "timeout", f"limit {budget:.0f} s"
        finally:
            if sink:
                sink.close()
        if log and status != "passed":
            print(tail(self.out / log), flush=True)
        return self._record(name, status, time.monotonic() - t0, detail)

    def background(self, name: str, cmd: list[str], log: str):
        print(f"$ {' '.join(cmd)} &", flush=True)
        sink = open(self.out / log, "a")
        return name, subprocess.Popen(cmd, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT), sink, time.monotonic(), log

    def wait(self, job) -> bool:
        name, proc, sink, t0, log = job
        try:
            code = proc.wait(timeout=max(self.left() - 5, 1))
            status, detail = ("passed", "") if code == 0 else ("failed", f"exit {code}")
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            status, detail = "timeout", "the overall deadline"
        sink.close()
        if status != "passed":
            print(tail(self.out / log), flush=True)
        return self._record(name, status, time.monotonic() - t0, detail)


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def environment() -> dict:
    info = {"python": sys.version.split()[0]}
    for name in ("torch", "triton", "cupy", "numba", "numpy", "timm"):
        try:
            info[name] = __import__(name).__version__
        except Exception as exc:  # a missing or broken package is a fact to report, not a crash
            info[name] = f"unavailable ({type(exc).__name__})"
    try:
        import torch

        info["gpu"] = torch.cuda.get_device_name() if torch.cuda.is_available() else None
        info["cuda"] = torch.version.cuda
    except Exception as exc:
        info["gpu"] = None
        info["torch_error"] = str(exc)
    smi = shutil.which("nvidia-smi")
    if smi:
        r = subprocess.run([smi, "--query-gpu=name,driver_version,memory.total,clocks.max.sm", "--format=csv,noheader"],
                           capture_output=True, text=True)
        info["nvidia_smi"] = r.stdout.strip() or r.stderr.strip()
    return info


TIMM_LOAD = """
import tempfile, torch, timm
from fdsl_gen.train import checkpoint
from fdsl_gen.train.vit import create_model
ours = create_model("vit_tiny").eval()
with tempfile.TemporaryDirectory() as out:
    checkpoint.save(out, ours, {"model": "vit_tiny"})
    state, _ = checkpoint.load(out)
theirs = timm.create_model("vit_tiny_patch16_224", pretrained=False).eval()
theirs.load_state_dict(state, strict=True)
x = torch.randn(2, 3, 224, 224)
with torch.no_grad():
    gap = float((ours(x) - theirs(x)).abs().max())
assert gap < 1e-5, gap
print(f"our vit_tiny checkpoint loads into timm {timm.__version__} with strict=True; outputs agree to {gap:.1e}")
"""


def missing_test_dependencies() -> list[str]:
    """--ignore for the test files that import a declared test dependency the machine lacks (the GPU machine
    has no `noise`): the tests import them plainly, so that elsewhere a broken import fails, never skips."""
    import importlib.util

    files = {path: path.read_text() for path in sorted((ROOT / "tests").glob("*.py"))}
    missing = [m for m in ("noise", "triton") if importlib.util.find_spec(m) is None]
    skipped = {path for path, text in files.items() if any(f"\nimport {m}" in text for m in missing)}
    skipped |= {path for path, text in files.items()  # and the tests that take it from a helper module
                if any(f"from .{helper.stem} import" in text for helper in skipped)}
    for path in sorted(skipped):
        print(f"{', '.join(missing)} not installed here: {path.name} does not run", flush=True)
    return [arg for path in sorted(skipped) for arg in ("--ignore", str(path.relative_to(ROOT)))]


def run_proof(check: Check, py: str) -> bool:
    """The proof's GPU form. Fashion-MNIST cannot be downloaded there: it comes from FDSL_FASHION_MNIST,
    Debian's path, or `.fashion-mnist/` in the repository (copy the four .gz files there, ignored by git,
    and name it in the call's carry)."""
    carried = ROOT / ".fashion-mnist"
    env = {"FDSL_FASHION_MNIST": str(carried)} if (carried / "t10k-labels-idx1-ubyte.gz").is_file() else {}
    found = Path(env.get("FDSL_FASHION_MNIST") or os.environ.get("FDSL_FASHION_MNIST")
                 or "/usr/share/datasets/fashion-mnist")
    if not (found / "t10k-labels-idx1-ubyte.gz").is_file():
        return check._record("proof", "failed", 0.0, f"no Fashion-MNIST in {found} or {carried}")
    return check.run("proof", [py, "benchmarks/proof_finetune.py", "--form", "gpu", "--work",
                               str(check.out / "cache" / "proof"), "--out", str(check.out / "proof.json")],
                     PROOF_SECONDS, env=env)


def sanitize(check: Check, tool: str) -> bool:
    """compute-sanitizer over the kernel workload; 'unavailable' (not a failure) where the runtime refuses it."""
    exe = shutil.which("compute-sanitizer") or "/usr/local/cuda/bin/compute-sanitizer"
    if not Path(exe).exists():
        return check._record(f"sanitizer {tool}", "unavailable", 0.0, "compute-sanitizer is not installed")
    log = check.out / "gpu.log"
    before = log.stat().st_size if log.exists() else 0
    ok = check.run(f"sanitizer {tool}", [exe, "--tool", tool, "--error-exitcode", "1", "--print-limit", "20",
                                          sys.executable, "tools/kernel_workload.py"], 120, "gpu.log",
                   env={"PYTORCH_NO_CUDA_MEMORY_CACHING": "1"})  # one allocation per tensor: memcheck sees bounds
    text = log.read_text(errors="replace")[before:] if log.exists() else ""
    if not ok and ("Device not supported" in text or "error 999" in text.lower()):
        check.steps[-1].update(status="unavailable", detail="this machine's runtime refuses compute-sanitizer")
        return True
    return ok


def main() -> int:
    out = Path(os.environ.get("OUT") or "/tmp/fdsl-device-check")
    out.mkdir(parents=True, exist_ok=True)
    proof = "--proof" in sys.argv[1:]
    check = Check(out, DEADLINE + (PROOF_SECONDS if proof else 0.0))
    py = sys.executable
    check.run("install", [py, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", "."], 90)
    env = environment()
    print(json.dumps(env, indent=1), flush=True)
    gpu = bool(env.get("gpu"))
    suite = check.background("pytest", [py, "-m", "pytest", "-q", "-m", "not gpu", "-rs", "-p", "no:cacheprovider",
                                        *missing_test_dependencies()], "pytest.log")
    check.run("selftest", [py, "-m", "fdsl_gen.cli", "selftest", "--json", str(out / "selftest.json")], 150)
    check.run("timm strict load", [py, "-c", TIMM_LOAD], 60)
    if gpu:
        check.run("gpu tests", [py, "-m", "pytest", "-q", "-m", "gpu", "-rs", "-p", "no:cacheprovider"], 150,
                  "gpu.log")
        sanitize(check, "memcheck")
        sanitize(check, "racecheck")
    check.wait(suite)
    if gpu:
        check.run("bench-gpu", [py, "benchmarks/bench_gpu.py", "--categories", "1024", "--repeats", "3",
                                "--out", str(out / "bench-gpu.json")], 100)
        check.run("bench-stream", [py, "benchmarks/bench_stream.py", "--steps", "6",
                                   "--out", str(out / "bench-stream.json")], 120)
        if proof:
            run_proof(check, py)
    ok = all(s["status"] in ("passed", "unavailable") for s in check.steps)
    summary = {"ok": ok, "gpu": gpu, "seconds": round(time.monotonic() - check.start, 1), "environment": env,
               "steps": check.steps}
    if not gpu:
        summary["note"] = "no CUDA GPU here: the gpu tests, the sanitizer and the benchmarks need one and did not run"
        print(summary["note"], flush=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"device check {'passed' if ok else 'FAILED'} in {summary['seconds']} s; summary in {out / 'summary.json'}",
          flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
