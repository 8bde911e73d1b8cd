"""`fdsl-gen train`: pre-training on the stream, fine-tuning and evaluation on real images."""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .common import EXTRA, EXTRA_HELP, Categories, JsonOption, _path, _user_errors, _write_json, app

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
                                                         "images, scaled by --batch (fast); unscaled (paper))")]
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


RUN_OPTIONS = {"seed": (TrainSeed, 0), "device": (Device, None), "precision": (Precision, "auto"),
               "compile": (Compile, False), "workers": (Workers, 0), "log_every": (LogEvery, 10),
               "ckpt_every": (CkptEvery, 1000), "resume": (Resume, False), "stop_at": (StopAt, None),
               "quiet": (Quiet, False)}  # the options of every training run: (type, default)


def run_options(fn):
    """Give a training command the shared run options (RUN_OPTIONS); it receives them, with its --out, as one
    RunConfig `run`."""
    signature = inspect.signature(fn, eval_str=True)
    own = [p for name, p in signature.parameters.items() if name != "run"]
    shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind)
              for name, (kind, default) in RUN_OPTIONS.items()]

    @functools.wraps(fn)
    def command(*args, **kwargs):
        from ..train.config import RunConfig

        given = {name: kwargs.pop(name) for name in RUN_OPTIONS}
        quiet = given.pop("quiet")
        return fn(*args, run=RunConfig(out=str(kwargs["out"]), progress=not quiet, **given), **kwargs)

    del command.__wrapped__  # typer reads the signature below, not fn's
    command.__signature__ = signature.replace(parameters=own + shared)
    command.__annotations__ = {p.name: p.annotation for p in own + shared}
    return command


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
@run_options
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
        *, run):
    """Pre-train on the FDSL stream (supervised categories or MAE); database options pass through."""
    from ..options import database_options
    from ..registry import database_class
    from ..train.config import pretrain_config
    from ..train.pretrain import pretrain

    if warmup is not None and warmup_epochs is None:
        warmup_epochs = 0.0  # explicit steps replace the preset's epochs
    cls = database_class(db)
    db_options = database_options(cls, {"categories": categories}, ctx.args, ctx.params)
    cfg = pretrain_config(
        preset, run, db=cls.key, categories=db_options.pop("categories", None), db_options=db_options,
        model=model, image_size=image_size, objective=objective, steps=steps, epochs=epochs, batch_size=batch,
        augment=augment, canvas=_canvas(canvas), repeats=repeats, drop_path=drop_path,
        optim=dict(lr=lr, lr_batch=lr_batch, min_lr=min_lr, weight_decay=weight_decay, warmup_steps=warmup,
                   warmup_epochs=warmup_epochs),
        mix=dict(mixup=mixup, cutmix=cutmix, smoothing=smoothing), mae=dict(mask_ratio=mask_ratio))
    pretrain(cfg, echo=typer.echo)


@train_app.command("finetune")
@_user_errors
@run_options
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
        *, run):
    """Fine-tune a checkpoint (or train from scratch) on Fashion-MNIST or an ImageFolder, with test accuracy."""
    from ..train.config import finetune_config
    from ..train.finetune import finetune

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
    from ..train.config import EvalConfig
    from ..train.finetune import evaluate

    cfg = EvalConfig(ckpt=str(ckpt), data=data, data_dir=None if data_dir is None else str(data_dir), model=model,
                     device=device, precision=precision, workers=workers, **({"batch_size": batch} if batch else {}))
    if json_out is not None and not json_out.parent.is_dir():
        raise UsageError(f"folder {json_out.parent} does not exist")
    result = evaluate(cfg, echo=typer.echo)
    if json_out is not None:
        _write_json(json_out, {**result, "ckpt": str(ckpt), "data": data})
