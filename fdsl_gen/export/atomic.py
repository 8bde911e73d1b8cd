"""Atomic file writes: write to a temporary name in the same folder, then rename over the final name.

A killed job therefore leaves either the whole file or nothing under the final name; leftovers carry
the `.fdsl-tmp` suffix and are removed by `remove_stale_temporaries` when a job resumes.
"""

from __future__ import annotations

import os
from pathlib import Path

TMP_SUFFIX = ".fdsl-tmp"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that `path` never holds a partial file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:  # a full disk, an interrupt: no temporary left behind
        tmp.unlink(missing_ok=True)
        raise


def remove_stale_temporaries(root: Path) -> int:
    """Delete temporaries left by a killed job under `root`; returns how many were removed."""
    removed = 0
    for p in Path(root).rglob(f"*{TMP_SUFFIX}"):
        p.unlink(missing_ok=True)
        removed += 1
    return removed
