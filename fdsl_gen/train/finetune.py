"""Fine-tuning on a real image set (`finetune`) and test-set evaluation (`evaluate`, `evaluate_model`).

`finetune` starts from a pre-trained checkpoint (head and MAE decoder dropped, position embedding
resampled to the new grid) or from scratch, trains by epochs with a per-step warm-up + cosine schedule,
evaluates on the test split every `eval_every` epochs and saves a resumable checkpoint every epoch (and
every `ckpt_every` steps): an epoch's order and every step's augmentation are keyed by the seed, the
epoch and the step, so a resumed run skips what was done and draws what the saved run would have drawn.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import __version__
from ..errors import UsageError
from . import checkpoint, data, runtime
from .config import EvalConfig, FinetuneConfig
from .logs import RunLog, finish
from .mixup import mix_batch, soft_target_cross_entropy, step_rng
from .vit import VisionTransformer, make_config


def _step_generator(seed: int, rank: int, step: int, device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(((seed * 1_000_003 + rank) * 1_000_003 + step) % 2**63)


def finetune(cfg: FinetuneConfig, echo=print) -> dict:
    """Fine-tune and evaluate; returns the last test record (test_acc, test_loss, ...) or the last train one."""
    run, out = cfg.run, Path(cfg.run.out)
    checkpoint.check_run_folder(out, run.resume)
    init_state, init_meta = checkpoint.load(cfg.init) if cfg.init else (None, None)
    base = checkpoint.model_config(init_meta, cfg.model) if cfg.init else make_config(cfg.model or "vit_lite")
    image_size = cfg.image_size or base.img_size
    norm = (init_meta or {}).get("normalize") or {"mean": [0.5] * base.in_chans, "std": [0.5] * base.in_chans}
    train = data.load_split(cfg.data, "train", image_size, cfg.data_dir)
    test = data.load_split(cfg.data, "test", image_size, cfg.data_dir, classes=train.classes)
    indices = (data.subset_per_class(train.labels, cfg.subset, run.seed) if cfg.subset
               else np.arange(len(train)))
    rt = runtime.start(run)
    try:
        torch.manual_seed(run.seed)
        model = VisionTransformer(dataclasses.replace(base, num_classes=len(train.classes), img_size=image_size,
                                                      drop_path_rate=cfg.drop_path))
        if init_state is not None:
            checkpoint.load_pretrained(model, init_state)
        model.to(rt.device)
        per_epoch = math.ceil(len(indices) / (cfg.batch_size * rt.world_size))
        total = cfg.epochs * per_epoch
        peak = runtime.peak_lr(cfg.optim, cfg.batch_size * rt.world_size)
        warmup, warmup_note = runtime.warmup_steps(cfg.optim, per_epoch, total)
        opt, scaler = runtime.optimizer(model, cfg.optim), rt.scaler()
        meta = {"model": dataclasses.asdict(model.cfg), "objective": "finetune", "step": 0,
                "num_classes": len(train.classes), "classes": list(train.classes), "image_size": image_size,
                "normalize": norm, "init": cfg.init, "data": cfg.data, "train_images": len(indices),
                "config": dataclasses.asdict(cfg), "fdsl_gen": __version__}
        step = _resume(out, meta, model, opt, scaler, rt, run.seed) if run.resume else 0
        if not run.resume:
            runtime.seed_rank(run.seed, rt.rank)
        if rt.main:
            out.mkdir(parents=True, exist_ok=True)
        net = runtime.wrap(model, rt, run.compile)
        stop = min(total, run.stop_at or total)
        log = RunLog(out, rt.main, total, step, "finetune", run.progress, echo)
        log.message(f"fine-tuning {'from ' + str(cfg.init) if cfg.init else 'from scratch'}: "
                    f"{len(indices)} training images of {len(train.classes)} classes ({cfg.data}), "
                    f"{'no test split' if test is None else f'{len(test)} test images'}, {image_size} px, "
                    f"{rt.device}, {rt.precision}, {cfg.epochs} epochs x {per_epoch} steps")
        if warmup_note:
            log.message(warmup_note)
        last, meter = {}, runtime.Meter()
        with runtime.StopSignals() as signals:
            first_epoch, skip = divmod(step, per_epoch)
            for epoch in range(first_epoch, cfg.epochs):
                if step >= stop:
                    break
                model.train()
                order = data.shard(indices, run.seed, epoch, rt.rank, rt.world_size, shuffle=True)
                if epoch == first_epoch:
                    order = order[skip * cfg.batch_size:]  # what the saved run already trained on
                for images, labels in data.batches(train, order, cfg.batch_size, run.workers):
                    lr = runtime.lr_at(step, total, warmup, peak, cfg.optim.min_lr)
                    runtime.set_lr(opt, lr)
                    x = data.prepare(images, image_size, model.cfg.in_chans, norm["mean"], norm["std"], rt.device,
                                     _step_generator(run.seed, rt.rank, step, rt.device))
                    y = labels.to(rt.device, non_blocking=True)
                    if cfg.mix.active:
                        x, targets, _ = mix_batch(x, y, len(train.classes), cfg.mix, step_rng(run.seed, rt.rank, step))
                    with rt.autocast():
                        logits = net(x)
                    if cfg.mix.active:
                        loss = soft_target_cross_entropy(logits, targets)
                        hits = logits.argmax(-1) == targets.argmax(-1)
                    else:
                        loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.mix.smoothing)
                        hits = logits.argmax(-1) == y
                    runtime.optimizer_step(opt, scaler, loss)
                    step += 1
                    meter.add(loss, hits.float().mean(), x.shape[0])
                    log.advance()
                    epoch_end = step % per_epoch == 0
                    if step % run.log_every == 0 or step == stop or epoch_end:
                        mean_loss, mean_acc, rate = meter.read(rt)
                        last = {"step": step, "epoch": epoch, "loss": mean_loss, "lr": lr, "acc": mean_acc,
                                "img_s": rate}
                        log.record(**last)
                    evaluate_now = (epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs
                    if epoch_end and test is not None and evaluate_now:
                        result = evaluate_model(model, test, rt, image_size, norm, cfg.batch_size, run.workers)
                        last = {"step": step, "epoch": epoch + 1, **result}
                        log.record(**last)
                        log.message(f"epoch {epoch + 1}: test accuracy {result['test_acc']:.4f}")
                        meter.restart_clock()  # the evaluation is not training time
                    save = lambda: _save(out, model, {**meta, "step": step, **_test_fields(last)}, opt,  # noqa: E731
                                         scaler, rt)
                    if signals.end_step(step, stop, total, rt, run, out, save, due=epoch_end):
                        break
        finish(log, out, rt.main, step, total, checkpoint.MODEL_FILE, echo)
        runtime.barrier(rt)  # a clean exit only: a failed rank must not wait here for the others
        return last
    finally:
        runtime.stop(rt)


def _test_fields(record: dict) -> dict:
    return {k: record[k] for k in ("test_acc", "test_loss") if k in record}


def _save(out, model, meta, opt, scaler, rt) -> None:
    rng = runtime.rng_states(rt)  # a collective: every rank takes part
    if rt.main:
        state = {"step": meta["step"], "optimizer": opt.state_dict(), "scaler": scaler.state_dict(), "rng": rng}
        checkpoint.save(out, model, meta, state)


def _resume(out, meta, model, opt, scaler, rt, seed) -> int:
    state, saved = checkpoint.load(out)
    for key in ("model", "classes", "image_size", "train_images"):
        if saved.get(key) != meta[key]:
            raise UsageError(f"cannot resume {out}: its {key} is {saved.get(key)}, this run's {meta[key]}")
    train_state = checkpoint.load_train_state(out, saved)
    model.load_state_dict(state)
    opt.load_state_dict(train_state["optimizer"])
    scaler.load_state_dict(train_state["scaler"])
    runtime.restore_rng(train_state["rng"], rt, seed, train_state["step"])
    return int(train_state["step"])


@torch.no_grad()
def evaluate_model(model: VisionTransformer, dataset, rt: runtime.Runtime, image_size: int, norm: dict,
                   batch_size: int, workers: int = 0) -> dict:
    """{"test_loss", "test_acc", "test_images"} over the whole set, each rank taking every world-th image."""
    was_training = model.training
    model.eval()
    indices = data.shard(np.arange(len(dataset)), 0, 0, rt.rank, rt.world_size, shuffle=False)
    totals = torch.zeros(3, dtype=torch.float64, device=rt.device)  # loss sum, hits, images
    for images, labels in data.batches(dataset, indices, batch_size, workers):
        x = data.prepare(images, image_size, model.cfg.in_chans, norm["mean"], norm["std"], rt.device)
        y = labels.to(rt.device, non_blocking=True)
        with rt.autocast():
            logits = model(x).float()
        totals += torch.stack([F.cross_entropy(logits, y, reduction="sum").double(),
                               (logits.argmax(-1) == y).sum().double(), torch.tensor(len(y), device=rt.device,
                                                                                     dtype=torch.float64)])
    if rt.distributed:
        torch.distributed.all_reduce(totals)
    model.train(was_training)
    loss, hits, n = totals.tolist()
    return {"test_loss": loss / max(n, 1), "test_acc": hits / max(n, 1), "test_images": int(n)}


def evaluate(cfg: EvalConfig, echo=print) -> dict:
    """Load a fine-tuned checkpoint and measure it on the data's test split."""
    state, meta = checkpoint.load(cfg.ckpt)
    model_cfg = checkpoint.model_config(meta, cfg.model)
    if not model_cfg.num_classes:
        raise UsageError(f"{cfg.ckpt} has no classification head (a pre-trained encoder): fine-tune it first")
    norm = (meta or {}).get("normalize") or {"mean": [0.5] * model_cfg.in_chans, "std": [0.5] * model_cfg.in_chans}
    classes = tuple(meta["classes"]) if meta and meta.get("classes") else None
    test = data.load_split(cfg.data, "test", model_cfg.img_size, cfg.data_dir, classes=classes, root_is_test=True)
    if test is None:
        raise UsageError(f"{cfg.data} has no test split (val/ or test/)")
    if len(test.classes) != model_cfg.num_classes:
        raise UsageError(f"{cfg.data} has {len(test.classes)} classes, the checkpoint {model_cfg.num_classes}")
    rt = runtime.start(cfg.run_config())
    try:
        model = VisionTransformer(model_cfg)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:  # a bare file named with the wrong --model
            why = str(exc).strip().splitlines()[-1].strip()
            raise UsageError(f"{cfg.ckpt} does not fit {model_cfg}: {why}") from None
        model.to(rt.device)
        result = evaluate_model(model, test, rt, model_cfg.img_size, norm, cfg.batch_size, cfg.workers)
        if rt.main:
            echo(f"{cfg.ckpt} on {cfg.data}: top-1 accuracy {result['test_acc']:.4f}, loss "
                 f"{result['test_loss']:.4f} ({result['test_images']} images)")
        return result
    finally:
        runtime.stop(rt)
