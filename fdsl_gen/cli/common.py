"""What every command shares: the app, the option types, one-line user errors, the database from options."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Formula-driven supervised learning datasets, rendered fast.")

def _path(value: str) -> Path:
    """An output path as typed: an empty one is an error (Path("") would be the current folder)."""
    if not str(value).strip():
        raise typer.BadParameter("an empty path; give a file or folder name")
    return Path(value)


JsonOption = typer.Option("--json", help="write the results as JSON", parser=_path)
Db = Annotated[str, typer.Option("--db", help="database key or paper spelling (fdsl-gen list)")]
Categories = Annotated[Optional[int], typer.Option("--categories", "-n",
                                                   help="number of categories (default 1000, or all of --table)")]
Seed = Annotated[Optional[int], typer.Option("--seed", help="seed of our draws (patches, native search)")]
Search = Annotated[Optional[str], typer.Option("--search", help="published (the original's table) | native")]
Size = Annotated[Optional[int], typer.Option("--size", help="native canvas side in pixels")]
Points = Annotated[Optional[int], typer.Option("--points", help="chaos-game points per image")]
DrawType = Annotated[Optional[str], typer.Option("--draw-type",
                                                 help="point_gray | patch_gray | point_color | patch_color")]
Instances = Annotated[Optional[int], typer.Option("--instances", help="instances per category (first ids)")]
Table = Annotated[Optional[str], typer.Option("--table", help="render this category table (file or folder)")]
Backend = Annotated[str, typer.Option("--backend", help="auto | cuda | numba | ref")]
EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}
EXTRA_HELP = ("Any option of the database's config also works as --name VALUE (fdsl-gen list shows them), "
              "and so do the originals' flag names (--numof_classes, --numof_instances, --image_size, ...).")


def _user_errors(fn):
    """Turn a UsageError into one line on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UsageError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper


def _database(db: str, ctx: typer.Context, defaults: dict | None = None, **options):
    """The database from the command's declared database options and the ones it left over (`ctx.args`);
    `defaults` fills what neither gave (a command's own default, such as preview's 16 categories)."""
    from ..options import database_options
    from ..registry import database_class

    cls = database_class(db)
    return cls.from_options(**{**(defaults or {}), **database_options(cls, options, ctx.args, ctx.params)})


def _write_json(path: Path, document) -> None:
    """The --json file of a command (indented, one trailing newline), and a line saying so."""
    path.write_text(json.dumps(document, indent=2) + "\n")
    typer.echo(f"wrote {path}")


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"fdsl-gen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                 help="print the version and exit")] = False) -> None:
    """Formula-driven supervised learning datasets, rendered fast."""
