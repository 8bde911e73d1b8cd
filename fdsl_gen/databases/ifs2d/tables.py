"""Where category tables come from: the shipped published table, the user cache, or a new search.

The published FractalDB/2D-OFDB table (seed 1, the original's settings) ships with the package for
21,000 categories (`fdsl_gen/data/`, made by tools/make_published_tables.py). Any other search, or
more categories, is computed once, continued from the longest table already known, and kept in the
cache folder (FDSL_CACHE_DIR, default ~/.cache/fdsl-gen).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ... import _env
from .search import SearchConfig, run_search
from ..ifs_table import IFSTable

PUBLISHED_TABLE_PATH = Path(__file__).resolve().parents[2] / "data" / "ifs2d_published_seed1.safetensors"


def _cache_path(cfg: SearchConfig) -> Path:
    digest = hashlib.sha256(json.dumps(cfg.meta(), sort_keys=True).encode()).hexdigest()[:16]
    return _env.cache_dir() / f"ifs2d-{cfg.mode}-{digest}.safetensors"


def _known(cfg: SearchConfig) -> IFSTable | None:
    """The longest table of this search already on disk, if any."""
    found = []
    if cfg == SearchConfig() and PUBLISHED_TABLE_PATH.exists():
        found.append(IFSTable.load(PUBLISHED_TABLE_PATH))
    cached = _cache_path(cfg)
    if cached.exists():
        try:
            found.append(IFSTable.load(cached))
        except (ValueError, OSError):
            cached.unlink(missing_ok=True)  # a damaged cache entry is recomputed, never trusted
    return max(found, key=lambda t: t.n_categories, default=None)


def category_table(cfg: SearchConfig, n: int, fill, progress=None) -> IFSTable:
    """The first n categories of search `cfg`, searching only for what no known table holds."""
    start = _known(cfg)
    if start is not None and start.n_categories >= n:
        return start.head(n)
    table = run_search(cfg, n, fill, start=start, progress=progress)
    path = _cache_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.save(path)
    return table
