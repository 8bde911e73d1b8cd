"""The `fdsl-gen` command line: each command builds a config and calls one library function.

A user's mistake (unknown database, bad value, unwritable folder, ...) prints one line starting with
"error:" and exits with status 2; nothing half-written is left behind.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import Interrupted, UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Formula-driven supervised learning datasets, rendered fast.")

def _path(value: str) -> Path:
    """An output path as typed: an empty one is an error (Path("") would be the current folder)."""
    if not str(value).strip():
        raise typer.BadParameter("an empty path; give a file or folder name")
    return Path(value)


JsonOption = typer.Option("--json", help="write the results as JSON", parser=_path)
Db = Annotated[str, typer.Option("--db", help="database key or paper spelling (fdsl-gen list)")]
Categories = Annotated[Optional[int], typer.Option("--categories", "-n", "--numof_classes",
                                                   help="number of categories (default 1000, or all of --table)")]
Seed = Annotated[Optional[int], typer.Option("--seed", help="seed of our draws (patches, native search)")]
Search = Annotated[Optional[str], typer.Option("--search", help="published (the original's table) | native")]
Size = Annotated[Optional[int], typer.Option("--size", help="native canvas side in pixels")]
Points = Annotated[Optional[int], typer.Option("--points", help="chaos-game points per image")]
DrawType = Annotated[Optional[str], typer.Option("--draw-type",
                                                 help="point_gray | patch_gray | point_color | patch_color")]
Instances = Annotated[Optional[int], typer.Option("--instances", "--numof_instances",
                                                  help="instances per category (first ids)")]
Table = Annotated[Optional[str], typer.Option("--table", help="render this category table (file or folder)")]
Backend = Annotated[str, typer.Option("--backend", help="auto | cuda | numba | ref")]
EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}
EXTRA_HELP = "Any option of the database's config also works as --name VALUE (fdsl-gen list shows them)."


def _user_errors(fn):
    """Turn a UsageError into one line on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UsageError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper


def _database(db: str, extra: list[str], **options):
    """The database with the command's own options and the database-specific ones left in `extra`."""
    from .options import parse_options
    from .registry import database_class

    cls = database_class(db)
    given = {k: v for k, v in options.items() if v is not None}
    return cls.from_options(**{**parse_options(cls, extra), **given})


def _write_json(path: Path, document) -> None:
    """The --json file of a command (indented, one trailing newline), and a line saying so."""
    path.write_text(json.dumps(document, indent=2) + "\n")
    typer.echo(f"wrote {path}")


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"fdsl-gen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                 help="print the version and exit")] = False) -> None:
    """Formula-driven supervised learning datasets, rendered fast."""


@app.command("list")
@_user_errors
def list_cmd():
    """Databases, their defaults, and the backends that run here (and why the others do not)."""
    from .backends import BACKENDS, unavailable_reason
    from .registry import database_class, list_databases

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

    from .export.disk import check_writable

    database = _database(db, ctx.args, categories=categories, search=search, seed=seed)
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
    from .export.writer import ExportOptions, export

    database = _database(db, ctx.args, categories=categories, instances=instances, size=size, seed=seed,
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
            categories: Annotated[int, typer.Option("--categories", "-n", help="cells (first categories)")] = 16,
            instance: Annotated[int, typer.Option("--instance", help="instance drawn per category")] = 0,
            size: Size = None, seed: Seed = None, search: Search = None, draw_type: DrawType = None,
            points: Points = None, table: Table = None, backend: Backend = "auto",
            columns: Annotated[Optional[int], typer.Option("--columns", help="cells per row")] = None,
            no_labels: Annotated[bool, typer.Option("--no-labels", help="no category ids on the cells")] = False,
            cell: Annotated[Optional[int], typer.Option("--cell", help="resize each cell to this side")] = None):
    """A grid of the first categories, one cell each, labelled with its category id, as one PNG."""
    from PIL import Image

    from .export.atomic import atomic_write_bytes
    from .preview import MAX_CELLS, grid, shrink

    if not 1 <= categories <= MAX_CELLS:
        raise UsageError(f"preview shows 1 to {MAX_CELLS} categories, got {categories}")
    if columns is not None and columns < 1:
        raise UsageError(f"--columns must be at least 1, got {columns}")
    if cell is not None and not 16 <= cell <= 1024:
        raise UsageError(f"--cell must be between 16 and 1024 pixels, got {cell}")
    database = _database(db, ctx.args, categories=categories, size=size, seed=seed, search=search,
                         draw_type=draw_type, points=points, table=table)
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
    from .bench import run_bench

    if model:
        from .bench import run_model

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
    from . import selfcheck
    from .registry import database_class, list_databases

    keys = list_databases() if db == "all" else [database_class(db).key]
    if ptx is not None and ptx.exists() and not ptx.is_dir():
        raise UsageError(f"--ptx needs a folder, got the file {ptx}")
    if ptx is not None:  # before the renders: a missing NVRTC is known at once
        from .backends import ptx as ptx_module

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


# -- train: pre-training on the stream, fine-tuning and evaluation on real images ----------------------------

train_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                        rich_markup_mode=None, help="Pre-train a ViT on the stream; fine-tune and evaluate it.")
app.add_typer(train_app, name="train")

RunOut = Annotated[Path, typer.Option("--out", help="run folder: checkpoint, train state, log.jsonl, curves.png",
                                      parser=_path)]
Model = Annotated[Optional[str], typer.Option("--model", help="vit_micro | vit_lite | vit_tiny | vit_small | vit_base "
                                                   "(default: the preset's, or vit_lite)")]
ImageSize = Annotated[Optional[int], typer.Option("--image-size", help="training side in pixels (default: model's)")]
Batch = Annotated[Optional[int], typer.Option("--batch", help="images per step per rank (default: pretrain 256, "
                                                                "finetune 128)")]
Lr = Annotated[Optional[float], typer.Option("--lr", help="peak learning rate (default 1e-3; pretrain: per 256 "
                                                         "images (fast) or 1,024 (paper), scaled by --batch)")]
MinLr = Annotated[Optional[float], typer.Option("--min-lr", help="learning rate at the end of the cosine")]
Wd = Annotated[Optional[float], typer.Option("--weight-decay", help="AdamW weight decay")]
WarmupEpochs = Annotated[Optional[float], typer.Option("--warmup-epochs", help="warm-up length in epochs")]
DropPath = Annotated[Optional[float], typer.Option("--drop-path", help="stochastic depth rate")]
Mixup = Annotated[Optional[float], typer.Option("--mixup", help="mixup alpha (0: off)")]
Cutmix = Annotated[Optional[float], typer.Option("--cutmix", help="cutmix alpha (0: off)")]
Smoothing = Annotated[Optional[float], typer.Option("--smoothing", help="label smoothing")]
TrainSeed = Annotated[int, typer.Option("--seed", help="seed of the weights, the data order and the draws")]
Device = Annotated[Optional[str], typer.Option("--device", help="cuda | cpu (default: cuda if present)")]
Precision = Annotated[str, typer.Option("--precision", help="auto (bf16 on CUDA) | bf16 | fp16 | fp32")]
Compile = Annotated[bool, typer.Option("--compile", help="torch.compile the model")]
Workers = Annotated[int, typer.Option("--workers", help="DataLoader worker processes")]
LogEvery = Annotated[int, typer.Option("--log-every", help="steps per log record")]
CkptEvery = Annotated[int, typer.Option("--ckpt-every", help="steps between checkpoints")]
Resume = Annotated[bool, typer.Option("--resume", help="continue the run in --out from its checkpoint")]
StopAt = Annotated[Optional[int], typer.Option("--stop-at", help="save and stop after this step (then --resume)")]
Quiet = Annotated[bool, typer.Option("--quiet", help="no progress bar")]
DataArg = Annotated[str, typer.Option("--data", help="fashion-mnist | an ImageFolder directory")]
DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Fashion-MNIST's folder (or FDSL_FASHION_MNIST)")]


def _run_config(out, seed, device, precision, compile, workers, log_every, ckpt_every, resume, stop_at, quiet):
    from .train.config import RunConfig

    return RunConfig(out=str(out), seed=seed, device=device, precision=precision, compile=compile, workers=workers,
                     log_every=log_every, ckpt_every=ckpt_every, resume=resume, stop_at=stop_at, progress=not quiet)


def _canvas(value: str | None):
    """--canvas: None (the preset's), "auto", "none" (the database's own canvas) or a side in pixels."""
    if value in (None, "auto", "none"):
        return value
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"--canvas must be auto, none or a side in pixels, got {value!r}") from None


@train_app.command("pretrain", context_settings=EXTRA, epilog=EXTRA_HELP)
@_user_errors
def train_pretrain(
        ctx: typer.Context, out: RunOut, db: Annotated[str, typer.Option("--db", help="database key")] = "ofdb",
        categories: Categories = None, model: Model = None,
        objective: Annotated[str, typer.Option("--objective", help="supervised | mae")] = "supervised",
        preset: Annotated[str, typer.Option("--preset", help="fast (vit_lite, 32 px) | paper (DeiT, 224)")] = "fast",
        steps: Annotated[Optional[int], typer.Option("--steps", help="optimizer steps (fast: 2000; "
                                                                                    "paper: 300 epochs)")] = None,
        epochs: Annotated[Optional[float], typer.Option("--epochs", help="epochs of the stream (instead of steps)")]
        = None, batch: Batch = None, image_size: ImageSize = None,
        augment: Annotated[Optional[str], typer.Option("--augment", help="stream preset: auto (small up to 64 px, "
                                                       "else ofdb) | small | ofdb | deit | none")] = None,
        canvas: Annotated[Optional[str], typer.Option("--canvas", help="render canvas: auto (2x a small image side "
                                                      "where the database allows) | none (its own) | pixels")] = None,
        repeats: Annotated[Optional[int], typer.Option("--repeats", help="repeated augmentation")] = None,
        lr: Lr = None, lr_batch: Annotated[Optional[int], typer.Option("--lr-batch", help="global batch the lr is "
                                                                       "quoted for (0: no scaling)")] = None,
        min_lr: MinLr = None, weight_decay: Wd = None,
        warmup: Annotated[Optional[int], typer.Option("--warmup", help="warm-up steps")] = None,
        warmup_epochs: WarmupEpochs = None, drop_path: DropPath = None, mixup: Mixup = None, cutmix: Cutmix = None,
        smoothing: Smoothing = None,
        mask_ratio: Annotated[Optional[float], typer.Option("--mask-ratio", help="MAE mask ratio")] = None,
        seed: TrainSeed = 0, device: Device = None, precision: Precision = "auto", compile: Compile = False,
        workers: Workers = 0, log_every: LogEvery = 10, ckpt_every: CkptEvery = 1000, resume: Resume = False,
        stop_at: StopAt = None, quiet: Quiet = False):
    """Pre-train on the FDSL stream (supervised categories or MAE); database options pass through."""
    from .options import parse_options
    from .registry import database_class
    from .train.config import pretrain_config
    from .train.pretrain import pretrain

    run = _run_config(out, seed, device, precision, compile, workers, log_every, ckpt_every, resume, stop_at, quiet)
    if warmup is not None and warmup_epochs is None:
        warmup_epochs = 0.0  # explicit steps replace the preset's epochs
    cfg = pretrain_config(
        preset, run, db=database_class(db).key, categories=categories, db_options=parse_options(database_class(db),
                                                                                             ctx.args),
        model=model, image_size=image_size, objective=objective, steps=steps, epochs=epochs, batch_size=batch,
        augment=augment, canvas=_canvas(canvas), repeats=repeats, drop_path=drop_path,
        optim=dict(lr=lr, lr_batch=lr_batch, min_lr=min_lr, weight_decay=weight_decay, warmup_steps=warmup,
                   warmup_epochs=warmup_epochs),
        mix=dict(mixup=mixup, cutmix=cutmix, smoothing=smoothing), mae=dict(mask_ratio=mask_ratio))
    pretrain(cfg, echo=typer.echo)


@train_app.command("finetune")
@_user_errors
def train_finetune(
        out: RunOut, data: DataArg = "fashion-mnist", data_dir: DataDir = None,
        init: Annotated[Optional[Path], typer.Option("--init", help="pre-trained checkpoint (none: scratch)")] = None,
        subset: Annotated[Optional[int], typer.Option("--subset", help="training images per class")] = None,
        model: Model = None, image_size: ImageSize = None,
        epochs: Annotated[Optional[int], typer.Option("--epochs", help="epochs over the training set")] = None,
        batch: Batch = None, lr: Lr = None, min_lr: MinLr = None, weight_decay: Wd = None,
        warmup_epochs: WarmupEpochs = None, drop_path: DropPath = None, mixup: Mixup = None, cutmix: Cutmix = None,
        smoothing: Smoothing = None,
        eval_every: Annotated[Optional[int], typer.Option("--eval-every", help="epochs between evaluations")] = None,
        seed: TrainSeed = 0, device: Device = None, precision: Precision = "auto", compile: Compile = False,
        workers: Workers = 0, log_every: LogEvery = 10, ckpt_every: CkptEvery = 1000, resume: Resume = False,
        stop_at: StopAt = None, quiet: Quiet = False):
    """Fine-tune a checkpoint (or train from scratch) on Fashion-MNIST or an ImageFolder, with test accuracy."""
    from .train.config import finetune_config
    from .train.finetune import finetune

    run = _run_config(out, seed, device, precision, compile, workers, log_every, ckpt_every, resume, stop_at, quiet)
    cfg = finetune_config(
        run, data=data, data_dir=None if data_dir is None else str(data_dir), init=None if init is None else str(init),
        subset=subset, model=model, image_size=image_size, epochs=epochs, batch_size=batch, drop_path=drop_path,
        eval_every=eval_every, optim=dict(lr=lr, min_lr=min_lr, weight_decay=weight_decay, warmup_epochs=warmup_epochs),
        mix=dict(mixup=mixup, cutmix=cutmix, smoothing=smoothing))
    finetune(cfg, echo=typer.echo)


@train_app.command("eval")
@_user_errors
def train_eval(
        ckpt: Annotated[Path, typer.Option("--ckpt", help="fine-tuned checkpoint (.safetensors or run folder)")],
        data: DataArg = "fashion-mnist", data_dir: DataDir = None, model: Model = None, batch: Batch = None,
        device: Device = None, precision: Precision = "auto", workers: Workers = 0,
        json_out: Annotated[Optional[Path], JsonOption] = None):
    """Top-1 accuracy of a fine-tuned checkpoint on the test split."""
    from .train.config import EvalConfig
    from .train.finetune import evaluate

    cfg = EvalConfig(ckpt=str(ckpt), data=data, data_dir=None if data_dir is None else str(data_dir), model=model,
                     device=device, precision=precision, workers=workers, **({"batch_size": batch} if batch else {}))
    if json_out is not None and not json_out.parent.is_dir():
        raise UsageError(f"folder {json_out.parent} does not exist")
    result = evaluate(cfg, echo=typer.echo)
    if json_out is not None:
        _write_json(json_out, {**result, "ckpt": str(ckpt), "data": data})


def main() -> None:
    """Console entry point: command-line parsing errors also become one line and exit status 2."""
    try:
        code = app(standalone_mode=False)
    except Exception as exc:
        # typer's (vendored) click raises UsageError subclasses with exit_code 2 for bad options/values.
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `fdsl-gen`: the help text, not an error
            typer.echo(exc.format_message())
            sys.exit(0)
        if getattr(exc, "exit_code", None) == 2 and hasattr(exc, "format_message"):
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(2)
        if type(exc).__name__ == "Abort":
            typer.echo("interrupted", err=True)
            sys.exit(130)
        if isinstance(exc, Interrupted):
            typer.echo(str(exc), err=True)
            sys.exit(130)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
