"""One-file containers of arrays (safetensors) with a JSON header, byte-for-byte reproducible.

safetensors keeps its string metadata in a hash map whose order varies between runs, so the whole
header goes into one metadata entry ("fdsl_gen") as sorted JSON: same arrays, same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .atomic import atomic_write_bytes

HEADER_KEY = "fdsl_gen"


def save_arrays(path: Path, arrays: dict[str, np.ndarray], header: dict) -> None:
    """Write arrays and a JSON-able header atomically."""
    from safetensors.numpy import save

    data = save({k: np.ascontiguousarray(v) for k, v in arrays.items()},
                metadata={HEADER_KEY: json.dumps(header, sort_keys=True)})
    atomic_write_bytes(Path(path), data)


def load_arrays(path: Path, fmt: str | tuple[str, ...]) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by `save_arrays`; ValueError unless its header names format `fmt` (or one of them)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            header = json.loads((f.metadata() or {}).get(HEADER_KEY, "{}"))
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises its own error types for a damaged file
        raise ValueError(f"{path} is not a readable table file ({exc})") from None
    allowed = (fmt,) if isinstance(fmt, str) else fmt
    if header.get("format") not in allowed:
        raise ValueError(f"{path} is not a {' or '.join(allowed)} file (format {header.get('format')!r})")
    return arrays, header
