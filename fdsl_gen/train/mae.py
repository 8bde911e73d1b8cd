"""Masked-autoencoder pre-training (He et al. 2022) in Tan 2024's variant, on our ViT.

The model *is* the ViT (timm names, head removed) plus MAE's decoder parameters (`mask_token`,
`decoder_embed`, `decoder_pos_embed`, `decoder_blocks`, `decoder_norm`, `decoder_pred`, the names of
facebookresearch/mae), so a checkpoint fine-tunes by dropping the `decoder_*` and `mask_token` tensors.
Tan's choices: mask ratio 0.75, a learned position embedding of the decoder's own, and the loss on the
masked patches plus a discounted term on the visible ones.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from .config import MAEConfig
from .vit import Block, ViTConfig, VisionTransformer

DECODER_KEYS = ("mask_token", "decoder_")  # prefixes of the tensors that only pre-training uses


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """[B, C, H, W] -> [B, N, p·p·C], patches in row-major order, each (py, px, c) like MAE's."""
    b, c, h, w = images.shape
    x = images.reshape(b, c, h // patch, patch, w // patch, patch)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(b, (h // patch) * (w // patch), patch * patch * c)


def random_masking(batch: int, patches: int, ratio: float, generator: torch.Generator | None = None,
                   device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """A random subset of patches kept per sample.

    Returns:
        keep: int64 [B, K] indices of the visible patches, K = int(N·(1 − ratio)).
        mask: float [B, N], 1 where a patch is masked (hidden from the encoder).
    """
    visible = int(patches * (1.0 - ratio))
    noise = torch.rand(batch, patches, generator=generator, device=device)
    keep = noise.argsort(dim=1)[:, :visible]
    mask = torch.ones(batch, patches, device=device)
    mask.scatter_(1, keep, 0.0)
    return keep, mask


class MaskedAutoencoder(VisionTransformer):
    """The ViT encoder on the visible patches and a small decoder that predicts every patch's pixels."""

    def __init__(self, cfg: ViTConfig, mae: MAEConfig | None = None):
        super().__init__(dataclasses.replace(cfg, num_classes=0))  # no head: nothing to classify
        self.mae = mae = mae or MAEConfig()
        n = (cfg.img_size // cfg.patch_size) ** 2
        self.mask_token = nn.Parameter(torch.zeros(1, 1, mae.decoder_dim))
        self.decoder_embed = nn.Linear(cfg.embed_dim, mae.decoder_dim)
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, n + 1, mae.decoder_dim))  # Tan: learned, own
        self.decoder_blocks = nn.Sequential(*[Block(mae.decoder_dim, mae.decoder_heads, 4.0, 0.0)
                                              for _ in range(mae.decoder_depth)])
        self.decoder_norm = nn.LayerNorm(mae.decoder_dim, eps=1e-6)
        self.decoder_pred = nn.Linear(mae.decoder_dim, cfg.patch_size ** 2 * cfg.in_chans)
        nn.init.trunc_normal_(self.decoder_pos_embed, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)
        for m in (self.decoder_embed, self.decoder_pred, *self.decoder_blocks.modules()):
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def encode(self, images: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W], keep [B, K] -> [B, K + 1, D]: the class token and the visible patches, encoded."""
        x = self.patch_embed(images) + self.pos_embed[:, 1:]  # [B, N, D]
        x = x.gather(1, keep[:, :, None].expand(-1, -1, x.shape[-1]))  # [B, K, D]
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(x.shape[0], -1, -1)
        return self.norm(self.blocks(torch.cat([cls, x], dim=1)))

    def decode(self, latent: torch.Tensor, keep: torch.Tensor, patches: int) -> torch.Tensor:
        """[B, K + 1, D] -> [B, N, p·p·C]: mask tokens where patches were hidden, every patch predicted."""
        y = self.decoder_embed(latent)  # [B, K + 1, Dd]
        b, _, dim = y.shape
        full = self.mask_token.to(y.dtype).expand(b, patches, dim).clone()  # [B, N, Dd]
        full.scatter_(1, keep[:, :, None].expand(-1, -1, dim), y[:, 1:])
        y = torch.cat([y[:, :1], full], dim=1) + self.decoder_pos_embed
        return self.decoder_pred(self.decoder_norm(self.decoder_blocks(y)))[:, 1:]

    def loss(self, images: torch.Tensor, pred: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean squared error per patch, averaged over masked patches + visible_weight × over visible ones."""
        target = patchify(images, self.cfg.patch_size).float()  # [B, N, p·p·C]
        if self.mae.norm_pix:
            mean, var = target.mean(dim=-1, keepdim=True), target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + 1e-6).sqrt()
        per_patch = ((pred.float() - target) ** 2).mean(dim=-1)  # [B, N]
        masked = (per_patch * mask).sum() / mask.sum()
        if self.mae.visible_weight == 0.0:
            return masked
        visible = 1.0 - mask
        return masked + self.mae.visible_weight * (per_patch * visible).sum() / visible.sum().clamp(min=1.0)

    def forward(self, images: torch.Tensor, generator: torch.Generator | None = None):
        """[B, C, H, W] -> (loss, prediction [B, N, p·p·C], mask [B, N])."""
        n = (self.cfg.img_size // self.cfg.patch_size) ** 2
        keep, mask = random_masking(images.shape[0], n, self.mae.mask_ratio, generator, images.device)
        pred = self.decode(self.encode(images, keep), keep, n)
        return self.loss(images, pred, mask), pred, mask
