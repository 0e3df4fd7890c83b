"""The one way the project writes a file that others may be reading: a temp file in the same folder, then an
atomic rename, so a reader sees the old file or the new one, never half of one, and a failed write leaves no
temp file behind. And the one way it writes JSON: strict (`dumps_json`), an undefined number (NaN, infinity) is
`null`, never the bare `NaN` that browsers and strict parsers reject."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np


@contextmanager
def atomic_path(target: str | Path, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temp path beside `target`; write it inside the block. On success it replaces `target`
    (permissions `mode`); on any error it is removed and `target` is untouched."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically, flushed to disk before the rename."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def strict(obj: Any) -> Any:
    """`obj` with every non-finite float (NaN, infinity) as None, numpy scalars and arrays as Python numbers and
    lists, tuples as lists: what strict JSON can hold."""
    if isinstance(obj, dict):
        return {k: strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [strict(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps_json(obj: Any, *, default: Any = str, **kwargs: Any) -> str:
    """`json.dumps` of `strict(obj)` with `allow_nan=False`: undefined numbers are null (other objects `default`,
    str unless given)."""
    return json.dumps(strict(obj), allow_nan=False, default=default, **kwargs)


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, dumps_json(obj, indent=2, sort_keys=False) + "\n")
