"""The per-sample augmentation of a rendered batch, in timm's order, on the device the batch is on.

native uint8 [B, C, H, W] → crop + resample + flips (uint8, as Pillow's resize) → RandAugment (uint8)
→ normalise, gray → channels, random erasing → dtype and layout. Parameters come from `params.draw`
(per sample, from the stream's sample ids). CUDA tensors take the fast path (Triton resample, batched
torch RandAugment, Triton normalisation and erasing); anything else the NumPy references, which the fast path is tested
against (tests/test_augment.py).
"""

from __future__ import annotations

import numpy as np
import torch

from . import normalize_ref, randaugment_ref, resample_ref
from .. import backends
from ..backends.cuda_runner import to_device
from .config import AugmentConfig
from .params import AugmentParams

TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def work_channels(in_channels: int, config: AugmentConfig) -> int:
    """Channels RandAugment works on: a gray render stays one plane unless a coloured fill would tint it."""
    if in_channels == 1 and config.randaugment and len(set(config.fill)) > 1 and config.channels == 3:
        return 3
    return in_channels


def augment(images, params: AugmentParams, config: AugmentConfig, impl: str = "auto") -> torch.Tensor:
    """Augment a batch.

    Args:
        images: uint8 [B, C, H, W], a NumPy array or a torch tensor (CPU or CUDA).
        params: the batch's `AugmentParams` (B samples).
        config: the pipeline.
        impl: auto (fast on CUDA tensors, else ref) | ref | fast (fast needs Triton: a GPU or its interpreter).

    Returns:
        [B, config.channels, size, size] tensor of config.dtype on the images' device (channels-last if asked).
    """
    is_cuda = isinstance(images, torch.Tensor) and images.is_cuda
    if impl == "auto":
        impl = "fast" if is_cuda and _gpu_path_trusted() else "ref"
    channels = work_channels(images.shape[1], config)
    out_hw = (config.size, config.size)
    dtype = TORCH_DTYPES[config.dtype]
    if impl == "fast":
        from . import normalize_triton, randaugment_torch, resample_triton

        src = images if isinstance(images, torch.Tensor) else torch.from_numpy(images)
        small = resample_triton.resample(src, params.boxes, params.flips, out_hw, config.interpolation,
                                         channels=channels)
        if params.ops.shape[1]:
            small = randaugment_torch.apply(small, params.ops, params.args, config.fill[:channels])
        return normalize_triton.normalize(small, params.erase, params.noise_seed, config.channels, config.mean, config.std,
                                    dtype, config.channels_last)
    array = images if isinstance(images, np.ndarray) else images.cpu().numpy()
    small = resample_ref.resample(array, params.boxes, params.flips, out_hw, config.interpolation,
                                  channels=channels)
    if params.ops.shape[1]:
        small = randaugment_ref.apply(small, params.ops, params.args, config.fill[:channels])
    out = torch.from_numpy(normalize_ref.normalize(small, params.erase, params.noise_seed, config.channels,
                                             config.mean, config.std)).to(dtype)
    if config.channels_last:
        out = out.contiguous(memory_format=torch.channels_last)
    device = images.device if isinstance(images, torch.Tensor) else "cpu"
    return to_device(out, device) if str(device) != "cpu" else out


def _gpu_path_trusted() -> bool:
    return backends.gate("augment")  # the self-check (fdsl_gen.selfcheck) decides
