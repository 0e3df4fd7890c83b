"""A run's trained models as downloads: zipped folders in each export format, and the zero-shot base model."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from augsbert_core.errors import ConfigError
from augsbert_core.models import DEFAULT_MODEL, ModelLoadError, resolve_model
from augsbert_core.runs import RunFiles
from augsbert_core.student import export as core_export

from .runfiles import MODEL_TITLES, model_title, read_json
from .security import ModelPathError, check_model, md_escape


# ------------------------------------------------------------------------------------------------ models
def zip_folder(path: str | Path, name: str) -> bytes:
    """A model folder as a zip (files under `name/`; hidden files and folders, e.g. checkpoints, left out)."""
    path = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for file in sorted(path.rglob("*")):
            if file.is_file() and not any(part.startswith(".") for part in file.relative_to(path).parts):
                archive.write(file, Path(name) / file.relative_to(path))
    return buffer.getvalue()


#: The formats a student can be downloaded in (augsbert export), as the pages name them.
EXPORT_FORMATS = {"st": "sentence-transformers", "onnx": "ONNX", "onnx-int8": "ONNX int8"}


def export_formats(folder: str | Path | None) -> dict[str, str]:
    """The EXPORT_FORMATS a model folder can be downloaded in: ONNX only for a transformer student with the onnx
    extra installed (a static student is already a lookup table; the teacher is a cross-encoder)."""
    if folder is None:
        return {}
    formats = {}
    for fmt, title in EXPORT_FORMATS.items():
        try:
            core_export.check_export(folder, fmt, Path(folder).parent / ".absent-export-target")
        except (ConfigError, OSError):
            continue
        formats[fmt] = title
    return formats


def export_zip(folder: str | Path, name: str, fmt: str) -> bytes:
    """A student as a zip in `fmt` (`augsbert export`'s formats), built in a temporary folder on click: the run's
    own folder is never written by a page."""
    if fmt == "st":
        return zip_folder(folder, name)
    import tempfile  # noqa: PLC0415 - one download's scratch folder

    with tempfile.TemporaryDirectory(prefix="augsbert-export-") as scratch:
        out = core_export.export_student(folder, fmt, Path(scratch) / name)
        return zip_folder(out, name)


def trained_models(run_dir: str | Path) -> list[str]:
    """The model folders of a run (models/<name>/), in MODEL_TITLES order, then the others by name."""
    models_dir = Path(run_dir) / "models"
    if not models_dir.is_dir():
        return []
    names = [p.name for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    order = list(MODEL_TITLES)
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


@dataclass
class ModelDownload:
    """Where a run's model of one key can be downloaded from: `folder` (None when there is no local folder to
    zip) and `note`, what the model is (the zero-shot model is the untrained base)."""

    key: str
    folder: Path | None
    note: str = ""


def model_download(run_dir: str | Path, key: str) -> ModelDownload:
    """The folder of a run's model `key`: models/<key>/ for trained ones; for 'zero_shot' the base student model
    as it is (its local folder when it resolves to one the app may serve, else just its name)."""
    folder = Path(run_dir) / "models" / key
    if key != "zero_shot":
        if folder.is_dir():
            return ModelDownload(key, folder)
        return ModelDownload(key, None, f"This run has no saved {model_title(key)} model (models/{key}/).")
    cfg = read_json(run_dir, RunFiles.CONFIG, {}) or {}
    name = str(((cfg.get("student") or {}).get("model")) or DEFAULT_MODEL)
    shown = md_escape(name, code=True)  # in a code span: nothing in it is markdown, a backtick would end it
    base = "the offline all-MiniLM-L6-v2" if name == DEFAULT_MODEL else f"`{shown}`"
    note = f"The zero-shot model is the student's base model, {base}, unchanged (no training)"

    try:
        resolved = Path(resolve_model(check_model(name).value))
    except (ModelPathError, ModelLoadError, OSError):
        resolved = None
    if resolved is not None and resolved.is_dir():
        return ModelDownload(key, resolved, note + ": the zip holds that base model.")
    return ModelDownload(
        key,
        None,
        note + (f": load it by its name, `SentenceTransformer('{shown}')`." if name != DEFAULT_MODEL else "."),
    )
