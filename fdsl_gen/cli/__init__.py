"""The `fdsl-gen` command line: each command builds a config and calls one library function.

A user's mistake (unknown database, bad value, unwritable folder, ...) prints one line starting with
"error:" and exits with status 2; an interrupted job says how to resume and exits with 130; nothing
half-written is left behind. `common` holds the app and the shared options, `data` the dataset commands,
`train` the trainer's.
"""

from __future__ import annotations

import sys

import typer

from ..errors import Interrupted
from . import data, train  # noqa: F401  (registers the commands)
from .common import app
from .data import SearchProgress  # noqa: F401

__all__ = ["SearchProgress", "app", "main"]


def main() -> None:
    """Console entry point: command-line parsing errors also become one line and exit status 2."""
    try:
        code = app(standalone_mode=False)
    except Exception as exc:
        # typer's (vendored) click raises UsageError subclasses with exit_code 2 for bad options/values.
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `fdsl-gen`: the help text, not an error
            typer.echo(exc.format_message())
            sys.exit(0)
        if getattr(exc, "exit_code", None) == 2 and hasattr(exc, "format_message"):
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(2)
        if type(exc).__name__ == "Abort":
            typer.echo("interrupted", err=True)
            sys.exit(130)
        if isinstance(exc, Interrupted):
            typer.echo(str(exc), err=True)
            sys.exit(130)
        raise
    sys.exit(code if isinstance(code, int) else 0)
