"""The FractalDB category search (shared by fractaldb and ofdb), in two modes.

`published` replays the original search (docs/spec/fractals.md §1.1): one legacy NumPy stream seeded
with 1, drawing per candidate N = randint(2, 8), then uniform(-1, 1, 6) per map, then a block of
`n_points` uniforms for the candidate's own chaos game; p_i = |a d - b c| / sum, in the original's
order; accept iff (lit pixels of a point render at 512², pad 6) / 512² >= 0.2. Category k is then
exactly category k of FractalDB-1k and 2D-OFDB-1k/21k. The stream is sequential, so candidates are
drawn in order and only their evaluation runs in parallel.

`native` draws candidate i from Philox (key (seed, "ifs2d/search"), counter category = i) and
evaluates it on the fixed map-choice sequence that renders use, so any candidate can be evaluated
anywhere, in any order; category k is the k-th accepted candidate in index order.

Both modes produce tables whose prefixes are the smaller tables, so a table is cached once and
continued when more categories are asked for.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from ... import rng
from .batch import MAX_MAPS, pack_systems
from .draw_constants import PAD, map_sequence
from ..tables.ifs import IFSTable

SEARCH_MODES = ("published", "native")
NATIVE_STREAM = "ifs2d/search"
_NATIVE_WORDS = 1 + 2 * 6 * MAX_MAPS  # N, then two words per float64 parameter


@dataclass(frozen=True)
class SearchConfig:
    """A category search; the defaults are the original's (`ifs_search.py` with its launcher values)."""

    mode: str = "published"  # published | native
    seed: int = 1  # published: the legacy NumPy seed (the original: 1); native: the Philox seed
    fill_rate: float = 0.2  # accept iff lit pixels / size² >= fill_rate (the original's --rate)
    n_points: int = 100_000  # chaos-game points of a candidate (--numof_point)
    size: int = 512  # side of the candidate's point render
    pad: int = PAD

    def __post_init__(self):
        if self.mode not in SEARCH_MODES:
            raise ValueError(f"search must be one of {', '.join(SEARCH_MODES)}, got {self.mode!r}")
        rng.check_seed(self.seed)
        if not 0.0 < self.fill_rate <= 1.0:
            raise ValueError(f"fill rate must be in (0, 1], got {self.fill_rate}")
        if self.n_points < 2 or self.size <= 2 * self.pad:
            raise ValueError("search needs at least 2 points and a size above twice the pad")
        if self.n_points < self.fill_rate * self.size**2:
            raise ValueError(f"{self.n_points} points light at most {self.n_points} of {self.size}² pixels: a fill "
                             f"rate of {self.fill_rate} needs at least {math.ceil(self.fill_rate * self.size**2)}")

    def meta(self) -> dict:
        return {"search": self.mode, **{k: v for k, v in asdict(self).items() if k != "mode"}}


FillFn = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int], np.ndarray]


def with_probabilities(params: np.ndarray) -> np.ndarray:
    """[N, 6] maps (a..f) -> [N, 7] with p = |a d - b c| / sum, evaluated in the original's order."""
    out = np.zeros((params.shape[0], 7), dtype=np.float64)
    total = 0.0
    for i, (a, b, c, d, e, f) in enumerate(params.tolist()):
        prob = abs(a * d - b * c)
        total += prob
        out[i] = a, b, c, d, e, f, prob
    out[:, 6] /= total
    return out


def _accepts(filled: int, cfg: SearchConfig) -> bool:
    return filled / float(cfg.size * cfg.size) >= cfg.fill_rate


def collect_accepted(systems: list, candidates: list, accepted, n: int, progress) -> int:
    """Append accepted candidates in order until `systems` holds n; returns how many candidates were examined."""
    for i, cand in enumerate(candidates):
        if accepted[i]:
            systems.append(cand)
            if progress:
                progress(1)
            if len(systems) == n:
                return i + 1
    return len(candidates)


def _published(cfg: SearchConfig, n: int, start: IFSTable | None, fill: FillFn, batch: int, progress) -> IFSTable:
    if start is not None and "mt_key" not in start.state:
        start = None  # a prefix of a published table cannot be continued: its stream state is gone
    systems = [start.system(k).copy() for k in range(start.n_categories)] if start else []
    examined = int(start.meta.get("candidates", 0)) if start else 0
    rs = np.random.RandomState(cfg.seed)
    if start is not None:
        rs.set_state(("MT19937", start.state["mt_key"], int(start.state["mt_pos"][0]), 0, 0.0))
    state = rs.get_state()
    u = np.empty((batch, cfg.n_points))
    while len(systems) < n:
        cands, states = [], []
        for i in range(batch):
            n_maps = rs.randint(2, 8)
            cands.append(with_probabilities(np.stack([rs.uniform(-1.0, 1.0, 6) for _ in range(n_maps)])))
            u[i] = rs.random_sample(cfg.n_points)
            states.append(rs.get_state())
        packed, n_maps = pack_systems(cands)
        filled = fill(packed, n_maps, u, np.arange(batch), cfg.size, cfg.pad)
        taken = collect_accepted(systems, cands, [_accepts(int(f), cfg) for f in filled], n, progress)
        examined += taken
        state = states[taken - 1]  # the stream right after the last candidate examined
    key, pos = state[1], state[2]
    meta = {**cfg.meta(), "candidates": examined}
    return IFSTable.from_systems(systems, meta, {"mt_key": np.asarray(key, np.uint32), "mt_pos": np.array([pos])})


def native_candidates(seed: int, first: int, count: int) -> list[np.ndarray]:
    """Native candidates first .. first + count - 1: a list of [N_i, 7] systems."""
    ids = np.arange(first, first + count, dtype=np.uint64)
    words = rng.philox_words(seed, rng.stream_id(NATIVE_STREAM), ids, 0, _NATIVE_WORDS)
    n_maps = 2 + rng.bounded(words[:, 0], 6)
    params = -1.0 + 2.0 * rng.uniform53(words[:, 1::2], words[:, 2::2])  # [count, 42]
    params = params.reshape(count, MAX_MAPS, 6)
    return [with_probabilities(params[i, : n_maps[i]]) for i in range(count)]


def _native(cfg: SearchConfig, n: int, start: IFSTable | None, fill: FillFn, batch: int, progress) -> IFSTable:
    systems = [start.system(k).copy() for k in range(start.n_categories)] if start else []
    examined = int(start.meta.get("candidates", 0)) if start else 0
    u = map_sequence(cfg.n_points)[None, :]
    while len(systems) < n:
        cands = native_candidates(cfg.seed, examined, batch)
        packed, n_maps = pack_systems(cands)
        filled = fill(packed, n_maps, u, np.zeros(batch, np.int64), cfg.size, cfg.pad)
        examined += collect_accepted(systems, cands, [_accepts(int(f), cfg) for f in filled], n, progress)
    return IFSTable.from_systems(systems, {**cfg.meta(), "candidates": examined})


def run_search(cfg: SearchConfig, n: int, fill: FillFn, start: IFSTable | None = None,
               batch: int = 64, progress=None) -> IFSTable:
    """Search until the table has n categories, continuing `start` (a table of this search) if given.

    Args:
        cfg: the search.
        n: categories wanted.
        fill: the backend's fill counter, `point_fill_counts(systems, n_maps, u [R, n], u_row, size, pad)`.
        start: a smaller table made by the same search, with its state, to continue from.
        batch: candidates evaluated per parallel call.
        progress: called with 1 per accepted category.

    Returns:
        The table of the first n categories.
    """
    if start is not None and start.n_categories >= n:
        return start.head(n)
    engine = _published if cfg.mode == "published" else _native
    return engine(cfg, n, start, fill, batch, progress)
