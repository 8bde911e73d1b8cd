"""A contact sheet of a database: one cell per category, for a person to look at."""

from __future__ import annotations

import math

import numpy as np

SEPARATOR = 2  # pixels of gray between cells
SEPARATOR_GRAY = 96


def grid(images: np.ndarray, columns: int | None = None) -> np.ndarray:
    """uint8 [B, C, H, W] -> one uint8 [H', W', 3] sheet, row-major, gray separators."""
    b, c, h, w = images.shape
    cols = columns or math.ceil(math.sqrt(b))
    rows = math.ceil(b / cols)
    sheet = np.full((rows * (h + SEPARATOR) + SEPARATOR, cols * (w + SEPARATOR) + SEPARATOR, 3),
                    SEPARATOR_GRAY, dtype=np.uint8)
    for k in range(b):
        r, col = divmod(k, cols)
        y, x = SEPARATOR + r * (h + SEPARATOR), SEPARATOR + col * (w + SEPARATOR)
        sheet[y : y + h, x : x + w] = np.repeat(images[k], 3 // c, axis=0).transpose(1, 2, 0)
    return sheet
