"""Webdataset shards: `SHARDS-000000.tar`, ... (ExFractalDB's naming), each sample `<key>.png` + `<key>.cls`.

The key is the image's file stem in the original layout; `.cls` holds the category index in decimal.
Tar headers carry no time, owner or mode that varies, so a shard's bytes depend only on its images.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePosixPath

from .atomic import atomic_write_bytes


def shard_name(index: int) -> str:
    return f"SHARDS-{index:06d}.tar"


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def write_shard(path: Path, db, samples: list[tuple[int, int]], pngs: list[bytes]) -> None:
    """Write one shard atomically: samples [(category, instance)] with their encoded PNGs, in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for (c, i), png in zip(samples, pngs):
            key = PurePosixPath(db.relative_path(c, i)).stem
            _add(tar, f"{key}.png", png)
            _add(tar, f"{key}.cls", str(c).encode("ascii"))
    atomic_write_bytes(path, buf.getvalue())
