"""Webdataset shards: `SHARDS-000000.tar`, ... (ExFractalDB's naming), each sample `<key>.png` + `<key>.cls`.

The key is the image's path in the original layout without its suffix (`00498/vertex_0229_instance_0000`):
unique across the dataset, where file stems alone are not (VisualAtom names files by vertex count, which
categories share). `.cls` holds the category index in decimal. Samples are spread over the shards in a
seeded random order (`sample_order`), so every shard holds many classes, as shuffle buffers expect. Tar
headers carry no time, owner or mode that varies, so a shard's bytes depend only on its images.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np

from .. import rng
from ..io.atomic import atomic_write_bytes


ORDER = "shuffled"  # the manifest's name for the order below (a dataset written in another is not resumed)


def shard_name(index: int) -> str:
    return f"SHARDS-{index:06d}.tar"


def sample_order(total: int, seed: int) -> np.ndarray:
    """int64 [total]: the sample index (category × instances + instance) written at each position."""
    return np.random.default_rng([seed, rng.stream_id("webdataset/order")]).permutation(total)


def sample_key(relative_path: str) -> str:
    """A sample's key: its path without the suffix, with no dot left (webdataset splits keys at the first)."""
    return str(PurePosixPath(relative_path).with_suffix("")).replace(".", "_")


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
            key = sample_key(db.relative_path(c, i))
            _add(tar, f"{key}.png", png)
            _add(tar, f"{key}.cls", str(c).encode("ascii"))
    atomic_write_bytes(path, buf.getvalue())
