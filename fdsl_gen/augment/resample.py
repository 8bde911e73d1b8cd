"""Crop + resample + flip + normalise + dtype + channels for a batch, on the device the images are on.

CUDA tensors go through the Triton kernel (`resample_triton`); anything else through the NumPy
reference (`resample_ref`), which is also the specification both are tested against.
"""

from __future__ import annotations

import numpy as np

from ..backends import unavailable_reason
from . import resample_ref

MODES = tuple(resample_ref.MODES)


def full_boxes(batch: int, height: int, width: int) -> np.ndarray:
    """Boxes covering whole images: int64 [batch, 4]."""
    return np.tile(np.array([0, 0, height, width], dtype=np.int64), (batch, 1))


def resample(images, boxes, flips, out_hw: tuple[int, int], mode: str = "bicubic", channels: int | None = None,
             mean=None, std=None, out_dtype=np.float32):
    """`resample_ref.resample` semantics for NumPy arrays or torch tensors (Triton on a GPU)."""
    if not isinstance(images, np.ndarray) and images.is_cuda and unavailable_reason("triton") is None:
        import torch

        from . import resample_triton

        dtype = {np.dtype(np.uint8): torch.uint8, np.dtype(np.float32): torch.float32,
                 np.dtype(np.float16): torch.float16}.get(np.dtype(out_dtype), out_dtype)
        return resample_triton.resample(images, boxes, flips, out_hw, mode, channels, mean, std, dtype)
    array = images if isinstance(images, np.ndarray) else images.cpu().numpy()
    return resample_ref.resample(array, np.asarray(boxes), np.asarray(flips, dtype=bool), out_hw, mode, channels,
                                 mean, std, out_dtype)
