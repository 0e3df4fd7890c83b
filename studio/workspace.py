"""The workspace: `$AUGSBERT_HOME` (default `./workspace`) with `data/` (the active dataset) and `runs/`.

The active dataset is one file per role saved under `data/` (with canonical column names, so runs need no
column map) and described by `data/dataset.json`. An upload is validated by the core loaders from a
temporary copy first: a rejected file writes nothing to the workspace."""

from __future__ import annotations

import hashlib
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
from augsbert_core.serve import app_root

from . import security

REPO_ROOT = app_root()  # the checkout, or the installed app bundle (augsbert_core.serve)
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
#: Gold pairs of the target domain: they share the dataset's score scale (`dataset_scale`).
TARGET_ROLES = ("train", "dev", "test")
#: Gold pairs of another domain (scenario 3): they keep their own scale (`source_scale`).
SOURCE_ROLES = ("source_train", "source_dev")
UPLOAD_TYPES = ["csv", "tsv", "jsonl", "json", "parquet", "txt"]

#: Canonical columns a role needs: pairs need both sentences and a score or label.
PAIR_TARGETS = ("sentence1", "sentence2", "score", "label")
UNLABELED_TARGETS = ("sentence1", "sentence2", "sentence")

#: Score scales a person picks from (label: (low, high)); "custom" takes any low < high.
SCALES: dict[str, tuple[float, float]] = {
    "0–1": (0.0, 1.0),
    "0–5": (0.0, 5.0),
    "1–5": (1.0, 5.0),
    "0–100": (0.0, 100.0),
}
CUSTOM_SCALE = "custom"

#: What to pick in the column mapping when a canonical column is not recognised (words for the page), and what
#: to pick instead in the other kind of file.
PICK: dict[str, str] = {
    "sentence1": "the first sentence column",
    "sentence2": "the second sentence column",
    "score or label": "the score column",
    "sentence (or sentence1 and sentence2)": "the sentence column",
}
PICK_ALSO: dict[str, str] = {
    "score or label": " (for 0/1 labels: the label column)",
    "sentence (or sentence1 and sentence2)": " (for pairs: both sentence columns)",
}

#: Words of a file name that name a split or a role, not the dataset ("sick_train.csv" is the "sick" dataset).
_SPLIT_WORDS = {
    "train",
    "training",
    "dev",
    "devel",
    "development",
    "val",
    "valid",
    "validation",
    "test",
    "testing",
    "trial",
    "unlabeled",
    "unlabelled",
    "gold",
    "silver",
    "source",
    "target",
    "pairs",
    "sentences",
    "data",
    "split",
}

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
        "STSb test split: about 32 minutes on 2 CPU cores with the MiniLM student (every student early-stopped on "
        "dev), about 5 with the static student (Scenario page), a few minutes on a GPU.",
        "files": {
            "train": ("stsb/train.csv", None),
            "dev": ("stsb/dev.csv", None),
            "test": ("stsb/test.csv", None),
            "unlabeled": ("stsb/unlabeled_pairs.csv", None),
        },
    },
    "stsb-to-quora-quick": {
        "title": "STSb → Quora quick (0/1)",
        "scenario": 3,
        "blurb": "A first 0/1 (duplicate or not) result in a few minutes on a CPU: a teacher trained on 64 STSb "
        "pairs labels 80 Quora question pairs; F1, accuracy and the threshold to deploy on 60 dev and 80 test pairs.",
        "files": {
            "source_train": ("stsb/train.csv", 64),
            "source_dev": ("stsb/dev.csv", 40),
            "dev": ("quora/dev.csv", 60),
            "test": ("quora/test.csv", 80),
            "unlabeled": ("quora/unlabeled.csv", 80),
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


def unlabeled_has_pairs() -> bool:
    """Whether the saved unlabeled file is a file of pairs (its manifest entry says; older entries: loaded)."""
    info = read_manifest()["files"].get("unlabeled")
    if not info:
        return False
    if isinstance(info.get("has_pairs"), bool):
        return info["has_pairs"]
    try:
        loaded = load_role("unlabeled")
    except core_data.DataError:
        return False
    return loaded is not None and loaded.pairs is not None


def remove_role(role: str) -> None:
    """Delete a role's saved file. The recorded scale goes with the last gold file saved on it; with no file
    left the dataset has no name; when only a demo's files remain, the demo is what is loaded again."""
    manifest = read_manifest()
    info = manifest["files"].pop(role, None)
    if info:
        (data_dir() / info["file"]).unlink(missing_ok=True)
    files = manifest["files"]
    if not any(files[r].get("scale") == manifest.get("scale") for r in TARGET_ROLES if r in files):
        manifest.pop("scale", None)  # no saved gold pairs carry it any more: detection takes over
    if not files:
        manifest.update(source=None, title=None, title_auto=True)
    elif manifest.get("demo") in DEMOS and all(is_demo_entry(i) for i in files.values()):
        manifest["source"] = manifest["demo"]
    write_manifest(manifest)


# ------------------------------------------------------------------------------------------ name and scale
def is_demo_entry(info: dict[str, Any]) -> bool:
    """A manifest entry copied from a built-in demo (not uploaded)."""
    return bool(info.get("demo")) or str(info.get("original", "")).startswith("demo/")


def name_from_files(names: list[str]) -> str:
    """A dataset name from uploaded file names: the words they share once split names (train, dev, test, ...)
    and extensions are dropped ('sick_train.csv', 'sick_test.csv' -> 'sick'); else the first file's name."""
    stems = []
    for name in names:
        base = display_name(name)
        stem = re.sub(r"(\.[A-Za-z0-9]{1,10}){1,2}$", "", base) or base
        words = [w for w in re.split(r"[\s_.\-]+", stem) if w and w.lower() not in _SPLIT_WORDS]
        if words:
            stems.append(" ".join(words))
    if stems:
        return max(dict.fromkeys(stems), key=stems.count)  # the most common; the first on a tie
    return display_name(names[0]) if names else ""


def dataset_title(manifest: dict[str, Any] | None = None) -> str:
    """The active dataset's name: the one a person gave it; else the demo's title while a demo is what is
    loaded; else a name taken from the uploaded files. '' when there is no data."""
    manifest = read_manifest() if manifest is None else manifest
    files = manifest.get("files") or {}
    if not files:
        return ""
    if manifest.get("title") and not manifest.get("title_auto", True):
        return str(manifest["title"])
    if manifest.get("source") in DEMOS:
        return DEMOS[manifest["source"]]["title"]
    uploaded = [files[r]["original"] for r in ROLES if r in files and not is_demo_entry(files[r])]
    return name_from_files(uploaded) or "uploaded files"


def set_title(name: str) -> None:
    """Name the active dataset; an empty name goes back to the one taken from the files (or the demo)."""
    manifest = read_manifest()
    name = " ".join(str(name).split())[:120]
    manifest["title_auto"] = not name
    manifest["title"] = name or None
    manifest["title"] = dataset_title(manifest)
    write_manifest(manifest)


def scale_label(scale: tuple[float, float] | list[float] | None) -> str:
    """'1–5' for (1, 5); '0/1' for no scale (labels)."""
    return "0/1" if not scale else f"{scale[0]:g}–{scale[1]:g}"


def recorded_scale(manifest: dict[str, Any] | None = None) -> tuple[float, float] | None:
    """The score scale recorded in the manifest when gold pairs were saved (chosen or confirmed), or None."""
    manifest = read_manifest() if manifest is None else manifest
    scale = manifest.get("scale")
    if isinstance(scale, list | tuple) and len(scale) == 2:
        low, high = float(scale[0]), float(scale[1])
        if low < high:
            return (low, high)
    return None


def upload_sha(payload: bytes) -> str:
    """sha256 of an upload's bytes (16 hex characters): tells a saved upload from one waiting to be saved."""
    return hashlib.sha256(payload).hexdigest()[:16]


def upload_scale(role: str, found: core_data.ScoreRange, payload: bytes) -> tuple[tuple[float, float], str]:
    """Where the Data page's scale control starts for an upload of gold pairs, and why (fixed words): the scale
    it was saved with; for dev or test, the saved gold pairs' scale (scores outside it are errors to see, not a
    reason to move the scale); else the scale detected from the scores, or a guess to check."""
    manifest = read_manifest()
    files = manifest["files"]
    if role in SOURCE_ROLES:  # the source domain has its own scale, recorded with its files
        saved = _entry_scale(files.get(role))
        if saved is not None and files[role].get("upload_sha") == upload_sha(payload):
            return saved, "as saved"
        other = _entry_scale(files.get("source_train" if role == "source_dev" else "source_dev"))
        if other is not None:
            return other, "the scale of the saved source-domain pairs"
        if found.detected is not None:
            return found.detected, "detected from the scores"
        return found.suggested, "a guess: these scores are on no usual scale, so check it"
    recorded = recorded_scale(manifest)
    if recorded is not None and (files.get(role) or {}).get("upload_sha") == upload_sha(payload):
        return recorded, "as saved"
    if role in TARGET_ROLES and role != "train" and any(r in files for r in TARGET_ROLES if r != role):
        dataset = recorded or dataset_scale()
        if dataset is not None:
            return dataset, "the scale of the saved gold pairs"
    if found.detected is not None:
        return found.detected, "detected from the scores"
    return found.suggested, "a guess: these scores are on no usual scale, so check it"


def is_saved(role: str, payload: bytes, mapping: dict[str, str | None], scale: tuple[float, float] | None) -> bool:
    """Whether `payload`, with this mapping (and scale, for gold pairs), is what is saved for `role`."""
    manifest = read_manifest()
    info = manifest["files"].get(role)
    if not info or info.get("upload_sha") != upload_sha(payload):
        return False
    if info.get("column_map", {}) != mapping_to_column_map(mapping):
        return False
    if scale is None:
        return True
    if role in SOURCE_ROLES:
        return _entry_scale(info) == tuple(map(float, scale))
    return role not in TARGET_ROLES or recorded_scale(manifest) == tuple(map(float, scale))


def _entry_scale(entry: dict[str, Any] | None) -> tuple[float, float] | None:
    """The score scale a saved file was loaded on (its manifest entry's `scale`), or None."""
    scale = (entry or {}).get("scale")
    if isinstance(scale, list | tuple) and len(scale) == 2 and float(scale[0]) < float(scale[1]):
        return (float(scale[0]), float(scale[1]))
    return None


def saved_scale(role: str) -> tuple[float, float] | None:
    """The score scale a role's saved file was loaded on, or None (no file, or 0/1 labels)."""
    return _entry_scale(read_manifest()["files"].get(role))


def source_scale() -> tuple[float, float] | None:
    """Score scale of the source-domain gold (scenario 3): as its saved train file was loaded (chosen on the
    Data page or detected), else None (the core detects it)."""
    return saved_scale("source_train") or saved_scale("source_dev")


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


def read_upload(filename: str, payload: bytes) -> tuple[pd.DataFrame | None, core_data.DataError | None]:
    """An uploaded file read by the core as text cells (not yet validated), or the core's DataError."""
    too_big = _too_big(filename, payload)
    if too_big is not None:
        return None, too_big
    with tempfile.TemporaryDirectory(prefix="augsbert-upload-") as tmp:
        path = Path(tmp) / safe_filename(filename)
        path.write_bytes(payload)
        try:
            return core_data.read_table(path), None
        except core_data.DataError as exc:
            return None, _relabel(exc, path, filename)


def read_columns(filename: str, payload: bytes) -> tuple[list[str] | None, core_data.DataError | None]:
    """The column names of an uploaded file (as spelled in it), or the core's DataError."""
    frame, error = read_upload(filename, payload)
    return (None, error) if frame is None else ([str(c) for c in frame.columns], None)


def upload_scores(frame: pd.DataFrame, mapping: dict[str, str | None]) -> core_data.ScoreRange | None:
    """The score (or label) numbers of an upload read by `read_upload`, under the page's mapping (the core's
    `score_range`); None when no such column is mapped or it holds no number."""
    try:
        return core_data.score_range(frame, column_map=mapping_to_column_map(mapping) or None)
    except core_data.DataError:  # a mapping the loader refuses: saving reports it
        return None


def guess_mapping(columns: list[str], role: str) -> dict[str, str | None]:
    """{canonical: file column or None}, matched exactly as the core loaders match."""
    return core_data.match_columns(columns, PAIR_TARGETS if role in PAIR_ROLES else UNLABELED_TARGETS)


def header_signature(columns: list[str]) -> str:
    """A file's header as a key (its column names, in order): files with the same header share a mapping."""
    return hashlib.sha256("\x1f".join(map(str, columns)).encode()).hexdigest()[:16]


def remembered_mapping(columns: list[str], role: str) -> dict[str, str | None] | None:
    """The mapping chosen when a file with this same header was saved (any role), for this role's targets; None
    when no such file was saved with a mapping of its own. Targets it did not map are guessed as usual."""
    column_map = (read_manifest().get("mappings") or {}).get(header_signature(columns))
    if not isinstance(column_map, dict) or not column_map:
        return None
    mapping = guess_mapping(columns, role)
    for target in mapping:
        chosen = [col for col, canonical in column_map.items() if canonical == target and col in columns]
        if chosen:
            mapping[target] = chosen[0]
    return mapping


def mapping_to_column_map(mapping: dict[str, str | None]) -> dict[str, str]:
    """{file column: canonical} for the core loaders, from {canonical: file column}."""
    return {col: target for target, col in mapping.items() if col}


def missing_targets(mapping: dict[str, str | None], role: str) -> list[str]:
    """Canonical columns the role still needs: human-readable names."""
    if role in PAIR_ROLES:
        missing = [t for t in ("sentence1", "sentence2") if not mapping.get(t)]
        # anchor/positive columns without labels are positive pairs (task positive_pairs): no score needed
        positives = str(mapping.get("sentence2") or "").strip().lower() == "positive"
        if not mapping.get("score") and not mapping.get("label") and not positives:
            missing.append("score or label")
        return missing
    if (mapping.get("sentence1") and mapping.get("sentence2")) or mapping.get("sentence"):
        return []
    return ["sentence (or sentence1 and sentence2)"]


def _manifest_entry(
    role: str, loaded: Any, target: Path, name: str, column_map: dict, payload: bytes, detected: Any
) -> dict[str, Any]:
    """The manifest's record of a saved upload: its file, counts, task and scale, fingerprints."""
    pairs = role in PAIR_ROLES
    entry = {
        "file": target.name,
        "original": name,
        "column_map": column_map,
        # an unlabeled file of pairs counts its pairs (its unique sentences are a separate number)
        "rows": len(loaded.frame if pairs else loaded.pairs if loaded.pairs is not None else loaded.sentences),
        "saved_at": time.time(),
        "fingerprint": core_data.fingerprint(target),
        "upload_sha": upload_sha(payload),
    }
    if pairs:
        scale = list(loaded.scale) if loaded.scale else None
        return {**entry, "task": loaded.task, "scale": scale, "detected_scale": list(detected) if detected else None}
    # a file of pairs: labeled as they are (candidates: auto)
    return {**entry, "sentences": len(loaded.sentences), "has_pairs": loaded.pairs is not None}


def save_upload(
    role: str,
    filename: str,
    payload: bytes,
    mapping: dict[str, str | None] | None = None,
    scale: tuple[float, float] | None = None,
) -> UploadResult:
    """Validate `payload` with the core loader; only when it passes, save it as `data/<role>.csv`. The saved copy
    has canonical column names (the mapping applied), so experiments need no column map."""
    too_big = _too_big(filename, payload)
    if too_big is not None:
        return UploadResult(role, error=too_big)
    column_map = mapping_to_column_map(mapping or {})
    # Only mapped columns that differ from their target need renaming; identity entries are harmless.
    name = display_name(filename)
    detected: tuple[float, float] | None = None
    with tempfile.TemporaryDirectory(prefix="augsbert-upload-") as tmp:
        path = Path(tmp) / safe_filename(filename)
        path.write_bytes(payload)
        if scale is None and role in TARGET_ROLES and role != "train":
            scale = recorded_scale() or (dataset_scale() if "train" in read_manifest()["files"] else None)
        try:
            if role in PAIR_ROLES:
                loaded = core_data.load_pairs(path, column_map=column_map or None, scale=scale)
                found = core_data.score_range(path, column_map=column_map or None, task=loaded.task)
                detected = found.detected if found is not None else None
            else:
                loaded = core_data.load_unlabeled(path, column_map=column_map or None)
            frame = core_data.read_table(path, column_map=column_map or None)
        except core_data.DataError as exc:
            return UploadResult(role, error=_relabel(exc, path, filename))
        clash = task_clash(role, loaded.task, name) if role in TARGET_ROLES else None
        if clash is not None:
            return UploadResult(role, error=clash)
        keep = _canonical_columns(frame, role, mapping or {})
        target = data_dir() / f"{role}.csv"
        saved = frame[keep]
        if pairs_without_labels(role, loaded, keep):  # anchor/positive: the saved copy says each is a positive
            saved = saved.assign(label=1)
        core_data.write_table(saved, target)
        warnings = [str(w) for w in _renamed(loaded.warnings, path, name)]
    entry = _manifest_entry(role, loaded, target, name, column_map, payload, detected)
    manifest = read_manifest()
    was_demo = manifest.get("source") in DEMOS
    manifest["files"][role] = entry
    header, _ = read_columns(filename, payload) if any(c != t for c, t in column_map.items()) else (None, None)
    if header:  # the mapping chosen for this header is offered again for the next file with it
        manifest.setdefault("mappings", {})[header_signature(header)] = column_map
    manifest["source"] = "upload"
    if role in TARGET_ROLES:
        if loaded.scale:
            manifest["scale"] = list(loaded.scale)
        elif role == "train" or not any(r in manifest["files"] for r in TARGET_ROLES if r != role):
            manifest.pop("scale", None)
    if was_demo or manifest.get("title_auto", True):
        manifest["title_auto"] = True
        manifest["title"] = dataset_title(manifest)
    write_manifest(manifest)
    return UploadResult(role, entry=entry, warnings=warnings)


#: How a task reads in the Data page's words (one task per dataset: scores, or 0/1 labels).
TASK_WORDS = {
    "regression": "similarity scores",
    "classification": "0/1 labels",
    "positive_pairs": "positive pairs only",
}


def task_clash(role: str, task: str, name: str) -> core_data.DataError | None:
    """A refusal naming both files when an upload for a target role (train, dev, test) has another kind of target
    than the target files saved already (scores vs 0/1 labels): one dataset, one task. None when it agrees."""
    files = read_manifest()["files"]
    for other in TARGET_ROLES:
        info = files.get(other)
        if other == role or not info:
            continue
        saved_task = info.get("task") or _saved_task(other)  # demo entries (and older ones) do not record it
        if saved_task is None or (saved_task == "regression") == (task == "regression"):
            continue
        info = {**info, "task": saved_task}
        saved = str(info.get("original") or info["file"])
        message = (
            f"this file has {TASK_WORDS.get(task, task)} ({task}), but {saved}, the saved "
            f"{ROLES[other][0].lower()}, has {TASK_WORDS.get(info['task'], info['task'])} ({info['task']}): a dataset "
            f"has one task. Upload a file with {TASK_WORDS.get(info['task'], info['task'])}, or remove {saved} "
            "(or start over) to change the task"
        )
        return core_data.DataError([core_data.Problem(name, None, None, message)])
    return None


def _saved_task(role: str) -> str | None:
    """The task of a saved file whose manifest entry does not say it: detected from its targets as the core
    detects it, whatever scale is recorded (None when it cannot be read)."""
    path = role_path(role)
    if path is None:
        return None
    try:
        return core_data.load_pairs(path).task
    except core_data.DataError:
        return None


def reset_dataset() -> None:
    """Start over: every saved file removed, the recorded scale, name and demo forgotten (runs are kept)."""
    for role in list(read_manifest()["files"]):
        remove_role(role)
    manifest = read_manifest()
    for key in ("scale", "demo"):
        manifest.pop(key, None)
    manifest.update(source=None, title=None, title_auto=True)
    write_manifest(manifest)


def pairs_without_labels(role: str, loaded, columns: list[str]) -> bool:
    """A pair file of positives only (task positive_pairs) saved without a score or label column."""
    found = core_data.match_columns(columns)
    return role in PAIR_ROLES and loaded.task == "positive_pairs" and not (found["score"] or found["label"])


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


def _renamed(problems: list[core_data.Problem], path: Path, name: str) -> list[core_data.Problem]:
    """The problems with the file `path` (a temporary or workspace copy) named `name`, the uploaded file's own
    name; rows and columns stay as the core numbered them (the saved copy keeps every row of the upload)."""
    return [
        core_data.Problem(name if p.file == str(path) else p.file, p.row, p.column, p.message.replace(str(path), name))
        for p in problems
    ]


def _relabel(exc: core_data.DataError, path: Path, original: str) -> core_data.DataError:
    """The same DataError with the file's path replaced by the uploaded file's name."""
    return core_data.DataError(_renamed(exc.problems, path, display_name(original)), exc.total)


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
            "demo": True,
        }
    manifest = {
        "source": key,
        "demo": key,
        "title": demo["title"],
        "title_auto": True,
        "files": files,
        "scenario": int(demo.get("scenario", 2)),
    }
    write_manifest(manifest)
    return manifest


# ---------------------------------------------------------------------------------------------- summary
def load_role(role: str):
    """The core's PairSet / SentencePool of a saved role file, gold pairs on the dataset's scale. Raises
    DataError; problems and warnings name the uploaded file (as in the manifest), not the workspace copy."""
    manifest = read_manifest()
    info = manifest["files"].get(role)
    if info is None:
        return None
    path = data_dir() / info["file"]
    name = str(info.get("original") or info["file"])
    try:
        if role in PAIR_ROLES:
            scale = None
            if role in TARGET_ROLES:
                scale = recorded_scale(manifest) or (dataset_scale() if role != "train" else None)
            loaded = core_data.load_pairs(path, scale=scale)
        else:
            loaded = core_data.load_unlabeled(path)
    except core_data.DataError as exc:
        raise core_data.DataError(_renamed(exc.problems, path, name), exc.total) from None
    loaded.source = name
    loaded.warnings = _renamed(loaded.warnings, path, name)
    return loaded


def dataset_scale() -> tuple[float, float] | None:
    """Score scale of the target gold files: the one recorded when they were saved (as detected, or as the
    person chose it on the Data page), else detected from train (else test)."""
    recorded = recorded_scale()
    if recorded is not None:
        return recorded
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
