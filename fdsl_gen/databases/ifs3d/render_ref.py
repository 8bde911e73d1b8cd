"""3D IFS models and views, the reference: plain Python and NumPy, written to be read.

The executable specification of docs/spec/fractals.md §4:

1. chaos game from the origin (not stored): P_{i+1} = map_j(P_i) with j the first map whose running sum
   of p reaches u_i; x' = x a + y b + z c + j, y' = x d + y e + z f + k, z' = x g + y h + z i + l (float64,
   left to right, no fused multiply-add); no match repeats the previous point;
2. one global min and max over all coordinates: q = ((v - min) / (max - min)) * 2 - 1;
3. centring by the coordinate sums (left to right) divided by n_points, not by the n_points - 1 points;
4. acceptance (search): every value finite and the variance of each axis above the threshold;
5. float32 points (the originals' PLY); a view: clip = M (x, y, z, 1) in float64, kept when
   -w <= x, y, z <= w; window position (ndc + 1) * size / 2 snapped to the nearest 1/256 of a pixel (half
   up); the point lights pixel (floor x, floor y); row 0 is the bottom of the view (as glReadPixels
   returns it and the originals save it); white on black.
"""

from __future__ import annotations

import numpy as np

from ... import rng
from .batch import Settings3D, ViewBatch

SUBPIXEL = 256.0  # 8 sub-pixel bits


def uniforms(seed: int, stream: int, category: int, model: int, n: int) -> np.ndarray:
    """The n chaos-game uniforms of one model (two Philox words each): float64 [n]."""
    words = rng.philox_words(seed, stream, category, model, 2 * n)
    return rng.uniform53(words[0::2], words[1::2])


def chaos_game(system: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Points 1 .. n-1 of one system ([N, 13]) on uniforms u [n]: float64 [3, n - 1]."""
    p = system[:, :12].tolist()
    cum, total = [], 0.0
    for pk in system[:, 12].tolist():
        total += pk
        cum.append(total)
    out = np.zeros((3, u.shape[0] - 1))
    x = y = z = 0.0
    for i in range(u.shape[0] - 1):
        ui = float(u[i])
        for j in range(len(cum)):
            if ui <= cum[j]:
                a, b, c, d, e, f, g, h, i9, tx, ty, tz = p[j]  # the originals' a .. i, then j, k, l
                x, y, z = x * a + y * b + z * c + tx, x * d + y * e + z * f + ty, x * g + y * h + z * i9 + tz
                break
        out[0, i], out[1, i], out[2, i] = x, y, z
    return out


def sequential_sum(v: np.ndarray) -> float:
    """Left-to-right float64 sum (as Python's sum over the values), not NumPy's pairwise sum."""
    return float(np.cumsum(v)[-1]) if v.size else 0.0


def normalise(points: np.ndarray, n_points: int) -> np.ndarray:
    """Global min-max to [-1, 1], then centred by sums / n_points: float64 [3, m]."""
    with np.errstate(all="ignore"):
        lo, hi = np.min(points), np.max(points)
        q = ((points - lo) / (hi - lo)) * 2.0 - 1.0
        return np.stack([q[r] - sequential_sum(q[r]) / n_points for r in range(3)])


def variances(q: np.ndarray) -> np.ndarray:
    """Population variance of each axis, sequential sums: float64 [3]."""
    m = q.shape[1]
    out = np.zeros(3)
    for r in range(3):
        mean = sequential_sum(q[r]) / m
        out[r] = sequential_sum((q[r] - mean) * (q[r] - mean)) / m
    return out


def model(system: np.ndarray, settings: Settings3D, category: int, model_id: int) -> tuple[np.ndarray, bool]:
    """(float32 points [3, n - 1], finite?) of one model."""
    u = uniforms(settings.seed, settings.stream, category, model_id, settings.n_points)
    q = normalise(chaos_game(system, u), settings.n_points)
    return q.astype(np.float32), bool(np.all(np.isfinite(q)))


def project(points: np.ndarray, mvp: np.ndarray, size: int) -> np.ndarray:
    """White points on black: uint8 [size, size], row 0 at the bottom of the view."""
    x, y, z = (points[r].astype(np.float64) for r in range(3))
    clip = [mvp[r, 0] * x + mvp[r, 1] * y + mvp[r, 2] * z + mvp[r, 3] for r in range(4)]
    cx, cy, cz, cw = clip
    inside = (cw > 0) & (np.abs(cx) <= cw) & (np.abs(cy) <= cw) & (np.abs(cz) <= cw)
    img = np.zeros((size, size), dtype=np.uint8)
    half = size / 2.0
    for px, py, keep in zip(cx / cw, cy / cw, inside):
        if not keep:
            continue
        col = np.floor(np.floor((px + 1.0) * half * SUBPIXEL + 0.5) / SUBPIXEL)
        row = np.floor(np.floor((py + 1.0) * half * SUBPIXEL + 0.5) / SUBPIXEL)
        if 0 <= col < size and 0 <= row < size:
            img[int(row), int(col)] = 255
    return img


def render(batch: ViewBatch, settings: Settings3D) -> np.ndarray:
    """Render a batch of views. Returns uint8 [B, 1, S, S]; a model that overflows (non-finite) draws nothing."""
    models = [model(batch.systems[s, : batch.n_maps[s]], settings, *(int(k) for k in batch.model_key[s]))
              for s in range(batch.systems.shape[0])]
    out = np.zeros((batch.size, 1, settings.size, settings.size), dtype=np.uint8)
    for b in range(batch.size):
        points, finite = models[batch.system_of[b]]
        if finite:
            out[b, 0] = project(points, batch.mvp[b], settings.size)
    return out


def evaluate(systems: np.ndarray, n_maps: np.ndarray, keys: np.ndarray, settings: Settings3D,
             threshold: float) -> np.ndarray:
    """Search acceptance of candidates (keys [U, 2] key their uniforms): bool [U]."""
    accepted = np.zeros(systems.shape[0], dtype=bool)
    for s in range(systems.shape[0]):
        u = uniforms(settings.seed, settings.stream, int(keys[s, 0]), int(keys[s, 1]), settings.n_points)
        q = normalise(chaos_game(systems[s, : n_maps[s]], u), settings.n_points)
        accepted[s] = bool(np.all(np.isfinite(q))) and bool(np.all(variances(q) > threshold))
    return accepted
