"""Embedding cache: sentence embeddings computed once per (model, sentences) and reused from disk.

A cache entry is one `.npy` file (float32, L2-normalised rows, in input order) named by the sha256 of
the model's identity and the sentences, under `$AUGSBERT_CACHE/embeddings`, else
`$AUGSBERT_HOME/cache/embeddings`, else `~/.cache/augsbert/embeddings` (or a directory you pass).

The model identity is its weights, not its name: a model fine-tuned in place (same name, new weights)
gets a new key. Hashing MiniLM's 22M parameters takes ~0.05 s, negligible beside encoding. Writes are
atomic (temporary file in the same folder + rename), so a crash or a concurrent writer never leaves a
half-written entry; a corrupt or truncated entry is ignored and recomputed. Large entries are read
memory-mapped.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..atomic import atomic_path

KEY_VERSION = "augsbert-embeddings-v1"


def cache_dir(path: str | Path | None = None) -> Path:
    """The embeddings cache folder (created on first write)."""
    if path is not None:
        return Path(path).expanduser()
    if os.environ.get("AUGSBERT_CACHE"):
        return Path(os.environ["AUGSBERT_CACHE"]).expanduser() / "embeddings"
    if os.environ.get("AUGSBERT_HOME"):
        return Path(os.environ["AUGSBERT_HOME"]).expanduser() / "cache" / "embeddings"
    return Path.home() / ".cache" / "augsbert" / "embeddings"


def model_fingerprint(model) -> str:
    """sha256 of a model's identity: class, name/path, max length, and every parameter's bytes.

    Accepts a SentenceTransformer / CrossEncoder / torch module, or a string taken as-is (for callers
    that already know an immutable identity, e.g. a hub name pinned to a revision)."""
    if isinstance(model, str):
        return hashlib.sha256(model.encode()).hexdigest()
    import torch  # noqa: PLC0415 - torch takes seconds to import; only training and encoding need it

    h = hashlib.sha256()
    h.update(type(model).__name__.encode())
    for attr in ("max_seq_length", "max_length"):
        h.update(f"{attr}={getattr(model, attr, None)}".encode())
    state = model.state_dict() if hasattr(model, "state_dict") else {}
    for name, tensor in state.items():
        h.update(name.encode())
        t = tensor.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        if t.numel():
            h.update(t.contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def data_fingerprint(sentences: Sequence[str]) -> str:
    """sha256 of the sentences in order (length-prefixed, so boundaries count)."""
    h = hashlib.sha256()
    for s in sentences:
        b = s.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def cache_key(model_id: str, sentences: Sequence[str], *, normalize: bool = True, extra: str = "") -> str:
    h = hashlib.sha256()
    for part in (KEY_VERSION, model_id, data_fingerprint(sentences), f"normalize={normalize}", extra):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def load_cached(path: Path, n: int, mmap_min_bytes: int = 64 << 20) -> np.ndarray | None:
    """The entry at `path` if it is complete and has `n` rows, else None."""
    try:
        mmap = "r" if path.stat().st_size >= mmap_min_bytes else None
        arr = np.load(path, mmap_mode=mmap, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if arr.ndim != 2 or arr.shape[0] != n or arr.dtype != np.float32:
        return None
    return arr


def save_atomic(path: Path, array: np.ndarray) -> None:
    """Write `array` as .npy to `path` atomically (see atomic.atomic_path), flushed to disk before the rename."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())


def cached_embeddings(
    model,
    sentences: Sequence[str],
    compute: Callable[[], np.ndarray],
    *,
    directory: str | Path | None = None,
    model_id: str | None = None,
    normalize: bool = True,
) -> tuple[np.ndarray, bool]:
    """(embeddings, hit): the cached entry for (model, sentences) or `compute()` stored for next time."""
    key = cache_key(model_id or model_fingerprint(model), sentences, normalize=normalize)
    path = cache_dir(directory) / f"{key}.npy"
    hit = load_cached(path, len(sentences))
    if hit is not None:
        return hit, True
    emb = compute()
    try:
        save_atomic(path, emb)
    except OSError:  # a read-only or full disk must not fail the run: the cache is an optimisation
        pass
    return emb, False


def clear_cache(directory: str | Path | None = None) -> int:
    """Delete every cache entry; returns how many files were removed."""
    d = cache_dir(directory)
    removed = 0
    for p in d.glob("*.npy"):
        p.unlink(missing_ok=True)
        removed += 1
    return removed
