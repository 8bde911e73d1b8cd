#!/usr/bin/env bash
# The device check in one call (a lent GPU machine runs it from the repository root; see device_check.py).
# bash tools/device_check.sh [--proof]: --proof adds the GPU form of the pre-training proof (4 more minutes).
# Caches live under $OUT/cache and are removed at the end, so that at most 8 result files come back.
set -uo pipefail
OUT=${OUT:-/tmp/fdsl-device-check}
mkdir -p "$OUT/cache"
export PYTHONUNBUFFERED=1 OUT
export FDSL_CACHE_DIR="$OUT/cache/fdsl" NUMBA_CACHE_DIR="$OUT/cache/numba" TRITON_CACHE_DIR="$OUT/cache/triton" \
       CUPY_CACHE_DIR="$OUT/cache/cupy" XDG_CACHE_HOME="$OUT/cache/xdg" MPLCONFIGDIR="$OUT/cache/mpl" \
       TORCHINDUCTOR_CACHE_DIR="$OUT/cache/inductor"
trap 'rm -rf "$OUT/cache"' EXIT
PY=$(command -v python3 || command -v python)
"$PY" tools/device_check.py "$@" 2>&1 | tee "$OUT/device-check.log"
