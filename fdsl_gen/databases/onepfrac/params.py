"""1p-frac parameters (docs/spec/fractals.md §3, §5.1): one base fractal and a perturbation per class.

The original draws from unseeded generators; here every draw comes from Philox, in the original's
order, so a table is a pure function of (seed, sigma, delta, n_maps, classes, render settings):

- base: Anderson-Farrell's SVD sampler with N maps and sigma-factor U(sigma - 0.1, sigma + 0.1):
  reflection signs, rotation angles, the sigma-factor, the sequential singular-value sampler, the
  translations; A_i = U_i diag(s_i1, s_i2) V_i; p_i = |det A_i| / sum (as a d - b c);
- class k: each of the six parameters of each map times its own U(1 - delta, 1 + delta), p kept from
  the base; redrawn (attempt t = 0, 1, ...) until the class's instance-0 image has fill > threshold.
"""

from __future__ import annotations

import math

import numpy as np

from ... import rng

BASE_STREAM = "onepfrac/base"
PERTURB_STREAM = "onepfrac/perturb"


def sample_singular_values(n: int, alpha: float, draw: rng.WordStream) -> np.ndarray:
    """Anderson-Farrell's sequential sampler: [n, 2] with 0 <= s2 <= s1 <= 1 and sum(s1 + 2 s2) = alpha."""
    s = np.empty((n, 2))
    p = alpha
    q = alpha - 3 * n + 3
    for i in range(n - 1):
        s1 = draw.uniform(max(0, q / 3), min(1, p))
        q -= s1
        p -= s1
        s2 = draw.uniform(max(0, q / 2), min(s1, p / 2))
        q = q - 2 * s2 + 3
        p -= 2 * s2
        s[i] = s1, s2
    s2 = draw.uniform(max(0, (p - 1) / 2), p / 3)
    s[-1] = p - 2 * s2, s2
    return s


def sample_base(seed: int, n_maps: int, sigma: float, margin: float = 0.1) -> tuple[np.ndarray, float]:
    """The base system [n_maps, 7] (a, b, c, d, e, f, p) and its sigma-factor."""
    n = n_maps
    draw = rng.WordStream(seed, BASE_STREAM, 0, 0)
    signs = np.sign(draw.uniform(0.0, 1.0, 4 * n).reshape(2 * n, 2, 1) - 0.5) * np.eye(2)  # [2n, 2, 2]
    angle = draw.uniform(-math.pi, math.pi, 2 * n)
    sin, cos = np.sin(angle), np.cos(angle)
    rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # [2n, 2, 2]
    uv = rot @ signs
    alpha = draw.uniform(sigma - margin, sigma + margin)
    s = sample_singular_values(n, alpha, draw)
    linear = uv[:n] * s[:, None, :] @ uv[n:]  # U diag(s) V
    shift = draw.uniform(-1.0, 1.0, 2 * n).reshape(n, 2)
    a, b, c, d = linear[:, 0, 0], linear[:, 0, 1], linear[:, 1, 0], linear[:, 1, 1]
    det = np.abs(a * d - b * c)
    return np.stack([a, b, c, d, shift[:, 0], shift[:, 1], det / det.sum()], axis=1), alpha


def perturbation(seed: int, category: int, attempt: int, n_maps: int, delta: float) -> np.ndarray:
    """Attempt `attempt` of class `category`: multipliers [n_maps, 6], each U(1 - delta, 1 + delta)."""
    draw = rng.WordStream(seed, PERTURB_STREAM, category, attempt)
    return draw.uniform(1 - delta, 1 + delta, 6 * n_maps).reshape(n_maps, 6)
