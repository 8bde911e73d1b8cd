"""The manifest written beside every exported dataset: what it is, how it was made, whether it is complete.

Its `identity` part (database, full config, table hash, format options, version) decides whether an
existing output folder may be resumed: a render into a folder whose identity differs is refused.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from .. import __version__
from ..errors import UsageError
from ..io.atomic import atomic_write_bytes

MANIFEST = "manifest.json"


def identity(db, table_digest: str, fmt: dict) -> dict:
    """The fields that define the dataset's bytes."""
    return {"fdsl_gen_version": __version__, **db.describe(), "table_sha256": table_digest,
            "n_categories": db.n_categories, "n_instances": db.n_instances, "image_shape": list(db.image_shape),
            **fmt}


def read(out: Path) -> dict | None:
    path = Path(out) / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} cannot be read ({exc}); remove it or choose another --out") from None


def check_resumable(existing: dict | None, ident: dict, out: Path) -> None:
    """UsageError if `out` holds a dataset other than the one described by `ident`."""
    if existing is None:
        return
    differ = sorted(k for k in set(ident) | set(existing.get("identity", {}))
                    if existing.get("identity", {}).get(k) != ident.get(k))
    if differ:
        raise UsageError(f"{out} holds a different dataset (differs in {', '.join(differ)}); "
                         "choose another --out or delete it")


def write(out: Path, ident: dict, complete: bool, extra: dict | None = None) -> None:
    doc = {"identity": ident, "complete": complete, "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           **(extra or {})}
    atomic_write_bytes(Path(out) / MANIFEST, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())
