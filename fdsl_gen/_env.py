"""Every FDSL_* environment variable, read in this one place."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """FDSL_CACHE_DIR: where computed category tables are kept (default ~/.cache/fdsl-gen)."""
    value = os.environ.get("FDSL_CACHE_DIR")
    return Path(value) if value else Path.home() / ".cache" / "fdsl-gen"


def dist_rank_world() -> tuple[int, int]:
    """(RANK, WORLD_SIZE) as torchrun sets them; (0, 1) when not launched by it."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
