"""Silver review as files: the run's review.json, and round-trips with Label Studio and Argilla.

review.json holds {row: {"wrong": bool, "score": float | None}}: rows of silver.csv (0-based) a reviewer marked
wrong (left out of the student's training) or re-scored (on 0-1, as silver.csv). The Silver page writes it; so does
`augsbert review import`, from a review made in another tool on the pairs `augsbert review export` wrote:

- Label Studio: tasks JSON (`data` = the pair and its row; the teacher's score as a prediction of a `Number` tag
  named `score`, and `correct` for a `Choices` tag named `verdict`), with the labeling config beside it
  (`OUT.xml`). Read back: the project's JSON export (tasks with `annotations`) or its JSON-MIN export.
- Argilla: records as `rg.Record.to_dict()` writes them (fields sentence1/sentence2, metadata with the row, the
  teacher's score as a suggestion), with the dataset settings beside it (`OUT.settings.json`). Read back: the
  records' `to_json`/`to_list()` export, nested or flattened (`"verdict.responses"`).

Scores in both tools are on the dataset's scale (e.g. 0-5); review.json stores them on 0-1."""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import atomic_write_json, atomic_write_text, dumps_json
from .config import unique_json_object
from .errors import ConfigError
from .runs import RunFiles

FORMATS = ("label-studio", "argilla")
CONFIG_SUFFIX = {"label-studio": ".xml", "argilla": ".settings.json"}  # the labeling config beside the pairs
WRONG, CORRECT = "wrong", "correct"
Review = dict[int, dict[str, Any]]


# --- review.json ---------------------------------------------------------------------------------------------------


def load_review(run_dir: str | Path) -> Review:
    """{row: {'wrong': bool, 'score': float | None}} from review.json (empty when there is none)."""
    path = Path(run_dir) / RunFiles.REVIEW
    try:
        raw = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        raw = {}
    out = {}
    for key, value in (raw if isinstance(raw, dict) else {}).items():
        try:
            row = int(key)
        except ValueError:
            continue
        if isinstance(value, dict):
            score = value.get("score")
            out[row] = {"wrong": bool(value.get("wrong", False)), "score": None if score is None else float(score)}
    return out


def save_review(run_dir: str | Path, review: Review, *, source: str = "review") -> Path:
    """Write review.json (only rows marked wrong or re-scored, scores clipped to 0-1) and note it in the run's log."""
    clean = {
        str(int(row)): {
            "wrong": bool(v.get("wrong")),
            "score": None if v.get("score") is None else float(np.clip(float(v["score"]), 0.0, 1.0)),
        }
        for row, v in sorted(review.items())
        if v.get("wrong") or v.get("score") is not None
    }
    path = Path(run_dir) / RunFiles.REVIEW
    atomic_write_json(path, clean)
    summary = review_summary(clean)
    with open(Path(run_dir) / RunFiles.LOG, "a", encoding="utf-8") as handle:
        handle.write(
            f"{time.strftime('%Y-%m-%d %H:%M:%S')} {source} saved: {summary['wrong']} pairs marked wrong, "
            f"{summary['corrected']} scores corrected\n"
        )
    return path


def review_summary(review: dict) -> dict[str, Any]:
    wrong = sum(1 for v in review.values() if v.get("wrong"))
    corrected = sum(1 for v in review.values() if v.get("score") is not None and not v.get("wrong"))
    return {"wrong": wrong, "corrected": corrected, "total": len(review)}


# --- the run's silver, on the dataset's scale ----------------------------------------------------------------------


def run_scale(run_dir: str | Path) -> tuple[float, float]:
    """The score scale reviewers see (config.json data.scale, e.g. (0, 5)); (0, 1) for classification or none."""
    try:
        cfg = json.loads((Path(run_dir) / RunFiles.CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return (0.0, 1.0)
    scale = (cfg.get("data") or {}).get("scale") if isinstance(cfg, dict) else None
    if cfg.get("task") == "classification" or not isinstance(scale, list) or len(scale) != 2:
        return (0.0, 1.0)
    low, high = float(scale[0]), float(scale[1])
    return (low, high) if high > low else (0.0, 1.0)


def _silver(run_dir: Path) -> pd.DataFrame:
    path = run_dir / RunFiles.SILVER
    if not path.is_file():
        raise ConfigError(f"{run_dir}: no silver.csv (the run has not labeled its silver pairs)")
    frame = pd.read_csv(path, keep_default_na=False, dtype={"sentence1": str, "sentence2": str})
    if "score" not in frame:
        frame["score"] = frame["label"]
    return frame


# --- export ---------------------------------------------------------------------------------------------------------


def review_file(run_dir: str | Path, fmt: str, suffix: str = ".json") -> str:
    """One file of the run's silver pairs in `fmt`'s import format: '.json' (the tasks or records) or the labeling
    config (CONFIG_SUFFIX: '.xml' for Label Studio, '.settings.json' for Argilla, which needs no silver read)."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format: {fmt!r} is not a review format; choose one of {', '.join(FORMATS)}")
    run_dir = Path(run_dir)
    scale = run_scale(run_dir)
    if suffix == CONFIG_SUFFIX[fmt]:
        return _label_studio_config(scale) if fmt == "label-studio" else dumps_json(_argilla_settings(scale), indent=1)
    silver = _silver(run_dir)
    build = _label_studio_tasks if fmt == "label-studio" else _argilla_records
    return dumps_json(build(silver, scale, run_dir.name), indent=1, ensure_ascii=False)


def export_review(run_dir: str | Path, fmt: str, out: str | Path) -> list[Path]:
    """Write the run's silver pairs in `fmt`'s import format to `out` (and its config beside it); the paths."""
    out = Path(out)
    if out.suffix.lower() != ".json":
        raise ConfigError(f"--out {out}: the review file is JSON; name it *.json")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: the folder {out.parent} does not exist")
    pairs = review_file(run_dir, fmt)  # before writing anything: a run without silver writes nothing
    config = out.with_suffix(CONFIG_SUFFIX[fmt])
    atomic_write_text(out, pairs)
    atomic_write_text(config, review_file(run_dir, fmt, CONFIG_SUFFIX[fmt]))
    return [out, config]


def _on_scale(score: float, scale: tuple[float, float]) -> float:
    return round(scale[0] + float(score) * (scale[1] - scale[0]), 4)


def _label_studio_tasks(silver: pd.DataFrame, scale: tuple[float, float], run_id: str) -> list[dict]:
    tasks = []
    for row, pair in enumerate(silver.itertuples(index=False)):
        score = _on_scale(pair.score, scale)
        tasks.append(
            {
                "data": {
                    "row": row,
                    "sentence1": pair.sentence1,
                    "sentence2": pair.sentence2,
                    "sampler": str(getattr(pair, "sampler", "")),
                    "teacher_score": score,
                },
                "predictions": [
                    {
                        "model_version": f"augsbert-teacher {run_id}",
                        "score": float(pair.score),
                        "result": [
                            {
                                "id": f"r{row}s",
                                "from_name": "score",
                                "to_name": "sentence1",
                                "type": "number",
                                "value": {"number": score},
                            },
                            {
                                "id": f"r{row}v",
                                "from_name": "verdict",
                                "to_name": "sentence1",
                                "type": "choices",
                                "value": {"choices": [CORRECT]},
                            },
                        ],
                    }
                ],
            }
        )
    return tasks


def _label_studio_config(scale: tuple[float, float]) -> str:
    low, high = (f"{v:g}" for v in scale)
    return f"""<View>
  <Header value="Is the teacher's score right for this pair?"/>
  <Text name="sentence1" value="$sentence1"/>
  <Text name="sentence2" value="$sentence2"/>
  <Choices name="verdict" toName="sentence1" choice="single" showInline="true">
    <Choice value="{CORRECT}"/>
    <Choice value="{WRONG}"/>
  </Choices>
  <Header value="Score ({low}-{high}): correct it if it is off"/>
  <Number name="score" toName="sentence1" min="{low}" max="{high}" step="0.1"/>
</View>
"""


def _rating(scale: tuple[float, float]) -> list[int] | None:
    """Integer rating values for Argilla's RatingQuestion when the scale is whole numbers within 0-10, else None."""
    low, high = scale
    if low.is_integer() and high.is_integer() and 0 <= low < high <= 10:
        return list(range(int(low), int(high) + 1))
    return None


def _argilla_records(silver: pd.DataFrame, scale: tuple[float, float], run_id: str) -> list[dict]:
    rating = _rating(scale)
    records = []
    for row, pair in enumerate(silver.itertuples(index=False)):
        score = _on_scale(pair.score, scale)
        records.append(
            {
                "id": f"{run_id}-{row}",
                "fields": {"sentence1": pair.sentence1, "sentence2": pair.sentence2},
                "metadata": {"row": row, "sampler": str(getattr(pair, "sampler", ""))},
                "suggestions": {
                    "score": {"value": round(score) if rating else score, "score": None, "agent": "augsbert-teacher"},
                    "verdict": {"value": CORRECT, "score": None, "agent": "augsbert-teacher"},
                },
                "responses": {},
                "vectors": {},
                "status": "pending",
            }
        )
    return records


def _argilla_settings(scale: tuple[float, float]) -> dict:
    rating = _rating(scale)
    low, high = (f"{v:g}" for v in scale)
    score = (
        {"name": "score", "type": "rating", "title": f"Score ({low}-{high})", "values": rating, "required": False}
        if rating
        else {"name": "score", "type": "text", "title": f"Score ({low}-{high}), a number", "required": False}
    )
    return {
        "guidelines": "Is the teacher's score right for this pair? Mark it wrong, or correct the score.",
        "fields": [{"name": "sentence1", "type": "text"}, {"name": "sentence2", "type": "text"}],
        "questions": [
            {"name": "verdict", "type": "label_selection", "labels": [CORRECT, WRONG], "required": True},
            score,
        ],
        "metadata": [{"name": "row", "type": "integer"}, {"name": "sampler", "type": "terms"}],
    }


# --- import ---------------------------------------------------------------------------------------------------------


def import_review(path: str | Path, run_dir: str | Path) -> dict[str, Any]:
    """Read a Label Studio or Argilla export of the pairs `export_review` wrote into the run's review.json (rows
    reviewed there replace the saved ones, others stay). Returns the summary and the format read."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    return import_review_text(text, run_dir, name=str(path))


def import_review_text(text: str, run_dir: str | Path, *, name: str) -> dict[str, Any]:
    """`import_review` of an export's text (an upload), `name` naming it in errors and the run's log."""
    path, run_dir = Path(name), Path(run_dir)
    try:
        items = json.loads(text, object_pairs_hook=unique_json_object)
    except ValueError as exc:
        raise ConfigError(f"{path}: not a JSON export ({exc})") from None
    if isinstance(items, dict) and isinstance(items.get("records"), list):  # {"records": [...]} as some dumps write
        items = items["records"]
    if not isinstance(items, list):
        raise ConfigError(f"{path}: expected a list of tasks or records, got {type(items).__name__}")
    silver, scale = _silver(run_dir), run_scale(run_dir)
    fmt = _format_of(items, path)
    reviewed: Review = {}
    for i, item in enumerate(items):
        where = f"{path}, item {i + 1}"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected an object, got {type(item).__name__}")
        row, verdict, score = (_from_label_studio if fmt == "label-studio" else _from_argilla)(item, where)
        if verdict is None and score is None:
            continue  # not reviewed there
        _check_pair(silver, row, item, where, fmt)
        unit = None if score is None else _unit(score, scale, where)
        reviewed[row] = {"wrong": verdict == WRONG, "score": unit if verdict != WRONG else None}
    review = load_review(run_dir) | reviewed
    save_review(run_dir, review, source=f"review imported from {path.name} ({fmt})")
    return {"format": fmt, "reviewed": len(reviewed), **review_summary(reviewed)}


def _format_of(items: list, path: Path) -> str:
    first = next((item for item in items if isinstance(item, dict)), {})
    if "fields" in first or any(key.endswith(".responses") for key in first):
        return "argilla"
    if "data" in first or "annotations" in first or "sentence1" in first:
        return "label-studio"
    raise ConfigError(f"{path}: neither a Label Studio nor an Argilla export (no 'data', 'annotations' or 'fields')")


def _row(value: Any, where: str) -> int:
    """The silver row an item reviews: a whole number (an int, or its digits as text)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        return int(value.strip())
    raise ConfigError(f"{where}: 'row' must be the silver row number, got {value!r}")


def _from_label_studio(task: dict, where: str) -> tuple[int, str | None, float | None]:
    """(row, verdict, score) of a Label Studio task: the last annotation not cancelled (JSON export), or the flat
    keys of JSON-MIN."""
    if "annotations" not in task:  # JSON-MIN: the data keys and one key per control
        verdict = task.get("verdict")
        verdict = verdict.get("choices", [None])[0] if isinstance(verdict, dict) else verdict
        return _row(task.get("row"), where), _verdict(verdict, where), _number(task.get("score"), where)
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    row = _row(data.get("row"), where)
    done = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    if not done:
        return row, None, None
    verdict = score = None
    for result in done[-1].get("result") or []:
        value = result.get("value") or {}
        if result.get("from_name") == "verdict":
            verdict = _verdict((value.get("choices") or [None])[0], where)
        elif result.get("from_name") == "score":
            score = _number(value.get("number"), where)
    return row, verdict, score


def _from_argilla(record: dict, where: str) -> tuple[int, str | None, float | None]:
    """(row, verdict, score) of an Argilla record: the submitted responses (the most common verdict, the median
    score), nested (`to_dict`) or flattened (`"verdict.responses"`)."""
    metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    row = _row(metadata.get("row", record.get("row")), where)
    answers = {}
    for question in ("verdict", "score"):
        if "responses" in record and isinstance(record["responses"], dict):
            given = record["responses"].get(question) or []
            values = [
                r.get("value") for r in given if isinstance(r, dict) and r.get("status", "submitted") == "submitted"
            ]
        else:
            values = list(record.get(f"{question}.responses") or [])
            status = list(record.get(f"{question}.responses.status") or ["submitted"] * len(values))
            values = [v for v, s in zip(values, status) if s == "submitted"]
        answers[question] = [v for v in values if v not in (None, "")]
    verdicts = [_verdict(v, where) for v in answers["verdict"]]
    scores = [_number(v, where) for v in answers["score"]]
    verdict = Counter(verdicts).most_common(1)[0][0] if verdicts else None
    return row, verdict, statistics.median(scores) if scores else None


def _verdict(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in (CORRECT, WRONG):
        raise ConfigError(f"{where}: verdict must be {CORRECT!r} or {WRONG!r}, got {value!r}")
    return value


def _number(value: Any, where: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: score must be a number, got {value!r}") from None
    if not np.isfinite(number):
        raise ConfigError(f"{where}: score must be a finite number, got {value!r}")
    return number


def _unit(score: float, scale: tuple[float, float], where: str) -> float:
    low, high = scale
    if not low <= score <= high:
        raise ConfigError(f"{where}: score {score:g} is outside the dataset's scale {low:g}-{high:g}")
    return (score - low) / (high - low)


def _check_pair(silver: pd.DataFrame, row: int, item: dict, where: str, fmt: str) -> None:
    """The row exists and holds the same sentences: a review of another run's pairs is refused."""
    if row >= len(silver):
        raise ConfigError(f"{where}: row {row} is not a silver pair of this run ({len(silver):,} pairs)")
    if fmt == "label-studio":
        pair = item.get("data") if isinstance(item.get("data"), dict) else item
    else:
        pair = item.get("fields") if isinstance(item.get("fields"), dict) else item
    expected = (silver.at[row, "sentence1"], silver.at[row, "sentence2"])
    if (pair.get("sentence1"), pair.get("sentence2")) != expected:
        raise ConfigError(f"{where}: row {row} holds other sentences than this run's silver pair {row}")
