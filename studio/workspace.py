"""The workspace: `$AUGSBERT_HOME` (default `./workspace`) with `data/` (the active dataset) and `runs/`.

The active dataset is one file per role saved under `data/` (with canonical column names, so runs need no
column map) and described by `data/dataset.json`. An upload is validated by the core loaders from a
temporary copy first: a rejected file writes nothing to the workspace."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from augsbert_core.io import data as core_data
from augsbert_core.runs import RunStore, atomic_write_json

from .dataroles import (  # noqa: F401 - re-exported: importers keep their old home
    CUSTOM_SCALE,
    DEMO_DIR,
    DEMOS,
    PAIR_ROLES,
    PAIR_TARGETS,
    PICK,
    PICK_ALSO,
    REPO_ROOT,
    ROLES,
    SCALES,
    SOURCE_ROLES,
    TARGET_ROLES,
    TASK_WORDS,
    UNLABELED_TARGETS,
    UPLOAD_TYPES,
    UploadResult,
    _canonical_columns,
    _entry_scale,
    _relabel,
    _renamed,
    _too_big,
    display_name,
    guess_mapping,
    header_signature,
    is_demo_entry,
    mapping_to_column_map,
    missing_targets,
    name_from_files,
    pairs_without_labels,
    safe_filename,
    scale_label,
    upload_sha,
)


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


def recorded_scale(manifest: dict[str, Any] | None = None) -> tuple[float, float] | None:
    """The score scale recorded in the manifest when gold pairs were saved (chosen or confirmed), or None."""
    manifest = read_manifest() if manifest is None else manifest
    scale = manifest.get("scale")
    if isinstance(scale, list | tuple) and len(scale) == 2:
        low, high = float(scale[0]), float(scale[1])
        if low < high:
            return (low, high)
    return None


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


def saved_scale(role: str) -> tuple[float, float] | None:
    """The score scale a role's saved file was loaded on, or None (no file, or 0/1 labels)."""
    return _entry_scale(read_manifest()["files"].get(role))


def source_scale() -> tuple[float, float] | None:
    """Score scale of the source-domain gold (scenario 3): as its saved train file was loaded (chosen on the
    Data page or detected), else None (the core detects it)."""
    return saved_scale("source_train") or saved_scale("source_dev")


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
