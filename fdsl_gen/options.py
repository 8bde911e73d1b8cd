"""Database options given on the command line as `--name VALUE` (or `--name=VALUE`).

Every field of a database's config is an option (`--vertex-num-max 500` or the originals' spelling
`--vertex_num_max 500`), plus each database's aliases for the originals' flag names (`--rate` for
`fill_rate`, `--numof_classes` for `categories`, ...). Values are converted to the field's type; a bad
name or value is a UsageError naming what is allowed.
"""

from __future__ import annotations

import dataclasses
import typing

from .errors import UsageError

COMMON_ALIASES = {"numof_classes": "categories", "numof_instances": "instances", "image_size": "size"}


def _convert(name: str, text: str, kind):
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    target = args[0] if args else kind
    try:
        return target(text)
    except ValueError:
        what = {int: "an integer", float: "a number"}.get(target, "a value")
        raise UsageError(f"--{name} expects {what}, got {text!r}") from None


def parse_options(cls, tokens: list[str]) -> dict:
    """Options {field: value} for database class `cls` from leftover command-line tokens."""
    hints = typing.get_type_hints(cls.Config)
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    aliases = {**COMMON_ALIASES, **getattr(cls, "option_aliases", {})}
    options, i = {}, 0
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
        key = name.replace("-", "_")
        key = aliases.get(key, key)
        if key not in fields:
            raise UsageError(f"{cls.key} has no option --{name}; its options: "
                             + ", ".join("--" + f.replace("_", "-") for f in sorted(fields)))
        options[key] = _convert(name, value, hints[key])
        i += 1
    return options
