"""Augmentation configs and the papers' presets (docs/spec/fractals.md §2.1, docs/spec/contours.md §4.4).

A config says what the per-sample pipeline does, in timm's order: random-resized-crop (or a plain resize)
from the native render to `size`, flips, RandAugment on uint8, then float: normalise, random erasing on
the normalised values, the output dtype and memory layout.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..errors import UsageError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DTYPES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class AugmentConfig:
    """One per-sample augmentation pipeline."""

    size: int = 224  # output side (the training resolution)
    crop: bool = True  # random-resized-crop; False resizes the whole native image to `size`
    scale: tuple[float, float] = (0.08, 1.0)  # RRC area fraction range (timm's default)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)  # RRC aspect range
    interpolation: str = "bicubic"  # bicubic | bilinear (the resampling of crop and resize)
    hflip: float = 0.0  # probability of a horizontal flip
    vflip: float = 0.0  # probability of a vertical flip
    randaugment: int = 0  # RandAugment layers per image (timm: 2); 0 turns it off
    magnitude: float = 9.0  # RandAugment magnitude m (0..10)
    magnitude_std: float = 0.5  # per-op Gaussian jitter of m (timm's mstd)
    op_prob: float = 0.5  # probability that a chosen op is applied (timm's RandAugment ops)
    reprob: float = 0.0  # random erasing probability (one box, per-pixel normal noise: timm's mode "pixel")
    mean: tuple[float, ...] = (0.5, 0.5, 0.5)  # normalisation of v / 255, per output channel
    std: tuple[float, ...] = (0.5, 0.5, 0.5)
    channels: int = 3  # output channels; gray renders are repeated (the originals load images as RGB)
    dtype: str = "float32"  # float32 | float16 | bfloat16
    channels_last: bool = False  # memory format of the output batch

    def __post_init__(self):
        if not 8 <= self.size <= 4096:
            raise UsageError(f"augment size must be between 8 and 4096, got {self.size}")
        if self.interpolation not in ("bicubic", "bilinear"):
            raise UsageError(f"interpolation must be bicubic or bilinear, got {self.interpolation!r}")
        for name in ("hflip", "vflip", "op_prob", "reprob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UsageError(f"{name} must be a probability in [0, 1], got {getattr(self, name)}")
        if not (0 < self.scale[0] <= self.scale[1] <= 1.0 and 0 < self.ratio[0] <= self.ratio[1]):
            raise UsageError(f"bad crop scale {self.scale} or ratio {self.ratio}")
        if not 0 <= self.randaugment <= 4 or not 0.0 <= self.magnitude <= 10.0 or self.magnitude_std < 0:
            raise UsageError("randaugment layers must be 0..4, magnitude 0..10 and magnitude_std >= 0")
        if self.channels not in (1, 3) or len(self.mean) != self.channels or len(self.std) != self.channels:
            raise UsageError(f"channels must be 1 or 3 with one mean and std each, got {self.channels}")
        if self.dtype not in DTYPES:
            raise UsageError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")

    @property
    def fill(self) -> tuple[int, ...]:
        """The fill colour of RandAugment's geometric ops: round(255 mean) per channel, as timm."""
        return tuple(min(255, round(255 * m)) for m in self.mean)


def _ofdb(size: int) -> AugmentConfig:
    # docs/spec/fractals.md §2.1: the 2D-OFDB launcher (timm 0.4.12 create_transform)
    return AugmentConfig(size=size, hflip=0.5, vflip=0.5, randaugment=2, reprob=0.5)


def _deit(size: int) -> AugmentConfig:
    # the DeiT recipe of the FDSL pre-training scripts (docs/spec/training.md §2.1; repeated augmentation is a
    # stream option); those scripts pass hflip 0 (docs/spec/contours.md §4.4): {"preset": "deit", "hflip": 0.0}
    return AugmentConfig(size=size, hflip=0.5, randaugment=2, reprob=0.25, mean=IMAGENET_MEAN, std=IMAGENET_STD)


def _none(size: int) -> AugmentConfig:
    # the render resized to the training size, values v / 255
    return AugmentConfig(size=size, crop=False, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))


def _small(size: int) -> AugmentConfig:
    # For small training images (<= SMALL_SIZE px, e.g. 32 px pre-training). What survives at 32 px decides:
    # - crops of 35-100 % of the area: timm's 8 % floor keeps a 9-px window of the render, upsampled to 32 px,
    #   usually a blank corner or one stroke of a fractal, so no category can be told apart;
    # - no RandAugment: at magnitude 9 its shear (0.27) and translation (41 % = 13 px) push most of the shape
    #   off a 32-px canvas, and posterize/solarize/equalize turn a gray line drawing into noise or blank;
    # - no random erasing: one box of up to a third of the image covers most of a thin shape at this size;
    # - both flips: these shapes have no upright orientation (the OFDB recipe flips both ways too).
    # Measured (vit_lite, 100 ofdb categories, batch 128): with `ofdb` at 32 px the loss stayed at chance for
    # 500 steps; with these settings it fell from 4.56 to 2.55 in 300 steps.
    return AugmentConfig(size=size, scale=(0.35, 1.0), hflip=0.5, vflip=0.5)


SMALL_SIZE = 64  # "auto" picks `small` up to this side
PRESETS = {"ofdb": _ofdb, "deit": _deit, "small": _small, "none": _none}


def auto_preset(size: int, large: str = "ofdb") -> str:
    """The preset "auto" stands for at this training side: `small` up to SMALL_SIZE px, else `large`."""
    return "small" if size <= SMALL_SIZE else large


def preset_name(augment, size: int) -> str:
    """The preset an augmentation argument resolves to at this size ("custom" for an AugmentConfig)."""
    if isinstance(augment, AugmentConfig):
        return "custom"
    name = augment.get("preset", "none") if isinstance(augment, dict) else augment
    return auto_preset(size) if name == "auto" else name


def make_config(augment, size: int) -> AugmentConfig:
    """An AugmentConfig from a preset name, a dict {"preset": name, field: value, ...} or a config.

    "auto" picks by the training side: `small` up to SMALL_SIZE px, `ofdb` above.
    """
    if isinstance(augment, AugmentConfig):
        return augment
    overrides = {}
    if isinstance(augment, dict):
        overrides = dict(augment)
        overrides.pop("preset", None)
    augment = preset_name(augment, size)
    if augment not in PRESETS:
        raise UsageError(f"unknown augmentation preset {augment!r}; presets: auto, {', '.join(PRESETS)}")
    config = PRESETS[augment](size)
    names = {f.name for f in dataclasses.fields(AugmentConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise UsageError(f"unknown augmentation option {', '.join(unknown)}; options: {', '.join(sorted(names))}")
    if "channels" in overrides and "mean" not in overrides:  # keep one mean/std per channel
        overrides["mean"] = config.mean[: overrides["channels"]] * (overrides["channels"] // len(config.mean) or 1)
        overrides["std"] = config.std[: overrides["channels"]] * (overrides["channels"] // len(config.std) or 1)
    return dataclasses.replace(config, **overrides)
