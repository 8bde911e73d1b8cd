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
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import _env
from ..augment.resample import MODES, full_boxes, resample
from ..errors import Interrupted, UsageError
from . import manifest
from ..io.atomic import atomic_write_bytes, remove_stale_temporaries
from .disk import check_not_foreign, check_space, check_writable
from .png import encode_png
from .webdataset import ORDER as WDS_ORDER, sample_order, shard_name, write_shard

FORMATS = ("imagefolder", "webdataset")
CLASSES = "classes.txt"
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
    force: bool = False  # write even if the estimated size exceeds the free space, or into a foreign folder
    resize: int | None = None  # resample every image to resize x resize after rendering (Pillow's filters)
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
    """What this rank still has to write (existing files and shards are skipped; one listing per folder)."""
    n_inst = db.n_instances
    if opts.format == "imagefolder":
        listings: dict[Path, set] = {}

        def exists(relative: str) -> bool:
            path = opts.out / relative
            if path.parent not in listings:
                listings[path.parent] = set(os.listdir(path.parent)) if path.parent.is_dir() else set()
            return path.name in listings[path.parent]

        units = []
        for c in range(rank, db.n_categories, world):
            todo = [(c, i) for i in range(n_inst) if not exists(db.relative_path(c, i))]
            if todo:
                units.append(Unit(todo))
        return units
    total = db.n_categories * n_inst
    order = sample_order(total, db.config.seed)
    units = []
    for s in range(rank, (total + opts.shard_size - 1) // opts.shard_size, world):
        if not (opts.out / shard_name(s)).exists():
            idx = order[s * opts.shard_size:(s + 1) * opts.shard_size].tolist()
            units.append(Unit([divmod(k, n_inst) for k in idx], shard=s))
    return units


def export(db, opts: ExportOptions, progress: bool = True, log=print) -> dict:
    """Write `db` to `opts.out`; returns a summary (images written, seconds, backend)."""
    from tqdm import tqdm

    opts.validate(db)
    rank, world = _env.dist_rank_world()
    out = Path(opts.out)
    backend = db.resolve_backend(opts.backend)
    check_writable(out)
    existing = manifest.read(out)
    if existing is None:
        check_not_foreign(out, opts.force)
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
        fmt.update(shard_size=opts.shard_size, order=WDS_ORDER)
    ident = manifest.identity(db, db.table_digest(), fmt)
    manifest.check_resumable(existing, ident, out)
    encode = lambda img: encode_png(img, opts.channels, opts.png_compress)  # noqa: E731
    render = lambda chunk: _render_chunk(db, chunk, backend, opts)  # noqa: E731
    total = db.n_categories * db.n_instances
    # the size of a few real encodings, checked against the free space before a folder is listed
    sample = [(c, 0) for c in range(min(8, db.n_categories))]
    per_image = float(np.mean([len(encode(img)) for img in render(sample)]))
    if existing is None:
        check_space(out, per_image, total, opts.force, log)
    remove_stale_temporaries(out, rank, world)
    units = _plan(db, opts, rank, world)
    n_todo = sum(len(u.samples) for u in units)
    if n_todo == 0:
        log(f"{out} already holds all {total:,} images of this dataset: nothing to write")
    else:
        log(f"{n_todo:,} of {total:,} images to write to {out}")
        if existing is not None:
            check_space(out, per_image, n_todo, opts.force, log)
    start = time.perf_counter()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {out} ({exc.strerror or exc})") from None
    if existing is None:
        manifest.write(out, ident, complete=False)
    with ThreadPoolExecutor(opts.workers) as pool, \
            tqdm(total=n_todo, desc=f"render {db.key}", unit="img", disable=not progress or not n_todo,
                 smoothing=0.1) as bar:
        written: list[int] = []
        try:
            db.write_table(out, csv=db.table_in_layout)
            if opts.format == "imagefolder":
                atomic_write_bytes(out / CLASSES, class_folders(db).encode())
            _write(db, out, ((u, c, render(c)) for u, c in _batches(units, opts.batch)), pool, encode, bar, written)
        except (OSError, KeyboardInterrupt) as exc:
            pool.shutdown(wait=True, cancel_futures=True)  # no write may land after the clean-up below
            remove_stale_temporaries(out, rank, world)
            done = f"{sum(written):,} of {n_todo:,} images written to {out}"
            if isinstance(exc, KeyboardInterrupt):
                raise Interrupted(f"interrupted: {done}; run the same command again to resume") from None
            raise UsageError(f"writing failed ({exc.strerror or exc}): {done}; fix that and run the same command "
                             "again to resume") from None
    seconds = time.perf_counter() - start
    _mark_done(out, ident, rank, world)
    return {"images": n_todo, "seconds": seconds, "backend": backend, "rank": rank, "world": world}


def class_folders(db) -> str:
    """The CLASSES file: line k is the folder (relative to the root) of category k's images. Alphabetical
    folder order is not always the category order (1p-frac's `99` sorts after `100`), and RCDB's classes
    live under `image/`: a loader takes the classes in this file's order."""
    return "".join(f"{Path(db.relative_path(c, 0)).parent.as_posix()}\n" for c in range(db.n_categories))


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


def _write(db, out: Path, rendered, pool, encode, bar, written: list) -> None:
    """Encode and write (unit, samples, images) batches; the next batch renders while the pool encodes.
    Every file on disk appends its image count to `written` (the bar lags behind by the batches in flight)."""
    pending, shard, parts = [], None, []

    def write_png(path_and_image):
        atomic_write_bytes(path_and_image[0], encode(path_and_image[1]))
        written.append(1)

    def flush_shard():
        pngs = [png for part in parts for png in part]
        write_shard(out / shard_name(shard.shard), db, shard.samples, pngs)
        written.append(len(pngs))
        bar.update(len(pngs))

    for unit, chunk, images in rendered:
        if unit is None:
            paths = [out / db.relative_path(c, i) for c, i in chunk]
            for folder in {p.parent for p in paths}:
                folder.mkdir(parents=True, exist_ok=True)
            pending.append(pool.map(write_png, zip(paths, images)))
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
