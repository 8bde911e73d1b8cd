"""Where searched category tables come from: shipped with the package, the user cache, or a new search.

The published FractalDB/2D-OFDB table (seed 1, the original's settings) ships with the package for
21,000 categories (`fdsl_gen/data/`, made by tools/make_published_tables.py). Any other search (2D, 3D
or 1p-frac's sampling), or more categories, is computed once, continued from the longest table already
known, and kept in the cache folder (FDSL_CACHE_DIR, default ~/.cache/fdsl-gen) under a name made from
what identifies the search's results (`cache_name`). The search itself is passed in.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from ... import _env
from . import CategoryTable

PUBLISHED_TABLE_PATH = Path(__file__).resolve().parents[2] / "data" / "ifs2d_published_seed1.safetensors"

# search(n, start, progress) -> the first n categories, continuing the table `start` (or None)
Search = Callable[..., CategoryTable]


def cache_name(prefix: str, identity: dict) -> str:
    """The cache file's stem for a search identified by `identity` (JSON-able)."""
    return f"{prefix}-{hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]}"


def _cache_path(name: str) -> Path:
    return _env.cache_dir() / f"{name}.safetensors"


def _known(kind: type[CategoryTable], name: str, shipped: Path | None) -> CategoryTable | None:
    """The longest table of this search already on disk, if any."""
    found = []
    if shipped is not None and shipped.exists():
        found.append(kind.load(shipped))
    cached = _cache_path(name)
    if cached.exists():
        try:
            found.append(kind.load(cached))
        except (ValueError, OSError):
            cached.unlink(missing_ok=True)  # a damaged cache entry is recomputed, never trusted
    return max(found, key=lambda t: t.n_categories, default=None)


def cached_table(kind: type[CategoryTable], name: str, n: int, search: Search, shipped: Path | None = None,
                 progress=None) -> CategoryTable:
    """The first n categories of a search, searching only for what no known table holds.

    Args:
        kind: the table type (`load` reads the shipped and cached files).
        name: the cache file's stem (`cache_name`).
        n: categories wanted.
        search: runs the search, `search(n, start, progress)`.
        shipped: a table file of this exact search that ships with the package, if any.
        progress: called with 1 per newly accepted category; if it has a `known(k)` method, that is told
            first how many categories a cached or shipped table already holds (so that a progress bar
            counts and times only the search still to do).
    """
    start = _known(kind, name, shipped)
    if start is not None and start.n_categories >= n:
        return start.head(n)
    if start is not None and hasattr(progress, "known"):
        progress.known(start.n_categories)
    table = search(n, start, progress)
    path = _cache_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.save(path)
    return table
