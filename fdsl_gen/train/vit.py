"""A Vision Transformer whose state dict uses timm's names (loads strictly into timm's VisionTransformer).

Class token, learned position embedding, pre-norm blocks (LayerNorm eps 1e-6, fused qkv, GELU MLP),
final norm, linear head on the class token: timm's defaults for `vit_*_patch16_224`, so checkpoints go
both ways with `strict=True`. Attention is torch's scaled_dot_product_attention (flash/cuDNN on a GPU).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UsageError


@dataclass(frozen=True)
class ViTConfig:
    img_size: int = 224
    patch_size: int = 16
    in_chans: int = 3
    num_classes: int = 1000
    embed_dim: int = 192
    depth: int = 12
    num_heads: int = 3
    mlp_ratio: float = 4.0
    drop_path_rate: float = 0.0


CONFIGS = {
    "vit_micro": dict(img_size=32, patch_size=4, embed_dim=64, depth=2, num_heads=2, mlp_ratio=2.0),  # CPU tests
    "vit_lite": dict(img_size=32, patch_size=4, embed_dim=192, depth=12, num_heads=3, mlp_ratio=2.0),  # Tan 2024
    "vit_tiny": dict(embed_dim=192, depth=12, num_heads=3),  # timm vit_tiny_patch16_224
    "vit_small": dict(embed_dim=384, depth=12, num_heads=6),  # vit_small_patch16_224
    "vit_base": dict(embed_dim=768, depth=12, num_heads=12),  # vit_base_patch16_224
}


def make_config(name: str, **overrides) -> ViTConfig:
    if name not in CONFIGS:
        raise UsageError(f"unknown model {name!r}; models: {', '.join(CONFIGS)}")
    return ViTConfig(**{**CONFIGS[name], **{k: v for k, v in overrides.items() if v is not None}})


class PatchEmbed(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.proj = nn.Conv2d(cfg.in_chans, cfg.embed_dim, cfg.patch_size, stride=cfg.patch_size)

    def forward(self, x):  # [B, C, H, W] -> [B, N, D]
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):  # [B, N, D]
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


def drop_path(x, rate: float, training: bool):
    """Stochastic depth: drop the residual branch per sample with probability `rate`."""
    if rate == 0.0 or not training:
        return x
    keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1.0 - rate)
    return x * keep / (1.0 - rate)


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, drop_path_rate: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.drop_path_rate = drop_path_rate

    def forward(self, x):
        x = x + drop_path(self.attn(self.norm1(x)), self.drop_path_rate, self.training)
        return x + drop_path(self.mlp(self.norm2(x)), self.drop_path_rate, self.training)


class VisionTransformer(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        if cfg.img_size % cfg.patch_size or cfg.embed_dim % cfg.num_heads:
            raise UsageError("img_size must be a multiple of patch_size and embed_dim of num_heads")
        self.cfg = cfg
        n = (cfg.img_size // cfg.patch_size) ** 2
        self.patch_embed = PatchEmbed(cfg)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, cfg.embed_dim))
        rates = torch.linspace(0, cfg.drop_path_rate, cfg.depth).tolist()  # timm's linear decay rule
        self.blocks = nn.Sequential(*[Block(cfg.embed_dim, cfg.num_heads, cfg.mlp_ratio, r) for r in rates])
        self.norm = nn.LayerNorm(cfg.embed_dim, eps=1e-6)
        self.head = nn.Linear(cfg.embed_dim, cfg.num_classes) if cfg.num_classes else nn.Identity()
        self._init_weights()

    def _init_weights(self):
        # timm's default: truncated normal 0.02 for position embedding and linears, 1e-6 for the class token
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward_features(self, x):  # [B, C, H, W] -> [B, N + 1, D]
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.norm(self.blocks(x))

    def forward(self, x):  # -> logits [B, num_classes]
        return self.head(self.forward_features(x)[:, 0])


def create_model(name: str, **overrides) -> VisionTransformer:
    """`create_model("vit_tiny", num_classes=1000, drop_path_rate=0.1)`."""
    return VisionTransformer(make_config(name, **overrides))


def config_dict(model: VisionTransformer) -> dict:
    return dataclasses.asdict(model.cfg)
