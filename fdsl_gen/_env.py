"""Every FDSL_* environment variable, read in this one place."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError


def cache_dir() -> Path:
    """FDSL_CACHE_DIR: where computed category tables are kept (default ~/.cache/fdsl-gen)."""
    value = os.environ.get("FDSL_CACHE_DIR")
    return Path(value) if value else Path.home() / ".cache" / "fdsl-gen"


def default_device() -> str | None:
    """FDSL_DEVICE: cpu keeps `auto` backends, streams and training off the GPU; cuda or unset: the GPU if usable."""
    value = os.environ.get("FDSL_DEVICE", "").strip().lower()
    if value not in ("", "cpu", "cuda"):
        raise UsageError(f"FDSL_DEVICE must be cpu or cuda, got {value!r}")
    return value or None


def gpu_table_bytes() -> int:
    """FDSL_GPU_TABLE_GB: device memory a database may keep per table for the cuda backend (default 4 GB):
    the pixel coordinates of every 2D IFS system, or every 3D model; a larger table renders without them."""
    value = os.environ.get("FDSL_GPU_TABLE_GB", "").strip()
    if not value:
        return 4 * 2**30
    try:
        gb = float(value)
    except ValueError:
        gb = -1.0
    if not 0 <= gb < 2**20:
        raise UsageError(f"FDSL_GPU_TABLE_GB must be a number of GB (0 keeps nothing), got {value!r}")
    return int(gb * 2**30)


def dist_rank_world() -> tuple[int, int]:
    """(RANK, WORLD_SIZE) as torchrun sets them; (0, 1) when not launched by it."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def local_rank() -> int:
    """LOCAL_RANK as torchrun sets it (the GPU of this process on its node); 0 when not launched by it."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def fashion_mnist_dir() -> Path:
    """FDSL_FASHION_MNIST: the folder of Fashion-MNIST's four IDX .gz files (default: Debian's package path)."""
    value = os.environ.get("FDSL_FASHION_MNIST")
    return Path(value) if value else Path("/usr/share/datasets/fashion-mnist")
