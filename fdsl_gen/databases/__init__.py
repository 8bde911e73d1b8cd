"""The databases. Importing this package registers every one of them (nothing is compiled here)."""

from . import fractaldb, ofdb, onepfrac, rcdb, visual_atom  # noqa: F401
