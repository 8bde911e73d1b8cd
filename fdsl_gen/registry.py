"""The database registry: databases register themselves; the CLI, tests and benchmarks iterate over it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import UsageError

if TYPE_CHECKING:
    from .databases._base import Database

_DATABASES: dict[str, type] = {}
_ALIASES: dict[str, str] = {}


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def register_database(cls: type) -> type:
    """Class decorator: register a Database subclass under its `key` and `aliases`."""
    key = cls.key
    if key in _DATABASES:
        raise RuntimeError(f"database {key!r} registered twice")
    _DATABASES[key] = cls
    for name in (key, *cls.aliases):
        _ALIASES[_normalise(name)] = key
    return cls


def _load_all() -> None:
    from . import databases  # noqa: F401  (importing the package registers every database)


def list_databases() -> list[str]:
    """The registered database keys, in registration order."""
    _load_all()
    return list(_DATABASES)


def database_class(name: str) -> type:
    """The Database class for a key or one of its aliases (`1p-frac`, `FractalDB`, `2d-ofdb`, ...)."""
    _load_all()
    key = _ALIASES.get(_normalise(name))
    if key is None:
        raise UsageError(f"unknown database {name!r}; choose one of: {', '.join(_DATABASES)}")
    return _DATABASES[key]


def get_database(name: str, **options) -> "Database":
    """Build a database: `get_database("ofdb", categories=1000, seed=0)`; options are its config fields."""
    return database_class(name).from_options(**options)
