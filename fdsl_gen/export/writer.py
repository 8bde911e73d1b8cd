"""Write a database to disk: the originals' ImageFolder layout or webdataset shards, resumable.

Every file is written under a temporary name and renamed, so after a kill the folder holds whole
files only; a rerun with the same command skips what exists and writes the rest (a folder holding a
different dataset is refused). Under torchrun (RANK / WORLD_SIZE), rank r writes categories = r mod
world (ImageFolder) or shards = r mod world (webdataset), so ranks never write the same file.
Rendering (numba, GIL released) overlaps with PNG encoding and writing in a thread pool.
"""

from __future__ import annotations

import itertools
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import _env
from ..augment.resample import MODES, full_boxes, resample
from ..errors import UsageError
from . import manifest
from .atomic import atomic_write_bytes, remove_stale_temporaries
from .png import encode_png
from .webdataset import shard_name, write_shard

FORMATS = ("imagefolder", "webdataset")
DONE_PREFIX = ".fdsl-done-rank-"


@dataclass(frozen=True)
class ExportOptions:
    """How a dataset is written (not what it contains)."""

    out: Path
    format: str = "imagefolder"  # imagefolder | webdataset
    backend: str = "auto"
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)  # encoding threads (and numba threads)
    batch: int = 64  # images rendered per backend call
    png_compress: int = 6  # zlib level, as the originals (PIL's default)
    channels: int = 3  # 3: gray repeated, as the originals save; 1: single-channel PNG
    shard_size: int = 1000  # webdataset: samples per shard
    force: bool = False  # write even if the estimated size exceeds the free space
    resize: int | None = None  # resample every image to resize x resize after rendering (SPEC §9.2)
    resize_mode: str = "bicubic"  # bicubic | bilinear (Pillow's antialiased filters)

    def __post_init__(self):
        object.__setattr__(self, "out", Path(self.out))

    def validate(self, db) -> None:
        if self.format not in FORMATS:
            raise UsageError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if not 0 <= self.png_compress <= 9:
            raise UsageError(f"png compression must be 0-9, got {self.png_compress}")
        if self.channels not in (1, 3):
            raise UsageError(f"channels must be 1 or 3, got {self.channels}")
        if self.channels == 1 and db.image_shape[0] == 3:
            raise UsageError("a colour draw type needs --channels 3")
        for name in ("workers", "batch", "shard_size"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name.replace('_', ' ')} must be at least 1, got {getattr(self, name)}")
        if self.resize is not None and not 8 <= self.resize <= 4096:
            raise UsageError(f"resize must be between 8 and 4096 pixels, got {self.resize}")
        if self.resize_mode not in MODES:
            raise UsageError(f"resize mode must be one of {', '.join(MODES)}, got {self.resize_mode!r}")


@dataclass
class Unit:
    """Samples written together: one category's missing images, or one shard."""

    samples: list[tuple[int, int]]  # (category, instance)
    shard: int | None = None  # webdataset shard index


def _plan(db, opts: ExportOptions, rank: int, world: int) -> list[Unit]:
    """What this rank still has to write (existing files and shards are skipped)."""
    n_inst = db.n_instances
    if opts.format == "imagefolder":
        units = []
        for c in range(rank, db.n_categories, world):
            todo = [(c, i) for i in range(n_inst) if not (opts.out / db.relative_path(c, i)).exists()]
            if todo:
                units.append(Unit(todo))
        return units
    total = db.n_categories * n_inst
    units = []
    for s in range(rank, (total + opts.shard_size - 1) // opts.shard_size, world):
        if not (opts.out / shard_name(s)).exists():
            idx = range(s * opts.shard_size, min(total, (s + 1) * opts.shard_size))
            units.append(Unit([divmod(k, n_inst) for k in idx], shard=s))
    return units


def existing_ancestor(path: Path) -> Path:
    """The nearest folder of `path` (itself included) that exists."""
    path = Path(path).absolute()
    while not path.exists():
        path = path.parent
    return path


def check_writable(out: Path) -> None:
    """UsageError unless `out` is, or can be created as, a writable folder (nothing is created here)."""
    base = existing_ancestor(out)
    if not base.is_dir():
        raise UsageError(f"output directory {out} is not writable ({base} is not a folder)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise UsageError(f"output directory {out} is not writable (no write permission on {base})")


def _size(n_bytes: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes / 1e3:.1f} kB"


def _check_space(out: Path, per_image: float, n_images: int, force: bool, log) -> None:
    need = per_image * n_images
    free = shutil.disk_usage(existing_ancestor(out)).free
    log(f"estimated size {_size(need)} for {n_images} images; {_size(free)} free on {out}")
    if need > free and not force:
        raise UsageError(f"not enough free space in {out}: need about {_size(need)}, {_size(free)} free "
                         "(use --force to write anyway)")


def export(db, opts: ExportOptions, progress: bool = True, log=print) -> dict:
    """Write `db` to `opts.out`; returns a summary (images written, seconds, backend)."""
    import time

    from tqdm import tqdm

    opts.validate(db)
    rank, world = _env.dist_rank_world()
    out = Path(opts.out)
    backend = db.resolve_backend(opts.backend)
    check_writable(out)
    if backend == "numba":
        import numba

        numba.set_num_threads(max(1, min(opts.workers, numba.config.NUMBA_NUM_THREADS)))
    log(f"{db.key}: {db.n_categories} categories x {db.n_instances} instances, backend {backend}"
        + (f", rank {rank} of {world}" if world > 1 else ""))
    with tqdm(total=db.n_categories, desc="category table", unit="cat", disable=not progress, leave=False) as bar:
        db.table(progress=bar.update)
    fmt = {"format": opts.format, "channels": opts.channels, "png_compress": opts.png_compress}
    if opts.resize is not None:
        fmt.update(resize=opts.resize, resize_mode=opts.resize_mode)
    if opts.format == "webdataset":
        fmt["shard_size"] = opts.shard_size
    ident = manifest.identity(db, db.table_digest(), fmt)
    existing = manifest.read(out)
    manifest.check_resumable(existing, ident, out)
    remove_stale_temporaries(out)
    units = _plan(db, opts, rank, world)
    n_todo = sum(len(u.samples) for u in units)
    log(f"{n_todo} images to write to {out}")

    encode = lambda img: encode_png(img, opts.channels, opts.png_compress)  # noqa: E731
    render = lambda chunk: _render_chunk(db, chunk, backend, opts)  # noqa: E731
    batches = _batches(units, opts.batch)
    start = time.perf_counter()
    with ThreadPoolExecutor(opts.workers) as pool:
        first = next(batches, None)
        if first is not None:  # size estimate from real encodings, before anything is written
            first = (*first, render(first[1]))
            sample = list(pool.map(encode, first[2][:8]))
            _check_space(out, float(np.mean([len(b) for b in sample])), n_todo, opts.force, log)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {out} ({exc.strerror or exc})") from None
        if existing is None:
            manifest.write(out, ident, complete=False)
        db.write_table(out, csv=db.table_in_layout)
        rendered = itertools.chain([first] if first else [], ((u, c, render(c)) for u, c in batches))
        with tqdm(total=n_todo, desc=f"render {db.key}", unit="img", disable=not progress, smoothing=0.1) as bar:
            _write(db, out, rendered, pool, encode, bar)
    seconds = time.perf_counter() - start
    _mark_done(out, ident, rank, world)
    return {"images": n_todo, "seconds": seconds, "backend": backend, "rank": rank, "world": world}


def _render_chunk(db, chunk: list[tuple[int, int]], backend: str, opts: ExportOptions) -> np.ndarray:
    """uint8 [B, C, H, W] on the host: rendered, then resampled on the rendering device if asked."""
    cats, insts = [c for c, _ in chunk], [i for _, i in chunk]
    if opts.resize is None:
        return db.render_array(cats, insts, backend)
    images = db.render(cats, insts, backend)
    source = images if images.is_cuda else images.numpy()
    b, _, h, w = images.shape
    out = resample(source, full_boxes(b, h, w), np.zeros((b, 2), dtype=bool), (opts.resize, opts.resize),
                   opts.resize_mode, out_dtype=np.uint8)
    return out if isinstance(out, np.ndarray) else out.cpu().numpy()


def _batches(units: list[Unit], size: int):
    """(shard unit or None, samples) in writing order: ImageFolder batches run across categories, so that
    databases with one image per category still render many at a time; a shard's batches stay in it."""
    if units and units[0].shard is None:
        samples = itertools.chain.from_iterable(u.samples for u in units)
        while chunk := list(itertools.islice(samples, size)):
            yield None, chunk
        return
    for unit in units:
        for lo in range(0, len(unit.samples), size):
            yield unit, unit.samples[lo : lo + size]


def _write(db, out: Path, rendered, pool, encode, bar) -> None:
    """Encode and write (unit, samples, images) batches; the next batch renders while the pool encodes."""
    pending, shard, parts = [], None, []

    def flush_shard():
        pngs = [png for part in parts for png in part]
        write_shard(out / shard_name(shard.shard), db, shard.samples, pngs)
        bar.update(len(pngs))

    for unit, chunk, images in rendered:
        if unit is None:
            paths = [out / db.relative_path(c, i) for c, i in chunk]
            for folder in {p.parent for p in paths}:
                folder.mkdir(parents=True, exist_ok=True)
            pending.append(pool.map(lambda a: atomic_write_bytes(a[0], encode(a[1])), zip(paths, images)))
        else:
            if shard is not None and unit is not shard:
                flush_shard()
                parts = []
            shard = unit
            parts.append(pool.map(encode, images))
        while len(pending) > 2:  # at most ~2 batches in flight
            bar.update(len(list(pending.pop(0))))
    if shard is not None:
        flush_shard()
    for p in pending:
        bar.update(len(list(p)))


def _mark_done(out: Path, ident: dict, rank: int, world: int) -> None:
    """Record this rank's completion; the rank that completes the set marks the manifest complete.

    Markers are files, never folders: ImageFolder readers take every folder of the root for a class.
    """
    marker = lambda r: out / f"{DONE_PREFIX}{r}-of-{world}"  # noqa: E731
    atomic_write_bytes(marker(rank), b"")
    if all(marker(r).exists() for r in range(world)):
        manifest.write(out, ident, complete=True)
        for r in range(world):
            marker(r).unlink(missing_ok=True)
