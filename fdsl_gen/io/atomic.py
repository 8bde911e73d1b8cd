"""Atomic file writes: write to a temporary name in the same folder, then rename over the final name.

A killed job therefore leaves either the whole file or nothing under the final name. Leftovers carry
the `.fdsl-tmp` suffix and the writer's rank (`.<name>.r<rank>-<pid>.fdsl-tmp`, RANK as torchrun sets
it): a resuming rank removes only its own rank's leftovers (rank 0 also those of ranks that no longer
exist), never a temporary another rank of the same run is writing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .. import _env

TMP_SUFFIX = ".fdsl-tmp"
_RANK_TAG = re.compile(r"\.r(\d+)-\d+" + re.escape(TMP_SUFFIX) + "$")


def temporary_name(path: Path, rank: int | None = None) -> Path:
    """The temporary that `atomic_write_bytes` writes before renaming it to `path`."""
    rank = _env.dist_rank_world()[0] if rank is None else rank
    return path.with_name(f".{path.name}.r{rank}-{os.getpid()}{TMP_SUFFIX}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that `path` never holds a partial file."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:  # a full disk, an interrupt: no temporary left behind
        tmp.unlink(missing_ok=True)
        raise


def remove_stale_temporaries(root: Path, rank: int = 0, world: int = 1) -> int:
    """Delete the temporaries a killed job of this rank left under `root` (rank 0: also those of ranks
    >= world and of untagged older ones); returns how many were removed."""
    removed = 0
    for p in Path(root).rglob(f"*{TMP_SUFFIX}"):
        tag = _RANK_TAG.search(p.name)
        owner = int(tag.group(1)) if tag else None
        if owner == rank or (rank == 0 and (owner is None or owner >= world)):
            p.unlink(missing_ok=True)
            removed += 1
    return removed
