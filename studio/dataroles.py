"""The Data page's vocabulary: the data roles and the columns each maps to, the score scales offered, the demo
datasets, and the pure helpers on names and column mappings (no file is read here; `workspace` re-exports them)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from augsbert_core.io import data as core_data
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


def scale_label(scale: tuple[float, float] | list[float] | None) -> str:
    """'1–5' for (1, 5); '0/1' for no scale (labels)."""
    return "0/1" if not scale else f"{scale[0]:g}–{scale[1]:g}"


def upload_sha(payload: bytes) -> str:
    """sha256 of an upload's bytes (16 hex characters): tells a saved upload from one waiting to be saved."""
    return hashlib.sha256(payload).hexdigest()[:16]


def _entry_scale(entry: dict[str, Any] | None) -> tuple[float, float] | None:
    """The score scale a saved file was loaded on (its manifest entry's `scale`), or None."""
    scale = (entry or {}).get("scale")
    if isinstance(scale, list | tuple) and len(scale) == 2 and float(scale[0]) < float(scale[1]):
        return (float(scale[0]), float(scale[1]))
    return None


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


def guess_mapping(columns: list[str], role: str) -> dict[str, str | None]:
    """{canonical: file column or None}, matched exactly as the core loaders match."""
    return core_data.match_columns(columns, PAIR_TARGETS if role in PAIR_ROLES else UNLABELED_TARGETS)


def header_signature(columns: list[str]) -> str:
    """A file's header as a key (its column names, in order): files with the same header share a mapping."""
    return hashlib.sha256("\x1f".join(map(str, columns)).encode()).hexdigest()[:16]


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


#: How a task reads in the Data page's words (one task per dataset: scores, or 0/1 labels).
TASK_WORDS = {
    "regression": "similarity scores",
    "classification": "0/1 labels",
    "positive_pairs": "positive pairs only",
}


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
