"""FractalDB's intra-category weight tables (`weights_<k>.csv` of the original renderer).

Row r multiplies parameter a (resp. b, ..., f) of every map by column 0 (resp. 1, ..., 5). The table
for step k has 25 rows: for a, the values 1 - 2k, 1 - k, 1, 1 + k, 1 + 2k; for b .. f the same without
the identity (docs/spec/fractals.md §1.2). The originals' files hold decimal strings, so values are made
from decimals here too ("0.2" is the double nearest 0.2, not 1 - 2 * 0.4).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np

from ...errors import UsageError

SHIPPED_STEPS = ("0.0125", "0.025", "0.05", "0.1", "0.2", "0.3", "0.4", "0.5")


def weights_table(spec: str) -> np.ndarray:
    """The weight table for a step ("0.4", one of SHIPPED_STEPS) or a CSV file of 6 columns: float64 [R, 6]."""
    if spec in SHIPPED_STEPS:
        step = Decimal(spec)
        rows = []
        for param in range(6):
            for m in (-2, -1, 0, 1, 2):
                if m == 0 and param > 0:
                    continue
                value = Decimal(1) + m * step
                if value == 0:
                    value = Decimal("0.01")  # weights_0.5 uses 0.01 where 1 - 2k would be 0
                row = [1.0] * 6
                row[param] = float(value)
                rows.append(row)
        return np.array(rows, dtype=np.float64)
    path = Path(spec)
    if not path.is_file():
        raise UsageError(f"weights must be one of {', '.join(SHIPPED_STEPS)} or a CSV file, got {spec!r}")
    table = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    if table.shape[1] != 6 or table.shape[0] < 1:
        raise UsageError(f"{spec}: a weight CSV has 6 columns (a..f multipliers), found shape {table.shape}")
    return table


def apply_weights(system: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Multiply a..f of every map by a weight row; p is kept (the original does not renormalise)."""
    out = system.copy()
    out[:, :6] = system[:, :6] * row[None, :]
    return out
