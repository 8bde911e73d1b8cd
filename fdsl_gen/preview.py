"""A contact sheet of a database: one labelled cell per category, for a person to look at."""

from __future__ import annotations

import math

import numpy as np

SEPARATOR = 2  # pixels of gray between cells
SEPARATOR_GRAY = 96
MAX_CELLS = 256  # a 16 x 16 sheet; more is not a preview (and 5,000 cells of 512² took 9 GB)


def grid(images: np.ndarray, columns: int | None = None, labels=None) -> np.ndarray:
    """uint8 [B, C, H, W] -> one uint8 [H', W', 3] sheet, row-major, gray separators; `labels` (one string per
    cell, or None) are written into each cell's top-left corner on a dark box."""
    b, c, h, w = images.shape
    cols = min(columns or math.ceil(math.sqrt(b)), max(b, 1))
    rows = math.ceil(b / cols)
    sheet = np.full((rows * (h + SEPARATOR) + SEPARATOR, cols * (w + SEPARATOR) + SEPARATOR, 3),
                    SEPARATOR_GRAY, dtype=np.uint8)
    corners = []
    for k in range(b):
        r, col = divmod(k, cols)
        y, x = SEPARATOR + r * (h + SEPARATOR), SEPARATOR + col * (w + SEPARATOR)
        sheet[y : y + h, x : x + w] = np.repeat(images[k], 3 // c, axis=0).transpose(1, 2, 0)
        corners.append((x, y))
    if labels is not None:
        sheet = _label(sheet, corners, labels)
    return sheet


def shrink(images: np.ndarray, cell: int) -> np.ndarray:
    """uint8 [B, C, H, W] resized to cell x cell (Pillow's antialiased bicubic), for a sheet of many cells."""
    from PIL import Image

    out = []
    for image in images:
        pil = Image.fromarray(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0))
        small = np.asarray(pil.resize((cell, cell), Image.BICUBIC))
        out.append(small[None] if small.ndim == 2 else small.transpose(2, 0, 1))
    return np.stack(out)


def _label(sheet: np.ndarray, corners, labels) -> np.ndarray:
    from PIL import Image, ImageDraw

    image = Image.fromarray(sheet)
    draw = ImageDraw.Draw(image)
    for (x, y), text in zip(corners, labels):
        left, top, right, bottom = draw.textbbox((x + 2, y + 1), str(text))
        draw.rectangle((x, y, right + 2, bottom + 1), fill=(0, 0, 0))
        draw.text((x + 2, y + 1), str(text), fill=(255, 220, 0))
    return np.asarray(image)
