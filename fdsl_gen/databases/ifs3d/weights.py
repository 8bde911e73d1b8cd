"""ExFractalDB's 3D weight table `weights_ins145` (the first row is 3D-OFDB's only model).

Row 0..12: parameter a times 0.4, 0.5, ..., 0.9, 1 (the identity), 1.1, ..., 1.6; then for each of the
other 11 parameters b .. l the twelve values without the identity. The released file has one typo, kept
here because the released data were made with it: in the i-block (the 9th parameter) the last row reads
0.6 where 1.6 belongs (docs/spec/fractals.md §4.2). Values are decimals, as the file's strings.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

STEPS = [Decimal(v) / 10 for v in (4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16)]
TYPO_ROW = 13 + 7 * 12 + 11  # the i-block's last row (parameter index 8)


def weights_ins145() -> np.ndarray:
    """float64 [145, 12]."""
    rows = []
    for param in range(12):
        values = STEPS[:6] + ([Decimal(1)] if param == 0 else []) + STEPS[6:]
        for v in values:
            row = [1.0] * 12
            row[param] = float(v)
            rows.append(row)
    table = np.array(rows)
    table[TYPO_ROW, 8] = 0.6
    return table


def apply_weights(system: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Multiply a .. l of every map by a weight row; p is kept."""
    out = system.copy()
    out[:, :12] = system[:, :12] * row[None, :]
    return out
