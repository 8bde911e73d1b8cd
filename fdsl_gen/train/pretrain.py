"""Pre-training on an FDSLStream: `pretrain_supervised` (category classification) and `pretrain_mae`.

Both run the same step loop (`_train_on_stream`, facebookresearch/mae's `train_one_epoch` shape): per
step the learning rate from the schedule, the objective's loss under autocast, backward, AdamW; a JSONL
record every `log_every` steps, a checkpoint every `ckpt_every` steps and at the end. Every random draw
of a step is keyed by (seed, rank, step) or restored from the checkpoint, so a resumed run continues
exactly where the saved one was.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from .. import __version__
from ..errors import UsageError
from . import checkpoint, runtime
from .config import PretrainConfig
from .logs import RunLog, finish
from .mae import MaskedAutoencoder
from .mixup import mix_batch, soft_target_cross_entropy, step_rng
from .vit import VisionTransformer, make_config


def pretrain(cfg: PretrainConfig, echo=print) -> dict:
    """Pre-train with the config's objective; returns the last record (step, loss, ...)."""
    return (pretrain_mae if cfg.objective == "mae" else pretrain_supervised)(cfg, echo)


def pretrain_supervised(cfg: PretrainConfig, echo=print) -> dict:
    """Category classification: mixup/cutmix on the device, soft-target (or smoothed) cross-entropy."""

    def build(stream, image_size):
        return VisionTransformer(make_config(cfg.model, num_classes=stream.db.n_categories, img_size=image_size,
                                             drop_path_rate=cfg.drop_path))

    def step_loss(net, images, labels, step, rt):
        n_classes = cfg.categories
        if cfg.mix.active:
            images, targets, _ = mix_batch(images, labels, n_classes, cfg.mix, step_rng(cfg.run.seed, rt.rank, step))
        with rt.autocast():
            logits = net(images)  # [B, K]
        if cfg.mix.active:
            loss = soft_target_cross_entropy(logits, targets)
            hits = logits.argmax(-1) == targets.argmax(-1)  # the dominant label of a mixed image
        else:
            loss = F.cross_entropy(logits.float(), labels, label_smoothing=cfg.mix.smoothing)
            hits = logits.argmax(-1) == labels
        return loss, hits.float().mean()

    return _train_on_stream(cfg, build, step_loss, echo)


def pretrain_mae(cfg: PretrainConfig, echo=print) -> dict:
    """Masked autoencoding (Tan 2024): the encoder sees 25 % of the patches, the decoder predicts all."""

    def build(stream, image_size):
        return MaskedAutoencoder(make_config(cfg.model, img_size=image_size, drop_path_rate=cfg.drop_path), cfg.mae)

    def step_loss(net, images, labels, step, rt):
        masks = torch.Generator(device=rt.device).manual_seed(
            ((cfg.run.seed * 1_000_003 + rt.rank) * 1_000_003 + step) % 2**63)
        with rt.autocast():
            loss, _, _ = net(images, masks)
        return loss, None

    return _train_on_stream(cfg, build, step_loss, echo)


def make_stream(cfg: PretrainConfig, rt: runtime.Runtime, image_size: int):
    from ..stream import FDSLStream

    augment = {"preset": cfg.augment}
    if cfg.objective == "mae":  # MAE's pipeline: crops and flips, no RandAugment or erasing on the targets
        augment.update(randaugment=0, reprob=0.0)
    elif rt.precision == "bf16":  # the model casts its input to bf16 anyway: half the bytes to move
        augment["dtype"] = "bfloat16"
    return FDSLStream(cfg.db, categories=cfg.categories, batch_size=cfg.batch_size, image_size=image_size,
                      augment=augment, device=rt.device.type, seed=cfg.run.seed, rank=rt.rank,
                      world_size=rt.world_size, repeats=cfg.repeats, canvas=stream_canvas(cfg, image_size),
                      **cfg.db_options)


def stream_canvas(cfg: PretrainConfig, image_size: int) -> int | None:
    """The stream's canvas: "auto" is twice a small training side where the database has a smaller canvas
    (and no size or points were given), else the database's own."""
    if cfg.canvas != "auto":
        return None if cfg.canvas == "none" else cfg.canvas
    from ..augment.config import SMALL_SIZE
    from ..registry import database_class

    db = database_class(cfg.db)
    if image_size > SMALL_SIZE or {"size", "points"} & set(cfg.db_options):
        return None
    try:
        db.canvas_options(2 * image_size)
    except UsageError:
        return None
    return 2 * image_size


def _train_on_stream(cfg: PretrainConfig, build, step_loss, echo) -> dict:
    run, out = cfg.run, Path(cfg.run.out)
    checkpoint.check_run_folder(out, run.resume)
    rt = runtime.start(run)
    try:
        image_size = cfg.image_size or make_config(cfg.model).img_size
        stream = make_stream(cfg, rt, image_size)
        torch.manual_seed(run.seed)  # the same initial weights on every rank
        model = build(stream, image_size).to(rt.device)
        global_batch = cfg.batch_size * rt.world_size
        per_epoch = math.ceil(stream.db.n_categories * stream.db.n_instances / global_batch)
        total = cfg.steps or max(1, math.ceil(cfg.epochs * per_epoch))
        peak = runtime.peak_lr(cfg.optim, global_batch)
        warmup, warmup_note = runtime.warmup_steps(cfg.optim, per_epoch, total)
        opt, scaler = runtime.optimizer(model, cfg.optim), rt.scaler()
        meta = {"model": dataclasses.asdict(model.cfg), "objective": cfg.objective, "step": 0,
                "num_classes": model.cfg.num_classes, "image_size": image_size,
                "normalize": {"mean": list(stream.augment.mean), "std": list(stream.augment.std)},
                "mae": dataclasses.asdict(cfg.mae) if cfg.objective == "mae" else None,
                "database": stream.db.describe(), "config": dataclasses.asdict(cfg), "fdsl_gen": __version__}
        step = _resume(out, meta, model, opt, scaler, stream, rt, run.seed) if run.resume else 0
        if not run.resume:
            runtime.seed_rank(run.seed, rt.rank)
        if rt.main:
            out.mkdir(parents=True, exist_ok=True)
        net = runtime.wrap(model, rt, run.compile)
        stop = min(total, run.stop_at or total)
        log = RunLog(out, rt.main, total, step, f"pretrain {cfg.objective}", run.progress, echo)
        log.message(f"pre-training {cfg.model} ({sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params) "
                    f"on {stream.db.key}, {stream.db.n_categories} categories, {image_size} px, {rt.device}, "
                    f"{rt.precision}, {rt.world_size} rank(s), global batch {global_batch}, steps {step}->{stop}")
        log.message(f"stream: {stream.db.image_shape[-1]}² renders, augmentation {stream.augment_name}")
        if warmup_note:
            log.message(warmup_note)
        # with workers, a DataLoader of its own generator: the global one is drop-path's (restored on resume)
        loader = stream.loader(num_workers=run.workers, **({"generator": torch.Generator()} if run.workers else {}))
        model.train()
        last, meter = {}, runtime.Meter()
        with runtime.StopSignals() as signals:
            while step < stop:
                for images, labels in loader:
                    lr = runtime.lr_at(step, total, warmup, peak, cfg.optim.min_lr)
                    runtime.set_lr(opt, lr)
                    loss, acc = step_loss(net, images, labels, step, rt)
                    runtime.optimizer_step(opt, scaler, loss)
                    step += 1
                    meter.add(loss, acc if acc is not None else loss, images.shape[0])
                    log.advance()
                    if step % run.log_every == 0 or step == stop:
                        mean_loss, mean_acc, rate = meter.read(rt)
                        last = {"step": step, "epoch": stream.epoch, "loss": mean_loss, "lr": lr,
                                "acc": mean_acc if acc is not None else None, "img_s": rate}
                        log.record(**last)
                    save = lambda: _save(out, model, {**meta, "step": step}, opt, scaler, stream, rt)  # noqa: E731
                    if signals.end_step(step, stop, total, rt, run, out, save):
                        break
        finish(log, out, rt.main, step, total, checkpoint.MODEL_FILE, echo)
        runtime.barrier(rt)  # a clean exit only: a failed rank must not wait here for the others
        return last
    finally:
        runtime.stop(rt)


def _save(out, model, meta, opt, scaler, stream, rt) -> None:
    rng = runtime.rng_states(rt)  # a collective: every rank takes part
    if rt.main:
        state = {"step": meta["step"], "optimizer": opt.state_dict(), "scaler": scaler.state_dict(),
                 "stream": stream.state_dict(), "rng": rng}
        checkpoint.save(out, model, meta, state)


def _resume(out, meta, model, opt, scaler, stream, rt, seed) -> int:
    """Load the run folder's model, optimizer, scaler, stream position and generators; returns the step."""
    state, saved = checkpoint.load(out)
    for key in ("objective", "model", "image_size"):
        if saved.get(key) != meta[key]:
            raise UsageError(f"cannot resume {out}: its {key} is {saved.get(key)}, this run's {meta[key]}")
    train_state = checkpoint.load_train_state(out, saved)
    model.load_state_dict(state)
    opt.load_state_dict(train_state["optimizer"])
    scaler.load_state_dict(train_state["scaler"])
    stream.load_state_dict(train_state["stream"])
    runtime.restore_rng(train_state["rng"], rt, seed, train_state["step"])
    return int(train_state["step"])
