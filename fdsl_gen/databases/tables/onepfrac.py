"""The category table of 1p-frac: the base system and every class's accepted perturbation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from . import CategoryTable


@dataclass(frozen=True)
class OnePFracTable(CategoryTable):
    """Class k's system is the base's a..f times `factors[k]`, with the base's p."""

    FORMATS = ("fdsl-gen/onepfrac-table/1",)

    base: np.ndarray  # [N, 7] float64: a..f, p
    factors: np.ndarray  # [C, N, 6] float64 multipliers of a..f
    attempts: np.ndarray  # [C] int64: the accepted attempt of each class
    meta: dict = field(default_factory=dict)

    @property
    def n_categories(self) -> int:
        return int(self.factors.shape[0])

    def system(self, k: int) -> np.ndarray:
        """Class k's system [N, 7]: the base's a..f times its multipliers, the base's p."""
        out = self.base.copy()
        out[:, :6] = self.base[:, :6] * self.factors[k]
        return out

    def head(self, n: int) -> "OnePFracTable":
        return OnePFracTable(self.base, self.factors[:n], self.attempts[:n], self.meta)

    def digest(self) -> str:
        h = hashlib.sha256()
        for arr in (self.base, self.factors):
            h.update(np.ascontiguousarray(arr, dtype="<f8").tobytes())
        return h.hexdigest()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"base": self.base, "factors": self.factors, "attempts": self.attempts}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict) -> "OnePFracTable":
        return cls(arrays["base"], arrays["factors"], arrays["attempts"], meta)
