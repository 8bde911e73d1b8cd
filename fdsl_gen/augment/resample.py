"""Crop + resample + flip to uint8 for a batch, on the device the images are on.

CUDA tensors go through the Triton kernels (`resample_triton`); anything else through the NumPy
reference (`resample_ref`: Pillow's 8-bit resize, exactly), which both must equal byte for byte.
"""

from __future__ import annotations

import numpy as np

from .. import backends
from ..backends import unavailable_reason
from . import resample_ref

MODES = tuple(resample_ref.MODES)


def full_boxes(batch: int, height: int, width: int) -> np.ndarray:
    """Boxes covering whole images: int64 [batch, 4]."""
    return np.tile(np.array([0, 0, height, width], dtype=np.int64), (batch, 1))


def resample(images, boxes, flips, out_hw: tuple[int, int], mode: str = "bicubic", channels: int | None = None,
             out_dtype=np.uint8):
    """`resample_ref.resample` for NumPy arrays or torch tensors (Triton on a GPU): uint8 [B, channels, h, w].

    `out_dtype` must be uint8 (float outputs are `normalize`'s job); it is accepted for callers that name it.
    """
    if np.dtype(out_dtype) != np.uint8:
        raise ValueError(f"resampling writes uint8 (Pillow's 8-bit algorithm), not {np.dtype(out_dtype)}")
    if not isinstance(images, np.ndarray) and images.is_cuda and unavailable_reason("triton") is None \
            and _gpu_path_trusted():
        from . import resample_triton

        return resample_triton.resample(images, boxes, flips, out_hw, mode, channels)
    array = images if isinstance(images, np.ndarray) else images.cpu().numpy()
    return resample_ref.resample(array, np.asarray(boxes), np.asarray(flips, dtype=bool), out_hw, mode, channels)


def _gpu_path_trusted() -> bool:
    return backends.gate("augment")  # the self-check (fdsl_gen.selfcheck) decides
