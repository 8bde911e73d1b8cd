"""PNG encoding of rendered images (Pillow; zlib releases the GIL, so threads encode in parallel)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def to_hwc(image: np.ndarray, channels: int) -> np.ndarray:
    """[C, H, W] uint8 -> [H, W] (channels 1) or [H, W, 3] (channels 3; gray repeated as the originals save it)."""
    c = image.shape[0]
    if channels == 1:
        if c != 1:
            raise ValueError("a colour image cannot be written with 1 channel")
        return image[0]
    return np.ascontiguousarray(np.repeat(image, 3, axis=0).transpose(1, 2, 0) if c == 1 else image.transpose(1, 2, 0))


def encode_png(image: np.ndarray, channels: int = 3, compress_level: int = 6) -> bytes:
    """Encode one [C, H, W] uint8 image; the bytes depend only on the pixels and the two options."""
    buf = io.BytesIO()
    Image.fromarray(to_hwc(image, channels)).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()
