"""The documentation stays true to the tree: every `docs/spec/<file>.md §N` the code cites exists, and nothing
cites documents outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for d in ("fdsl_gen", "tests", "benchmarks", "tools", "csrc", "docs") for p in (ROOT / d).rglob("*")
           if p.suffix in (".py", ".md", ".cu", ".cuh", ".h", ".sh")] + [ROOT / "README.md"]
CITATION = re.compile(r"docs/spec/(\w+)\.md((?:,? ?§\s?[\d.]+(?:\s?[-–]\s?[\d.]+)?(?:,? and)?)*)")


def headings(doc: Path) -> set[str]:
    """The section numbers of a spec file: "1", "1.3", ... from headings "## 1. ..." and "### 1.3 ..."."""
    return {m.group(1).rstrip(".") for m in re.finditer(r"(?m)^#{2,4} (\d+(?:\.\d+)*)\.?\s", doc.read_text())}


def test_every_cited_spec_section_exists():
    cited = 0
    for path in SOURCES:
        if path.name == "test_docs.py":
            continue
        for m in CITATION.finditer(path.read_text(errors="replace")):
            doc = ROOT / "docs" / "spec" / f"{m.group(1)}.md"
            assert doc.is_file(), f"{path.relative_to(ROOT)} cites {doc.relative_to(ROOT)}, which does not exist"
            have = headings(doc)
            for number in re.findall(r"§\s?([\d.]+)", m.group(2)):
                cited += 1
                where = path.relative_to(ROOT)
                assert number.rstrip(".") in have, f"{where} cites {doc.name} §{number}: no such section"
    assert cited >= 30  # the code does cite the specification


def test_nothing_cites_documents_outside_the_repository():
    outside = re.compile(r"(?<![\w/])research/\w+\.md|\bSPEC §|\bresearch notes\b|\.\./shared")
    found = [f"{p.relative_to(ROOT)}:{n + 1}" for p in SOURCES if p.name != "test_docs.py"
             for n, line in enumerate(p.read_text(errors="replace").splitlines()) if outside.search(line)]
    assert found == []


def test_the_architecture_map_names_only_what_exists():
    """Every file or folder docs/architecture.md names (`<key>` standing for any key) is in the tree, and
    every class it names is defined in the package."""
    import fnmatch

    text = (ROOT / "docs" / "architecture.md").read_text()
    tree = [p.relative_to(ROOT).as_posix() + ("/" if p.is_dir() else "")
            for d in ("fdsl_gen", "csrc", "tests", "tools", "benchmarks", "docs") for p in [ROOT / d, *(ROOT / d).rglob("*")]
            if "__pycache__" not in p.parts]
    built = {"fdsl_gen/_csrc"}  # made by packaging (setup.py copies csrc/ into the wheel)
    names = [t for t in re.findall(r"`([^`\s]+)`", text) if t.endswith((".py", ".md", ".cu", ".cuh", ".sh", "/"))]
    assert len(names) >= 40
    for name in names:
        pattern = name.replace("<key>", "*")
        if name.rstrip("/") in built:
            continue
        assert any(fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, "*/" + pattern) for p in tree), name
    package = "\n".join(p.read_text() for p in (ROOT / "fdsl_gen").rglob("*.py"))
    for cls in set(re.findall(r"`([A-Z]\w*[a-z]\w*)`", text)) - {"RESULTS.md"}:
        assert re.search(rf"(?m)^class {cls}\b", package), f"docs/architecture.md names class {cls}, not defined"
