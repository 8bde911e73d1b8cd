"""Checkpoints: the model as safetensors (timm names) + a JSON config beside it, and the training state.

A run folder holds `checkpoint.safetensors`, `checkpoint.json` (model config, objective, step,
num_classes, the input normalisation, the run's config) and `train_state.pt` (optimizer, step, scaler,
RNG, stream or epoch position) for `--resume`. Each file is written whole under a temporary name and
renamed; the JSON goes last, and a resume checks that the three agree on the step.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from ..errors import UsageError
from ..io.atomic import atomic_write_bytes
from .mae import DECODER_KEYS
from .vit import CONFIGS, ViTConfig, VisionTransformer, make_config

MODEL_FILE, META_FILE, STATE_FILE = "checkpoint.safetensors", "checkpoint.json", "train_state.pt"


def save(out: Path, model: torch.nn.Module, meta: dict, train_state: dict | None = None) -> None:
    """Write the model, its JSON and (for resuming) the training state into the run folder `out`."""
    out = Path(out)
    if train_state is not None:
        buf = io.BytesIO()
        torch.save(train_state, buf)
        atomic_write_bytes(out / STATE_FILE, buf.getvalue())
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(out / MODEL_FILE, save_safetensors(tensors, metadata={"format": "pt"}))
    atomic_write_bytes(out / META_FILE, (json.dumps(meta, indent=2, default=str) + "\n").encode())


def resolve(path) -> Path:
    """A checkpoint file from a .safetensors path or a run folder; a missing one is the user's mistake."""
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise UsageError(f"checkpoint {path} does not exist")
    if path.suffix != ".safetensors":
        raise UsageError(f"checkpoint {path} is not a .safetensors file")
    return path


def load(path) -> tuple[dict, dict | None]:
    """(state dict on the CPU, the JSON beside it or None when there is none)."""
    path = resolve(path)
    try:
        state = load_safetensors(path.read_bytes())
    except Exception as exc:  # safetensors raises its own error types for a damaged file
        raise UsageError(f"cannot read checkpoint {path}: {exc}") from None
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else None
    return state, meta


def load_train_state(out: Path, meta: dict) -> dict:
    """The training state of run folder `out`, checked against its checkpoint's step."""
    path = Path(out) / STATE_FILE
    if not path.is_file():
        raise UsageError(f"{out} has a checkpoint but no {STATE_FILE}: it cannot be resumed")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("step") != meta.get("step"):
        raise UsageError(f"{out}: {STATE_FILE} (step {state.get('step')}) and {META_FILE} "
                         f"(step {meta.get('step')}) disagree; the run was killed while saving")
    return state


def model_config(meta: dict | None, fallback: str | None) -> ViTConfig:
    """The ViTConfig a checkpoint was trained with (its JSON), or the named model for a bare timm file."""
    if meta is not None and "model" in meta:
        return ViTConfig(**meta["model"])
    if fallback is None:
        raise UsageError("the checkpoint has no JSON beside it: name its architecture with --model "
                         f"({', '.join(CONFIGS)})")
    return make_config(fallback)


def resample_pos_embed(pos: torch.Tensor, grid: int) -> torch.Tensor:
    """[1, 1 + g², D] -> [1, 1 + grid², D]: the class position kept, the patch grid resized bicubically."""
    cls, patches = pos[:, :1], pos[:, 1:]
    old = int(round(patches.shape[1] ** 0.5))
    if old * old != patches.shape[1]:
        raise UsageError(f"position embedding of {patches.shape[1]} patches is not a square grid")
    if old == grid:
        return pos
    img = patches.reshape(1, old, old, -1).permute(0, 3, 1, 2).float()  # [1, D, g, g]
    img = F.interpolate(img, size=(grid, grid), mode="bicubic", align_corners=False)
    return torch.cat([cls, img.permute(0, 2, 3, 1).reshape(1, grid * grid, -1).to(pos.dtype)], dim=1)


def load_pretrained(model: VisionTransformer, state: dict) -> list[str]:
    """Load a pre-trained encoder into `model`: the head and MAE's decoder dropped, pos_embed resampled.

    Returns the names left at their initialisation (the new head).
    """
    state = {k: v for k, v in state.items() if not k.startswith(DECODER_KEYS + ("head.",))}
    if "pos_embed" in state:
        state["pos_embed"] = resample_pos_embed(state["pos_embed"], model.cfg.img_size // model.cfg.patch_size)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches: another width or patch size
        raise UsageError(f"the checkpoint does not fit model {model.cfg}: {str(exc).splitlines()[-1].strip()}") \
            from None
    left = [k for k in missing if not k.startswith("head.")]
    if left or unexpected:
        raise UsageError(f"the checkpoint does not fit the model: missing {left[:4]}, unexpected {unexpected[:4]}")
    return list(missing)


def check_run_folder(out, resume: bool) -> None:
    """UsageError unless `out` can take a new run (no checkpoint yet) or, with resume, holds one to continue."""
    from ..export.disk import check_writable

    out = Path(out)
    check_writable(out)
    has = (out / META_FILE).is_file()
    if resume and not has:
        raise UsageError(f"nothing to resume: {out} holds no {META_FILE}")
    if not resume and has:
        raise UsageError(f"{out} already holds a checkpoint: pass --resume to continue it, or another --out")
