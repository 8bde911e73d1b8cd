"""Where a dataset goes: checks on the output folder and on the free space, before anything is written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import UsageError
from .manifest import MANIFEST


def existing_ancestor(path: Path) -> Path:
    """The nearest folder of `path` (itself included) that exists."""
    path = Path(path).absolute()
    while not path.exists():
        path = path.parent
    return path


def check_writable(out: Path) -> None:
    """UsageError unless `out` is, or can be created as, a writable folder on a disk (nothing is created)."""
    if not str(out).strip():
        raise UsageError("the output folder is empty: give --out a folder name")
    base = existing_ancestor(out)
    if not base.is_dir():
        raise UsageError(f"output directory {out} is not writable ({base} is not a folder)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise UsageError(f"output directory {out} is not writable (no write permission on {base})")
    if os.statvfs(base).f_blocks == 0:  # /proc, /sys: a file system without storage
        raise UsageError(f"output directory {out} is not on a disk ({base} is a virtual file system)")


def check_not_foreign(out: Path, force: bool) -> None:
    """UsageError if `out` is a non-empty folder that holds no fdsl-gen dataset (unless `force`)."""
    out = Path(out)
    if force or not out.is_dir() or (out / MANIFEST).exists():
        return
    if next(out.iterdir(), None) is not None:
        raise UsageError(f"{out} is not empty and holds no fdsl-gen dataset (no {MANIFEST}): choose an empty or "
                         "new folder, or pass --force to write into it anyway")


def size_text(n_bytes: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes / 1e3:.1f} kB"


def check_space(out: Path, per_image: float, n_images: int, force: bool, log) -> None:
    """UsageError when `n_images` of about `per_image` bytes will not fit (unless `force`)."""
    need = per_image * n_images
    free = shutil.disk_usage(existing_ancestor(out)).free
    log(f"estimated size {size_text(need)} for {n_images:,} images; {size_text(free)} free on {out}")
    if need > free and not force:
        raise UsageError(f"not enough free space in {out}: need about {size_text(need)} for {n_images:,} images, "
                         f"{size_text(free)} free (use --force to write anyway)")
