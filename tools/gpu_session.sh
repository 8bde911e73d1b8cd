#!/usr/bin/env bash
# Everything a lent GPU machine should run, in one call (the device tool runs it in the repository root):
#   install (no downloads there), the GPU tests, the GPU benchmarks; results and logs under $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/fdsl-gpu-out}
mkdir -p "$OUT"
pip install --no-deps --no-build-isolation -e . > "$OUT/install.log" 2>&1 || { tail -20 "$OUT/install.log"; exit 1; }
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
python -c "import torch, triton, cupy, numba; print(torch.__version__, triton.__version__, cupy.__version__, numba.__version__)" \
    > "$OUT/versions.txt" 2>&1
timeout 300 python -m pytest -q -m gpu -rs > "$OUT/gpu-tests.txt" 2>&1
tail -5 "$OUT/gpu-tests.txt"
timeout 240 python benchmarks/bench_gpu.py --out "$OUT/bench-gpu.json" > "$OUT/bench-gpu.txt" 2>&1
tail -20 "$OUT/bench-gpu.txt"
timeout 240 python benchmarks/bench_stream.py --out "$OUT/bench-stream.json" > "$OUT/bench-stream.txt" 2>&1
tail -20 "$OUT/bench-stream.txt"
