"""Batch-level mixup / cutmix on the device and the soft-target loss, with timm's semantics.

timm's `Mixup(mode="batch")`: with probability `prob` the batch is mixed with its reversal, by cutmix
(probability `switch` when both are on) or mixup; one λ ~ Beta(α, α) for the whole batch; cutmix's box
has sides √(1−λ)·(H, W) around a uniform centre, clipped to the image, and λ is corrected to the area
actually kept; targets are smoothed one-hots mixed by λ and the loss is the soft-target cross-entropy.
The draws come from a NumPy generator keyed by (seed, rank, step), so a resumed run draws the same.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .config import MixConfig


def smooth_one_hot(labels: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """[B] int64 -> [B, K] float: 1 − s + s/K on the label, s/K elsewhere (torch's label_smoothing)."""
    off = smoothing / num_classes
    out = torch.full((labels.shape[0], num_classes), off, device=labels.device)
    return out.scatter_(1, labels[:, None], 1.0 - smoothing + off)


def cutmix_box(lam: float, height: int, width: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1): a box of area ≈ (1 − λ)·H·W with a uniform centre, clipped to the image."""
    ratio = np.sqrt(1.0 - lam)
    cut_h, cut_w = int(height * ratio), int(width * ratio)
    cy, cx = int(rng.integers(0, height)), int(rng.integers(0, width))
    y0, y1 = np.clip(cy - cut_h // 2, 0, height), np.clip(cy + cut_h // 2, 0, height)
    x0, x1 = np.clip(cx - cut_w // 2, 0, width), np.clip(cx + cut_w // 2, 0, width)
    return int(y0), int(y1), int(x0), int(x1)


def mix_batch(images: torch.Tensor, labels: torch.Tensor, num_classes: int, cfg: MixConfig,
              rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Mix a batch with its reversal.

    Args:
        images: [B, C, H, W] float; mixed in place.
        labels: [B] int64.
    Returns:
        (images, soft targets [B, K] summing to 1, λ: the weight of each image's own label).
    """
    lam = 1.0
    use_cutmix = False
    if cfg.active and rng.random() < cfg.prob:
        use_cutmix = cfg.cutmix > 0 and (cfg.mixup == 0 or rng.random() < cfg.switch)
        alpha = cfg.cutmix if use_cutmix else cfg.mixup
        lam = float(rng.beta(alpha, alpha))
    if use_cutmix:
        h, w = images.shape[-2:]
        y0, y1, x0, x1 = cutmix_box(lam, h, w, rng)
        images[:, :, y0:y1, x0:x1] = images.flip(0)[:, :, y0:y1, x0:x1]
        lam = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)  # the area actually pasted
    elif lam < 1.0:
        flipped = images.flip(0).mul_(1.0 - lam)  # a copy, taken before the batch is scaled
        images.mul_(lam).add_(flipped)
    own = smooth_one_hot(labels, num_classes, cfg.smoothing)
    return images, own * lam + own.flip(0) * (1.0 - lam), lam


def soft_target_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """mean over the batch of −Σ_k target_k · log softmax(logits)_k; logits and targets [B, K]."""
    return torch.sum(-targets * F.log_softmax(logits.float(), dim=-1), dim=-1).mean()


def step_rng(seed: int, rank: int, step: int) -> np.random.Generator:
    """The generator of one training step's draws on one rank (independent of what ran before)."""
    return np.random.default_rng([seed, rank, step])
