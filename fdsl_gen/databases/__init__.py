"""The databases. Importing this package registers every one of them (nothing is compiled here)."""

from . import fractaldb, ofdb, onepfrac  # noqa: F401
