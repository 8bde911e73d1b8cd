"""The 3D category search (docs/spec/fractals.md §4.1), from our counter-based generator.

Candidate i draws N ~ U{2..7} and 12 parameters U(-1, 1) per map from Philox (key (seed, "ifs3d/search"),
counter category = i); p = |det A| / sum (cofactor expansion along the first row); its 10,000 chaos-game
uniforms come from the stream "ifs3d/search-points" at (i, 0). It is accepted when its normalised,
centred point cloud is finite and the variance of each axis exceeds the threshold (0.05 in every
launcher). The originals' search is unseeded, so only this seeded search exists; category k is the k-th
accepted candidate, whatever the batch size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ... import rng
from ..ifs2d.search import collect_accepted
from ..tables.ifs import IFSTable
from .batch import MAX_MAPS, Settings3D, pack_systems

SEARCH_STREAM = "ifs3d/search"
POINTS_STREAM = "ifs3d/search-points"
_WORDS = 1 + 2 * 12 * MAX_MAPS


@dataclass(frozen=True)
class Search3DConfig:
    seed: int = 0
    threshold: float = 0.05  # per-axis variance to exceed (the launchers' --variance)
    n_points: int = 10_000  # --point_num
    mode: str = "native"

    def meta(self) -> dict:
        return {"search": "native-3d", **{k: v for k, v in asdict(self).items() if k != "mode"}}


def with_probabilities(params: np.ndarray) -> np.ndarray:
    """[N, 12] -> [N, 13] with p = |det A| / sum, det by cofactors along the first row, left to right."""
    out = np.zeros((params.shape[0], 13))
    total = 0.0
    for m, (a, b, c, d, e, f, g, h, i, *_rest) in enumerate(params.tolist()):
        prob = abs(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g))
        total += prob
        out[m, :12] = params[m]
        out[m, 12] = prob
    out[:, 12] /= total
    return out


def candidates(seed: int, first: int, count: int) -> list[np.ndarray]:
    ids = np.arange(first, first + count, dtype=np.uint64)
    words = rng.philox_words(seed, rng.stream_id(SEARCH_STREAM), ids, 0, _WORDS)
    n_maps = 2 + rng.bounded(words[:, 0], 6)
    params = (-1.0 + 2.0 * rng.uniform53(words[:, 1::2], words[:, 2::2])).reshape(count, MAX_MAPS, 12)
    return [with_probabilities(params[i, : n_maps[i]]) for i in range(count)]


def run_search(cfg: Search3DConfig, n: int, evaluate, start: IFSTable | None = None, progress=None,
               batch: int = 256) -> IFSTable:
    """The first n accepted categories, continuing `start` (a smaller table of this search) if given."""
    if start is not None and start.n_categories >= n:
        return start.head(n)
    systems = [start.system(k).copy() for k in range(start.n_categories)] if start else []
    examined = int(start.meta.get("candidates", 0)) if start else 0
    settings = Settings3D(size=1, n_points=cfg.n_points, seed=cfg.seed, stream=rng.stream_id(POINTS_STREAM))
    while len(systems) < n:
        cands = candidates(cfg.seed, examined, batch)
        packed, n_maps = pack_systems(cands)
        keys = np.stack([np.arange(examined, examined + batch), np.zeros(batch, np.int64)], axis=1)
        accepted = evaluate(packed, n_maps, keys, settings, cfg.threshold)
        examined += collect_accepted(systems, cands, accepted, n, progress)
    return IFSTable.from_systems(systems, {**cfg.meta(), "candidates": examined})
