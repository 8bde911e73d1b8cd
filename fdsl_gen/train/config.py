"""The trainer's configs (frozen dataclasses) and the pre-training presets `fast` and `paper`.

A config is complete and validated before anything is written: the CLI builds one from a preset plus the
options the user gave, and every training function takes exactly one config.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..errors import UsageError
from .vit import CONFIGS

OBJECTIVES = ("supervised", "mae")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with linear warm-up and a per-step cosine decay (timm's `cosine` with `t_in_epochs=False`)."""

    lr: float = 1e-3  # peak learning rate (scaled by global batch / lr_batch when lr_batch > 0)
    lr_batch: int = 0  # the global batch `lr` is quoted for (256 → lr × batch / 256); 0: lr as given
    min_lr: float = 1e-5  # the cosine's floor
    weight_decay: float = 0.05  # not applied to biases, norms, position embeddings and tokens
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 0  # linear warm-up from 0 ...
    warmup_epochs: float = 0.0  # ... or this many epochs of the training data (used when warmup_steps is 0)
    warmup_fraction: float = 0.0  # ... or this fraction of the run (used when both above are 0)
    warmup_cap: float = 0.25  # the warm-up never takes more than this fraction of the run (logged when it binds)

    def __post_init__(self):
        if self.lr <= 0 or self.min_lr < 0 or self.weight_decay < 0 or self.lr_batch < 0:
            raise UsageError("lr must be > 0; min_lr, weight decay and lr_batch >= 0")
        if self.warmup_steps < 0 or self.warmup_epochs < 0:
            raise UsageError("warm-up must be >= 0")
        if not 0.0 <= self.warmup_fraction <= self.warmup_cap <= 1.0:
            raise UsageError(f"warm-up fraction must be in [0, cap {self.warmup_cap}] and the cap in [0, 1]")


@dataclass(frozen=True)
class MixConfig:
    """Batch-level mixup / cutmix with label smoothing (timm's Mixup, mode "batch"); alphas 0 turn them off."""

    mixup: float = 0.0  # Beta(α, α) of mixup
    cutmix: float = 0.0  # Beta(α, α) of cutmix
    prob: float = 1.0  # probability that a batch is mixed at all
    switch: float = 0.5  # probability of cutmix instead of mixup when both are on
    smoothing: float = 0.1  # label smoothing of the (soft) targets

    def __post_init__(self):
        if self.mixup < 0 or self.cutmix < 0:
            raise UsageError("mixup and cutmix alphas must be >= 0")
        for name in ("prob", "switch"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UsageError(f"mix {name} must be in [0, 1]")
        if not 0.0 <= self.smoothing < 1.0:
            raise UsageError(f"label smoothing must be in [0, 1), got {self.smoothing}")

    @property
    def active(self) -> bool:
        return self.prob > 0 and (self.mixup > 0 or self.cutmix > 0)


@dataclass(frozen=True)
class MAEConfig:
    """Tan 2024's MAE: mask 0.75, a small decoder with its own position embedding, a discounted visible term."""

    mask_ratio: float = 0.75
    decoder_dim: int = 128
    decoder_depth: int = 2
    decoder_heads: int = 4
    visible_weight: float = 0.1  # weight of the loss on visible patches (Tan: "discounted"; the value is ours)
    norm_pix: bool = True  # targets normalised per patch (MAE's norm_pix_loss)

    def __post_init__(self):
        if not 0.0 < self.mask_ratio < 1.0:
            raise UsageError(f"mask ratio must be in (0, 1), got {self.mask_ratio}")
        if self.decoder_dim % self.decoder_heads or self.decoder_depth < 1:
            raise UsageError("decoder_dim must be a multiple of decoder_heads, depth >= 1")


@dataclass(frozen=True)
class RunConfig:
    """How a run executes, whatever it trains."""

    out: str  # the run's folder: checkpoint, training state, log, plot
    seed: int = 0
    device: str | None = None  # cuda | cpu (default: cuda when there is one)
    precision: str = "auto"  # auto (bf16 autocast on CUDA, fp32 on the CPU) | bf16 | fp16 | fp32
    compile: bool = False  # torch.compile the model
    workers: int = 0  # DataLoader worker processes (CPU rendering / image decoding)
    log_every: int = 10  # steps per JSONL record
    ckpt_every: int = 1000  # steps (pre-training) between checkpoints; fine-tuning saves every epoch
    resume: bool = False  # continue from the checkpoint in `out`
    stop_at: int | None = None  # save and stop after this step (continue later with resume)
    progress: bool = True  # tqdm bar

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.device not in (None, "cpu", "cuda"):
            raise UsageError(f"device must be cpu or cuda, got {self.device!r}")
        if self.workers < 0 or self.log_every < 1 or self.ckpt_every < 1:
            raise UsageError("workers must be >= 0, log_every and ckpt_every >= 1")
        if self.stop_at is not None and self.stop_at < 1:
            raise UsageError("stop_at must be >= 1")


@dataclass(frozen=True)
class PretrainConfig:
    """Pre-training on an FDSLStream: supervised category classification or MAE."""

    run: RunConfig
    db: str = "ofdb"
    categories: int = 1000
    db_options: dict = field(default_factory=dict)  # the database's own options (size, points, ...)
    model: str = "vit_lite"
    image_size: int | None = None  # default: the model's
    objective: str = "supervised"
    steps: int | None = None  # optimizer steps; None: epochs × steps per epoch
    epochs: float = 0.0
    batch_size: int = 256  # per rank
    augment: str = "auto"  # the stream's preset; auto: `small` up to 64 px, `ofdb` above (MAE turns RandAugment
    # and erasing off: crops and flips only)
    canvas: int | str = "auto"  # the stream's native canvas (FDSLStream's `canvas`); auto: twice the training
    # side up to 64 px where the database has a smaller canvas, else its own; "none": its own
    repeats: int = 1  # repeated augmentation (DeiT ×3)
    drop_path: float = 0.0
    optim: OptimConfig = OptimConfig()
    mix: MixConfig = MixConfig()
    mae: MAEConfig = MAEConfig()

    def __post_init__(self):
        if self.model not in CONFIGS:
            raise UsageError(f"unknown model {self.model!r}; models: {', '.join(CONFIGS)}")
        if self.objective not in OBJECTIVES:
            raise UsageError(f"unknown objective {self.objective!r}; objectives: {', '.join(OBJECTIVES)}")
        if (self.steps is None or self.steps < 1) and self.epochs <= 0:
            raise UsageError("give steps >= 1 or epochs > 0")
        if self.batch_size < 1 or self.repeats < 1 or not 0.0 <= self.drop_path < 1.0:
            raise UsageError("batch and repeats must be >= 1, drop-path in [0, 1)")
        if self.canvas not in ("none", "auto") and (not isinstance(self.canvas, int) or self.canvas < 1):
            raise UsageError(f"canvas must be auto, none or a side in pixels, got {self.canvas!r}")


@dataclass(frozen=True)
class FinetuneConfig:
    """Fine-tuning (or training from scratch) on a real image classification set."""

    run: RunConfig
    data: str = "fashion-mnist"  # fashion-mnist | an ImageFolder path
    data_dir: str | None = None  # Fashion-MNIST's folder (default: FDSL_FASHION_MNIST or Debian's path)
    subset: int | None = None  # training images per class (seeded); None: all
    init: str | None = None  # a checkpoint (.safetensors, or a run folder); None: from scratch
    model: str | None = None  # the model from scratch, or for a checkpoint without its JSON
    image_size: int | None = None  # default: the checkpoint's (or the model's)
    epochs: int = 30
    batch_size: int = 128  # per rank
    drop_path: float = 0.1
    optim: OptimConfig = OptimConfig(warmup_epochs=3.0)
    mix: MixConfig = MixConfig()
    eval_every: int = 1  # epochs between test-set evaluations (and the last epoch)

    def __post_init__(self):
        if self.model is not None and self.model not in CONFIGS:
            raise UsageError(f"unknown model {self.model!r}; models: {', '.join(CONFIGS)}")
        if self.epochs < 1 or self.batch_size < 1 or self.eval_every < 1:
            raise UsageError("epochs, batch and eval_every must be >= 1")
        if self.subset is not None and self.subset < 1:
            raise UsageError(f"subset must be >= 1 images per class, got {self.subset}")
        if not 0.0 <= self.drop_path < 1.0:
            raise UsageError("drop-path must be in [0, 1)")


@dataclass(frozen=True)
class EvalConfig:
    """Top-1 accuracy of a fine-tuned checkpoint on a test split."""

    ckpt: str  # a .safetensors checkpoint (its JSON beside it) or a run folder
    data: str = "fashion-mnist"  # fashion-mnist | an ImageFolder path (its val/ or test/, else the folder)
    data_dir: str | None = None
    model: str | None = None  # the architecture of a checkpoint without its JSON
    batch_size: int = 256
    device: str | None = None
    precision: str = "auto"
    workers: int = 0

    def __post_init__(self):
        if self.batch_size < 1 or self.workers < 0:
            raise UsageError("batch must be >= 1 and workers >= 0")
        RunConfig(out=".", device=self.device, precision=self.precision)  # the same checks

    def run_config(self) -> RunConfig:
        return RunConfig(out=".", device=self.device, precision=self.precision, workers=self.workers)


# -- presets -------------------------------------------------------------------------------------

def _fast() -> dict:
    # Short runs on small images (the proof's recipe): Tan-style vit_lite at 32 px, AdamW 1e-3 per 256 images
    # (scaled linearly with the global batch: on 100 ofdb categories at batch 128, 1e-3 left the loss at
    # chance, ln 100, in two runs of 250-350 steps, one after a start to 4.09; 5e-4 brought it to 3.68 by
    # step 250), wd 0.05, 5 % of the run as warm-up then cosine, smoothing 0.1, the augmentation and canvas
    # for the size; no mixup.
    return dict(model="vit_lite", image_size=32, steps=2000, batch_size=256, augment="auto", canvas="auto",
                drop_path=0.0, optim=OptimConfig(lr=1e-3, lr_batch=256, weight_decay=0.05, warmup_fraction=0.05),
                mix=MixConfig(smoothing=0.1))


def _paper() -> dict:
    # The FDSL papers' DeiT pre-training recipe at 224 (docs/spec/training.md §2.1, CVPR'22 scripts): ViT-Tiny/16,
    # AdamW lr 1e-3 as given (the scripts use it unscaled at global batches of 256 and 8,192), wd 0.05, 5 warm-up
    # epochs, per-step cosine to 1e-5, 300 epochs,
    # DeiT augmentation with repeated augmentation ×3, drop-path 0.1, mixup 0.8 / cutmix 1.0, smoothing 0.1.
    return dict(model="vit_tiny", image_size=224, steps=None, epochs=300.0, batch_size=256, augment="deit",
                repeats=3, drop_path=0.1,
                optim=OptimConfig(lr=1e-3, lr_batch=0, weight_decay=0.05, warmup_epochs=5.0, min_lr=1e-5),
                mix=MixConfig(mixup=0.8, cutmix=1.0, prob=1.0, switch=0.5, smoothing=0.1))


PRESETS = {"fast": _fast, "paper": _paper}


def pretrain_config(preset: str, run: RunConfig, optim: dict | None = None, mix: dict | None = None,
                    mae: dict | None = None, **overrides) -> PretrainConfig:
    """A PretrainConfig from a preset, with the given (not-None) fields and sub-config fields replaced."""
    if preset not in PRESETS:
        raise UsageError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    base = PRESETS[preset]()
    subs = {"optim": (optim, base.pop("optim")), "mix": (mix, base.pop("mix")), "mae": (mae, MAEConfig())}
    given = {k: v for k, v in overrides.items() if v is not None}
    if "steps" in given:  # an explicit step count wins over the preset's epochs
        base["epochs"] = 0.0
    if "epochs" in given and "steps" not in given:
        base["steps"] = None
    for name, (values, default) in subs.items():
        given[name] = replace(default, values or {})
    return PretrainConfig(run=run, **{**base, **given})


def replace(config, values: dict):
    """dataclasses.replace with only the not-None values."""
    return dataclasses.replace(config, **{k: v for k, v in values.items() if v is not None})


def finetune_config(run: RunConfig, optim: dict | None = None, mix: dict | None = None, **overrides) -> FinetuneConfig:
    """A FinetuneConfig from the defaults with the given (not-None) fields and sub-config fields replaced."""
    given = {k: v for k, v in overrides.items() if v is not None}
    defaults = FinetuneConfig(run=run)
    return FinetuneConfig(run=run, optim=replace(defaults.optim, optim or {}), mix=replace(defaults.mix, mix or {}),
                          **given)
