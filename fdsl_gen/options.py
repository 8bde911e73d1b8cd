"""Database options on the command line: one parser and one table of spellings.

A command declares the database options everyone uses (`--categories`, `--instances`, `--size`, ...)
so that its --help lists them. Any other `--name VALUE` (or `--name=VALUE`) it leaves over is read
here: a field of the database's config (`--vertex-num-max 500`, or the originals' spelling
`--vertex_num_max 500`), or one of the originals' flag names: `ALIASES` for every database, plus the
database's own `option_aliases` (`--rate` for `fill_rate`, `--numof_thread` for `processes`, ...).

`database_options` merges the declared values and the leftovers into one {field: value}. Values are
converted to the field's type. A bad name or value, an option given twice under two spellings
(`--size 96 --image_size 128`), or a leftover that is the command's own option misspelt (`--image_size`
where the command means `--image-size`) is a UsageError naming what is allowed.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable

from .errors import UsageError

ALIASES = {"numof_classes": "categories", "numof_instances": "instances", "image_size": "size"}


def aliases_of(cls) -> dict:
    """{spelling: field} of every alias database class `cls` accepts."""
    return {**ALIASES, **getattr(cls, "option_aliases", {})}


def _convert(name: str, text: str, kind):
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    target = args[0] if args else kind
    try:
        return target(text)
    except ValueError:
        what = {int: "an integer", float: "a number"}.get(target, "a value")
        raise UsageError(f"--{name} expects {what}, got {text!r}") from None


def _tokens(tokens: list[str]):
    """(name as typed, value) of each `--name VALUE` / `--name=VALUE` in tokens."""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--"):
            raise UsageError(f"unexpected argument {token!r}")
        name, has_value, value = token[2:].partition("=")
        if not has_value:
            if i + 1 >= len(tokens):
                raise UsageError(f"option --{name} needs a value")
            value = tokens[i + 1]
            i += 1
        yield name, value
        i += 1


def database_options(cls, given: dict, tokens: list[str], command_options: Iterable[str] = ()) -> dict:
    """{field: value} for database class `cls`.

    Args:
        given: what the command's declared options parsed ({field: value}; None means not given).
        tokens: the command-line tokens the command left over.
        command_options: the command's own parameter names, so that a leftover spelling one of them
            (with underscores instead of dashes) is reported instead of read as a database option.
    """
    hints = typing.get_type_hints(cls.Config)
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    aliases = aliases_of(cls)
    own = set(command_options) - fields
    options = {k: v for k, v in given.items() if v is not None}
    spelled = {k: k.replace("_", "-") for k in options}
    for name, value in _tokens(tokens):
        typed = name.replace("-", "_")
        key = aliases.get(typed, typed)
        if typed in own:
            raise UsageError(f"--{name}: this command's option is spelled --{typed.replace('_', '-')}")
        if key not in fields:
            raise UsageError(f"{cls.key} has no option --{name}; its options: "
                             + ", ".join("--" + f.replace("_", "-") for f in sorted(fields)))
        if key in options:
            raise UsageError(f"{key} is given twice (--{spelled[key]} and --{name})")
        options[key], spelled[key] = _convert(name, value, hints[key]), name
    return options
