"""The dataset commands: list, search, render, preview, bench and selftest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .common import (EXTRA, EXTRA_HELP, Backend, Categories, Db, DrawType, Instances, JsonOption, Points, Search,
                     Seed, Size, Table, _database, _path, _user_errors, _write_json, app)


@app.command("list")
@_user_errors
def list_cmd():
    """Databases, their defaults, and the backends that run here (and why the others do not)."""
    from ..backends import BACKENDS, unavailable_reason
    from ..registry import database_class, list_databases

    for key in list_databases():
        cls = database_class(key)
        typer.echo(f"{key}  (also: {', '.join(cls.aliases)})\n  {cls.summary}")
        defaults = cls.defaults()
        if defaults.get("instances", 0) is None:  # None: the database's own count, shown as that count
            defaults["instances"] = cls.from_options(categories=1).n_instances
        typer.echo("  options: " + ", ".join(f"--{k.replace('_', '-')} {'none' if v is None else v}"
                                           for k, v in defaults.items()))
        for b in BACKENDS:
            if b == "triton":  # Triton does the per-pixel stages, not the rendering
                why = unavailable_reason(b)
                typer.echo(f"  triton   per-pixel stages (--resize, augmentation): "
                           f"{'on the GPU' if why is None else 'NumPy reference instead: ' + why}")
                continue
            why = "not implemented yet" if b not in cls.implemented_backends else unavailable_reason(b)
            typer.echo(f"  backend {b:7s} {'available' if why is None else 'unavailable: ' + why}")
        if getattr(cls, "published_backends", ()):
            typer.echo(f"  --search published (exact replay of the released script): "
                       f"{', '.join(cls.published_backends)}")


class SearchProgress:
    """A search's progress bar that counts (and times) only the categories still to search."""

    def __init__(self, bar):
        self.bar = bar

    def __call__(self, n: int = 1) -> None:
        self.bar.update(n)

    def known(self, k: int) -> None:
        self.bar.reset(total=self.bar.total - k)
        self.bar.set_description(f"{getattr(self.bar, 'desc', 'search')} ({k:,} known, searching the rest)")


@app.command(context_settings=EXTRA, epilog=EXTRA_HELP)
@_user_errors
def search(ctx: typer.Context, db: Db,
           out: Annotated[Path, typer.Option("--out", help="folder for the table", parser=_path)],
           categories: Categories = None, search: Search = None, seed: Seed = None, backend: Backend = "auto"):
    """Write a category table: the originals' parameter files (CSV) and one compact file."""
    from tqdm import tqdm

    from ..export.disk import check_writable

    database = _database(db, ctx, categories=categories, search=search, seed=seed)
    check_writable(out)
    with tqdm(total=database.n_categories, desc=f"search {database.key}", unit="cat") as bar:
        database.table(progress=SearchProgress(bar), backend=backend)
        bar.update(bar.total - bar.n)  # a shipped or cached table arrives at once
    database.write_table(out)
    typer.echo(f"wrote {database.n_categories} categories to {out} (table sha256 {database.table_digest()[:16]})")


@app.command(context_settings=EXTRA, epilog=EXTRA_HELP)
@_user_errors
def render(ctx: typer.Context, db: Db, out: Annotated[Path, typer.Option("--out", help="dataset folder", parser=_path)],
           categories: Categories = None, instances: Instances = None, size: Size = None, seed: Seed = None,
           search: Search = None, draw_type: DrawType = None, points: Points = None, table: Table = None,
           backend: Backend = "auto",
           workers: Annotated[Optional[int], typer.Option("--workers", help="threads (default: all cores)")] = None,
           format: Annotated[str, typer.Option("--format", help="imagefolder | webdataset")] = "imagefolder",
           png_compress: Annotated[int, typer.Option("--png-compress", help="zlib level 0-9")] = 6,
           channels: Annotated[int, typer.Option("--channels", help="PNG channels, 1 or 3")] = 3,
           batch: Annotated[int, typer.Option("--batch", help="images per backend call")] = 64,
           shard_size: Annotated[int, typer.Option("--shard-size", help="webdataset samples per shard")] = 1000,
           force: Annotated[bool, typer.Option("--force", help="write even if the disk looks too small")] = False,
           resize: Annotated[Optional[int], typer.Option("--resize", help="resample every image to this side")] = None,
           resize_mode: Annotated[str, typer.Option("--resize-mode", help="bicubic | bilinear")] = "bicubic",
           quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False):
    """Write the dataset to disk in the original layout (or webdataset shards); resumes after a kill."""
    from ..export.writer import ExportOptions, export

    database = _database(db, ctx, categories=categories, instances=instances, size=size, seed=seed,
                         search=search, draw_type=draw_type, points=points, table=table)
    opts = ExportOptions(out=out, format=format, backend=backend, batch=batch, png_compress=png_compress,
                         channels=channels, shard_size=shard_size, force=force, resize=resize,
                         resize_mode=resize_mode,
                         **({"workers": workers} if workers is not None else {}))
    result = export(database, opts, progress=not quiet, log=typer.echo)
    rate = result["images"] / result["seconds"] if result["seconds"] > 0 else 0.0
    typer.echo(f"wrote {result['images']} images in {result['seconds']:.1f} s ({rate:.0f} img/s, "
               f"backend {result['backend']})")


@app.command(context_settings=EXTRA, epilog=EXTRA_HELP)
@_user_errors
def preview(ctx: typer.Context, db: Db, out: Annotated[Path, typer.Option("--out", help="PNG file", parser=_path)],
            categories: Annotated[Optional[int], typer.Option("--categories", "-n",
                                                              help="cells: the first categories (default 16)")] = None,
            instance: Annotated[int, typer.Option("--instance", help="instance drawn per category")] = 0,
            size: Size = None, seed: Seed = None, search: Search = None, draw_type: DrawType = None,
            points: Points = None, table: Table = None, backend: Backend = "auto",
            columns: Annotated[Optional[int], typer.Option("--columns", help="cells per row")] = None,
            no_labels: Annotated[bool, typer.Option("--no-labels", help="no category ids on the cells")] = False,
            cell: Annotated[Optional[int], typer.Option("--cell", help="resize each cell to this side")] = None):
    """A grid of the first categories, one cell each, labelled with its category id, as one PNG."""
    from PIL import Image

    from ..io.atomic import atomic_write_bytes
    from ..preview import MAX_CELLS, grid, shrink

    def check_cells(n: int) -> int:
        if not 1 <= n <= MAX_CELLS:
            raise UsageError(f"preview shows 1 to {MAX_CELLS} categories, got {n}")
        return n

    if categories is not None:
        check_cells(categories)  # before anything is built
    if columns is not None and columns < 1:
        raise UsageError(f"--columns must be at least 1, got {columns}")
    if cell is not None and not 16 <= cell <= 1024:
        raise UsageError(f"--cell must be between 16 and 1024 pixels, got {cell}")
    database = _database(db, ctx, defaults={"categories": 16}, categories=categories, size=size, seed=seed,
                         search=search, draw_type=draw_type, points=points, table=table)
    categories = check_cells(database.n_categories)  # also when given as --numof_classes
    if out.suffix.lower() != ".png":
        raise UsageError(f"preview writes a .png file, got {out}")
    if not out.parent.exists():
        raise UsageError(f"folder {out.parent} does not exist")
    images = database.render_array(list(range(categories)), instance, backend)
    if cell is not None:
        images = shrink(images, cell)
    import io

    buf = io.BytesIO()
    labels = None if no_labels else [str(k) for k in range(categories)]
    Image.fromarray(grid(images, columns, labels)).save(buf, format="PNG")
    try:
        atomic_write_bytes(out, buf.getvalue())
    except OSError as exc:
        raise UsageError(f"cannot write {out} ({exc.strerror or exc})") from None
    typer.echo(f"wrote {out}: {categories} categories of {database.key}")


@app.command()
@_user_errors
def bench(db: Annotated[str, typer.Option("--db", help="database or all")] = "all",
          backend: Annotated[str, typer.Option("--backend", help="backend or all")] = "all",
          size: Size = None, points: Points = None, draw_type: DrawType = None,
          batch: Annotated[int, typer.Option("--batch", help="images per timed call")] = 256,
          repeats: Annotated[int, typer.Option("--repeats", help="timed runs (median reported)")] = 5,
          warmup: Annotated[int, typer.Option("--warmup", help="untimed runs first")] = 1,
          threads: Annotated[Optional[int], typer.Option("--threads", help="CPU threads (default all)")] = None,
          search: Annotated[int, typer.Option("--time-search", help="also time a fresh category search of N "
                                              "categories")] = 0,
          published: Annotated[bool, typer.Option("--published", help="also time the exact replay of the "
                                                  "released contour scripts")] = False,
          model: Annotated[bool, typer.Option("--model", help="print the GPU cost model instead (modeled, not "
                                              "measured; needs a source checkout and nvcc)")] = False,
          json_out: Annotated[Optional[Path], JsonOption] = None):
    """Render throughput in images/s per database x backend (median of repeats after warm-up)."""
    from ..bench import run_bench

    if model:
        from ..bench import run_model

        result = run_model(log=typer.echo)
        if json_out:
            _write_json(json_out, result)
        return
    for name, value in (("batch", batch), ("repeats", repeats)):
        if value < 1:
            raise UsageError(f"{name} must be at least 1, got {value}")
    if warmup < 0 or search < 0 or (threads is not None and threads < 1):
        raise UsageError("warmup and search must be >= 0, threads >= 1")
    result = run_bench(db, backend, size=size, points=points, draw_type=draw_type, batch=batch, repeats=repeats,
                       warmup=warmup, threads=threads, search=search, published=published, log=typer.echo)
    if json_out:
        _write_json(json_out, result)


@app.command()
@_user_errors
def selftest(db: Annotated[str, typer.Option("--db", help="database or all")] = "all",
             ptx: Annotated[Optional[Path], typer.Option("--ptx", help="also write every kernel's PTX for sm_90 "
                                                         "(NVRTC and Triton, production options) into this folder")]
             = None,
             json_out: Annotated[Optional[Path], JsonOption] = None):
    """Every backend that runs here against the reference on a small batch: exact, mismatch or unavailable.

    Exits 0 when everything that can run is exact (unavailable is not a failure), 1 on a mismatch or, with
    --ptx, on inexact PTX.
    """
    from .. import selfcheck
    from ..registry import database_class, list_databases

    keys = list_databases() if db == "all" else [database_class(db).key]
    if ptx is not None and ptx.exists() and not ptx.is_dir():
        raise UsageError(f"--ptx needs a folder, got the file {ptx}")
    if ptx is not None:  # before the renders: a missing NVRTC is known at once
        from ..backends import ptx as ptx_module

        try:
            ptx_module.nvrtc_library()
        except OSError as exc:
            raise UsageError(f"cannot compile PTX here: {exc}") from None

    def show(row: dict) -> None:
        typer.echo(f"{row['database']:12s} {row['backend']:7s} {row['status']:11s} {row['detail']}")

    rows = selfcheck.report(keys, progress=show)
    failed = [r for r in rows if r["status"] == "mismatch"]
    result = {"rows": rows}
    if ptx is not None:
        try:
            inexact = ptx_module.write_all(ptx, log=typer.echo)
        except (OSError, ImportError) as exc:
            raise UsageError(f"cannot compile PTX here: {exc}") from None
        result["ptx"] = inexact
        failed += [name for name, found in inexact.items() if found]
    if json_out:
        _write_json(json_out, result)
    exact = sum(r["status"] == "exact" for r in rows)
    typer.echo(f"{exact} exact, {sum(r['status'] == 'mismatch' for r in rows)} mismatch, "
               f"{sum(r['status'] == 'unavailable' for r in rows)} unavailable"
               + (f"; PTX in {ptx}" if ptx is not None else ""))
    if failed:
        raise typer.Exit(1)
