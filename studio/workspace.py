"""The workspace: `$AUGSBERT_HOME` (default `./workspace`) with `data/` (the active dataset) and `runs/`.

The active dataset is one file per role saved under `data/` (with canonical column names, so runs need no
column map) and described by `data/dataset.json`. An upload is validated by the core loaders from a
temporary copy first: a rejected file writes nothing to the workspace."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from augsbert_core import data as core_data
from augsbert_core.runs import RunStore, atomic_write_json

from . import security

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO_ROOT / "demo"

#: Roles of the data files, in display order: (key, title, help).
ROLES: dict[str, tuple[str, str]] = {
    "train": ("Gold train pairs", "Labeled pairs the teacher and the students learn from (scenarios 1 and 2)."),
    "dev": ("Gold dev pairs", "Labeled pairs for model selection, live evaluation and the readiness gate."),
    "test": ("Gold test pairs", "Labeled pairs every model is scored on (required)."),
    "unlabeled": (
        "Unlabeled sentences or pairs",
        "In-domain text the samplers recombine into silver pairs (scenarios 2 and 3).",
    ),
    "source_train": (
        "Source-domain gold (scenario 3)",
        "Labeled pairs of another domain: the scenario-3 teacher learns from them.",
    ),
    "source_dev": (
        "Source-domain dev (scenario 3, optional)",
        "Labeled source-domain pairs for the teacher's evaluation.",
    ),
}
PAIR_ROLES = ("train", "dev", "test", "source_train", "source_dev")
UPLOAD_TYPES = ["csv", "tsv", "jsonl", "json", "parquet", "txt"]

#: Canonical columns a role needs: pairs need both sentences and a score or label.
PAIR_TARGETS = ("sentence1", "sentence2", "score", "label")
UNLABELED_TARGETS = ("sentence1", "sentence2", "sentence")

DEMOS: dict[str, dict[str, Any]] = {
    "stsb-quick": {
        "title": "STSb quick demo",
        "blurb": "64 gold pairs, 60 unlabeled sentences: a first result in a few minutes on a CPU, but a teacher "
        "trained on 64 pairs is too weak to help (the readiness gate says so).",
        "files": {
            "train": ("stsb/train.csv", 64),
            "dev": ("stsb/dev.csv", 40),
            "test": ("stsb/test.csv", 60),
            "unlabeled": ("stsb/unlabeled.csv", 60),
        },
    },
    "stsb": {
        "title": "STSb full demo",
        "blurb": "1,000 gold pairs, 4,749 unlabeled pairs (STSb train pairs with their scores dropped), the full "
        "STSb test split: about 11 minutes on 2 CPU cores, a few minutes on a GPU.",
        "files": {
            "train": ("stsb/train.csv", None),
            "dev": ("stsb/dev.csv", None),
            "test": ("stsb/test.csv", None),
            "unlabeled": ("stsb/unlabeled_pairs.csv", None),
        },
    },
    "stsb-to-quora": {
        "title": "STSb → Quora (scenario 3)",
        "scenario": 3,
        "blurb": "Teacher learns from STSb scores; silver labels for 2,000 unlabeled Quora question pairs.",
        "files": {
            "source_train": ("stsb/train.csv", None),
            "source_dev": ("stsb/dev.csv", None),
            "dev": ("quora/dev.csv", None),
            "test": ("quora/test.csv", None),
            "unlabeled": ("quora/unlabeled.csv", None),
        },
    },
}


# ------------------------------------------------------------------------------------------------ paths
def home() -> Path:
    """The workspace folder: $AUGSBERT_HOME, else ./workspace (created on first use)."""
    path = Path(os.environ.get("AUGSBERT_HOME") or "workspace").expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    path = home() / "data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    return home() / "runs"


def store() -> RunStore:
    return RunStore(runs_dir())


def manifest_path() -> Path:
    return data_dir() / "dataset.json"


# --------------------------------------------------------------------------------------------- manifest
def read_manifest() -> dict[str, Any]:
    """{'source': 'upload' | demo key, 'files': {role: {...}}}; roles whose file vanished are dropped."""
    path = manifest_path()
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {"source": None, "files": {}}
    files = {
        role: info
        for role, info in (manifest.get("files") or {}).items()
        if role in ROLES and (data_dir() / info.get("file", "")).is_file()
    }
    manifest["files"] = files
    return manifest


def write_manifest(manifest: dict[str, Any]) -> None:
    atomic_write_json(manifest_path(), manifest)


def role_path(role: str) -> Path | None:
    """Absolute path of the saved file of `role`, or None."""
    info = read_manifest()["files"].get(role)
    return data_dir() / info["file"] if info else None


def has_data() -> bool:
    return "test" in read_manifest()["files"]


def remove_role(role: str) -> None:
    manifest = read_manifest()
    info = manifest["files"].pop(role, None)
    if info:
        (data_dir() / info["file"]).unlink(missing_ok=True)
    manifest["source"] = "upload" if manifest["files"] else None
    write_manifest(manifest)


# ---------------------------------------------------------------------------------------------- uploads
@dataclass
class UploadResult:
    """Outcome of validating an upload: `error` (a core DataError) or the saved file's manifest entry."""

    role: str
    error: core_data.DataError | None = None
    entry: dict[str, Any] | None = None
    warnings: list[str] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def safe_filename(name: str) -> str:
    """A plain file name safe to write in a folder: no directory part (also none written with '\\'), no leading
    dot, only letters, digits, '.', '_' and '-', at most 120 characters; keeps the extension chain ('.csv.gz')."""
    base = re.split(r"[/\\]", str(name))[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base)
    cleaned = re.sub(r"\.{2,}", ".", cleaned).lstrip("._-")
    if "." not in cleaned:  # '' or a bare extension such as 'csv' (from '.csv')
        cleaned = "upload." + (cleaned or "csv")
    ext = re.search(r"(\.[A-Za-z0-9]{1,10}){0,2}$", cleaned).group()
    return cleaned[: len(cleaned) - len(ext)][: 120 - len(ext)] + ext
    return cleaned


def _too_big(filename: str, payload: bytes) -> core_data.DataError | None:
    """The upload cap (server.maxUploadSize) and the gzip expansion cap, checked before anything is parsed."""
    problem = security.upload_problem(filename, payload)
    if problem is None:
        return None
    return core_data.DataError([core_data.Problem(display_name(filename), None, None, problem)])


def display_name(filename: str) -> str:
    """The uploaded file's own name (no directory part), for messages."""
    return re.split(r"[/\\]", str(filename))[-1] or "upload"


def read_columns(filename: str, payload: bytes) -> tuple[list[str] | None, core_data.DataError | None]:
    """The column names of an uploaded file (as spelled in it), or the core's DataError."""
    too_big = _too_big(filename, payload)
    if too_big is not None:
        return None, too_big
    with tempfile.TemporaryDirectory(prefix="augsbert-upload-") as tmp:
        path = Path(tmp) / safe_filename(filename)
        path.write_bytes(payload)
        try:
            frame = core_data.read_table(path)
        except core_data.DataError as exc:
            return None, _relabel(exc, path, filename)
    return [str(c) for c in frame.columns], None


def guess_mapping(columns: list[str], role: str) -> dict[str, str | None]:
    """{canonical: file column or None}, matched exactly as the core loaders match."""
    return core_data.match_columns(columns, PAIR_TARGETS if role in PAIR_ROLES else UNLABELED_TARGETS)


def mapping_to_column_map(mapping: dict[str, str | None]) -> dict[str, str]:
    """{file column: canonical} for the core loaders, from {canonical: file column}."""
    return {col: target for target, col in mapping.items() if col}


def missing_targets(mapping: dict[str, str | None], role: str) -> list[str]:
    """Canonical columns the role still needs: human-readable names."""
    if role in PAIR_ROLES:
        missing = [t for t in ("sentence1", "sentence2") if not mapping.get(t)]
        if not mapping.get("score") and not mapping.get("label"):
            missing.append("score or label")
        return missing
    if (mapping.get("sentence1") and mapping.get("sentence2")) or mapping.get("sentence"):
        return []
    return ["sentence (or sentence1 and sentence2)"]


def save_upload(
    role: str,
    filename: str,
    payload: bytes,
    mapping: dict[str, str | None] | None = None,
    scale: tuple[float, float] | None = None,
) -> UploadResult:
    """Validate `payload` with the core loader; only when it passes, save it as `data/<role>.csv`.

    The saved copy has canonical column names (the mapping applied), so experiments need no column map."""
    too_big = _too_big(filename, payload)
    if too_big is not None:
        return UploadResult(role, error=too_big)
    column_map = mapping_to_column_map(mapping or {})
    # Only mapped columns that differ from their target need renaming; identity entries are harmless.
    with tempfile.TemporaryDirectory(prefix="augsbert-upload-") as tmp:
        path = Path(tmp) / safe_filename(filename)
        path.write_bytes(payload)
        if scale is None and role in ("dev", "test") and "train" in read_manifest()["files"]:
            scale = dataset_scale()
        try:
            if role in PAIR_ROLES:
                loaded = core_data.load_pairs(path, column_map=column_map or None, scale=scale)
            else:
                loaded = core_data.load_unlabeled(path, column_map=column_map or None)
            frame = core_data.read_table(path, column_map=column_map or None)
        except core_data.DataError as exc:
            return UploadResult(role, error=_relabel(exc, path, filename))
        keep = _canonical_columns(frame, role, mapping or {})
        target = data_dir() / f"{role}.csv"
        core_data.write_table(frame[keep], target)
    entry = {
        "file": target.name,
        "original": display_name(filename),
        "column_map": column_map,
        "rows": len(loaded.frame) if role in PAIR_ROLES else len(loaded.sentences),
        "saved_at": time.time(),
        "fingerprint": core_data.fingerprint(target),
    }
    manifest = read_manifest()
    manifest["files"][role] = entry
    manifest["source"] = "upload"
    write_manifest(manifest)
    return UploadResult(role, entry=entry, warnings=[str(w) for w in loaded.warnings])


def _canonical_columns(frame: pd.DataFrame, role: str, mapping: dict[str, str | None]) -> list[str]:
    """Columns to keep in the saved copy: the canonical ones the loader will find (others are dropped)."""
    columns = [str(c) for c in frame.columns]
    found = guess_mapping(columns, role)
    if role in PAIR_ROLES and found.get("score") and found.get("label"):
        # Both present: keep the one the user mapped (the core prefers 'score' when the choice is implicit).
        drop = "score" if mapping.get("label") and not mapping.get("score") else "label"
        found[drop] = None
    keep = [c for c in found.values() if c]
    return keep or columns


def _relabel(exc: core_data.DataError, temp_path: Path, original: str) -> core_data.DataError:
    """The same DataError with the temporary path replaced by the uploaded file's name."""
    name = display_name(original)
    problems = [
        core_data.Problem(
            name if p.file == str(temp_path) else p.file, p.row, p.column, p.message.replace(str(temp_path), name)
        )
        for p in exc.problems
    ]
    return core_data.DataError(problems, exc.total)


# ------------------------------------------------------------------------------------------------- demo
def load_demo(key: str = "stsb-quick") -> dict[str, Any]:
    """Replace the active dataset with a built-in demo (copied into the workspace). Returns the manifest."""
    demo = DEMOS[key]
    for info in read_manifest()["files"].values():
        (data_dir() / info["file"]).unlink(missing_ok=True)
    files: dict[str, Any] = {}
    for role, (rel, head) in demo["files"].items():
        src = DEMO_DIR / rel
        target = data_dir() / f"{role}.csv"
        if head is None:
            shutil.copyfile(src, target)
            rows = sum(1 for _ in src.open(encoding="utf-8")) - 1
        else:
            frame = core_data.read_table(src).head(head)
            core_data.write_table(frame, target)
            rows = len(frame)
        files[role] = {
            "file": target.name,
            "original": f"demo/{rel}",
            "column_map": {},
            "rows": rows,
            "saved_at": time.time(),
            "fingerprint": core_data.fingerprint(target),
        }
    manifest = {"source": key, "title": demo["title"], "files": files, "scenario": int(demo.get("scenario", 2))}
    write_manifest(manifest)
    return manifest


# ---------------------------------------------------------------------------------------------- summary
def load_role(role: str):
    """The core's PairSet / SentencePool of a saved role file (raises DataError)."""
    path = role_path(role)
    if path is None:
        return None
    if role in PAIR_ROLES:
        return core_data.load_pairs(path, scale=dataset_scale() if role in ("dev", "test") else None)
    return core_data.load_unlabeled(path)


def dataset_scale() -> tuple[float, float] | None:
    """Score scale of the target gold files, detected from train (else test)."""
    for role in ("train", "test"):
        path = role_path(role)
        if path is not None:
            try:
                return core_data.load_pairs(path).scale
            except core_data.DataError:
                return None
    return None


def file_signature(path: Path | None) -> str:
    """A cache key for a file: path, size and modification time."""
    if path is None or not path.exists():
        return ""
    st = path.stat()
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"
