"""Where searched category tables come from: shipped with the package, the user cache, or a new search.

The published FractalDB/2D-OFDB table (seed 1, the original's settings) ships with the package for
21,000 categories (`fdsl_gen/data/`, made by tools/make_published_tables.py). Any other search (2D or
3D), or more categories, is computed once, continued from the longest table already known, and kept in
the cache folder (FDSL_CACHE_DIR, default ~/.cache/fdsl-gen). A search config only needs `mode` and
`meta()` (what identifies its results); the search itself is passed in.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from .. import _env
from .ifs_table import IFSTable

PUBLISHED_TABLE_PATH = Path(__file__).resolve().parents[1] / "data" / "ifs2d_published_seed1.safetensors"

# engine(cfg, n, start, progress) -> the first n categories, continuing the table `start` if given
SearchEngine = Callable[..., IFSTable]


def _cache_path(cfg, family: str) -> Path:
    digest = hashlib.sha256(json.dumps(cfg.meta(), sort_keys=True).encode()).hexdigest()[:16]
    return _env.cache_dir() / f"{family}-{cfg.mode}-{digest}.safetensors"


def _known(cfg, family: str, shipped: Path | None) -> IFSTable | None:
    """The longest table of this search already on disk, if any."""
    found = []
    if shipped is not None and shipped.exists():
        found.append(IFSTable.load(shipped))
    cached = _cache_path(cfg, family)
    if cached.exists():
        try:
            found.append(IFSTable.load(cached))
        except (ValueError, OSError):
            cached.unlink(missing_ok=True)  # a damaged cache entry is recomputed, never trusted
    return max(found, key=lambda t: t.n_categories, default=None)


def category_table(cfg, n: int, engine: SearchEngine, family: str, shipped: Path | None = None,
                   progress=None) -> IFSTable:
    """The first n categories of search `cfg`, searching only for what no known table holds.

    Args:
        cfg: the search config (`mode`, `meta()`).
        n: categories wanted.
        engine: runs the search, `engine(cfg, n, start, progress)`.
        family: cache file prefix ("ifs2d", "ifs3d").
        shipped: a table file of this exact search that ships with the package, if any.
        progress: called with 1 per newly accepted category; if it has a `known(k)` method, that is told
            first how many categories a cached or shipped table already holds (so that a progress bar
            counts and times only the search still to do).
    """
    start = _known(cfg, family, shipped)
    if start is not None and start.n_categories >= n:
        return start.head(n)
    if start is not None and hasattr(progress, "known"):
        progress.known(start.n_categories)
    table = engine(cfg, n, start, progress)
    path = _cache_path(cfg, family)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.save(path)
    return table
