"""Layers run one way: no module imports one of a higher layer, lazily or not (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fdsl_gen"
# low to high; a module may import its own layer and the ones below
LAYERS = [
    {"errors", "_env", "rng", "io", "options"},
    {"backends"},
    {"registry", "databases"},
    {"augment"},
    {"selfcheck"},
    {"export", "preview", "bench", "sampling", "dataset", "stream"},
    {"train"},
    {"cli", "__init__", "_csrc", "data"},
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def part(module: str) -> str:
    """The top-level piece of fdsl_gen a dotted module name belongs to ("__init__" for the package)."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def imports(source: str, module: str):
    """(line, imported fdsl_gen module) of every import in the source of `module`, inside functions too."""
    package = module.removesuffix(".__init__") if module.endswith(".__init__") else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module or ""
            if target == "fdsl_gen":
                for alias in node.names:
                    yield node.lineno, f"fdsl_gen.{alias.name}"
            elif target.startswith("fdsl_gen."):
                yield node.lineno, target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("fdsl_gen"):
                    yield node.lineno, alias.name


def test_every_part_of_the_package_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.name != "__pycache__"}
    assert parts - set(RANK) == set()


def test_no_import_goes_up_a_layer():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        here = part(module)
        for line, target in imports(path.read_text(), module):
            there = part(target)
            if there in ("__version__",):
                continue
            if RANK[there] > RANK[here]:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert upward == []


def test_the_walker_sees_lazy_and_relative_imports():
    planted = "import os\nfrom . import tensorfile\ndef f():\n    from ..train import vit\n    return vit\n"
    found = [t for _, t in imports(planted, "fdsl_gen.io.atomic")]
    assert found == ["fdsl_gen.io", "fdsl_gen.train"]
    assert RANK[part(found[1])] > RANK[part("fdsl_gen.io.atomic")]  # the test above would report it
