"""The pages' one reader of a run directory: its metrics tables, the recommendation and its reasons, comparisons and
speed across runs. It re-exports the narrower readers beside it, so a page asks `runinfo` for anything about a
run: `runfiles` (JSON, log, predictions, model keys), `runprogress` (steps, progress, ETA, failures),
`teacherinfo` (ensemble, gate notes, labeling teacher, teacher search), `silverinfo` (silver pairs and their
review), `modelfiles` (downloads and export formats)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from augsbert_core.evaluation import (
    PRIMARY_METRIC,
    RECOMMENDED,
    model_metrics,
    recommendation_notes,
    recommendation_of,
    recommended_of,
    schedule_label,
    schedules_of,
)
from augsbert_core.models import DEFAULT_MODEL
from augsbert_core.runs import (  # noqa: F401 - attempts, elapsed: re-exported for the pages
    ACTIVE,
    Run,
    RunFiles,
    RunRecord,
    RunStore,
    atomic_write_json,
    attempts,
    elapsed,
    worked_seconds,
)
from augsbert_core.speed import pairs_per_s

from .charts import AUGSBERT_COLORS, MODEL_COLORS, RUN_PATTERNS
from .metric_format import metric_label, metric_number, metric_value
from .modelfiles import (  # noqa: F401 - re-exported: the pages read a run through this module
    EXPORT_FORMATS,
    ModelDownload,
    export_formats,
    export_zip,
    model_download,
    trained_models,
    zip_folder,
)
from .runfiles import (  # noqa: F401 - re-exported: the pages read a run through this module
    BASE_MODELS,
    ENSEMBLE_KEY,
    MODEL_TITLES,
    PREDICTION_MODELS,
    STATUS_ICONS,
    gold_scale,
    load_predictions,
    model_title,
    prediction_models,
    predictions_path,
    read_json,
    read_log,
    run_label,
    short_id,
    table_models,
)
from .runprogress import (  # noqa: F401 - re-exported: the pages read a run through this module
    FAILURE_ADVICE,
    STEPS,
    Progress,
    eval_metric_key,
    explain_failure,
    progress,
    run_eta,
    run_steps,
    state_steps,
    step_of,
)
from .silverinfo import (  # noqa: F401 - re-exported: the pages read a run through this module
    SUSPICION_WHY,
    apply_review,
    import_review_text,
    ks_distances,
    load_review,
    load_silver,
    merge_review,
    pending_review,
    review_editor_key,
    review_file,
    review_path,
    review_summary,
    sampler_mix_text,
    save_review,
    silver_export,
    silver_suspicion,
    unit_score,
)
from .teacherinfo import (  # noqa: F401 - re-exported: the pages read a run through this module
    ensemble_decision,
    ensemble_text,
    gate_teacher_note,
    labeling_teacher,
    labeling_teacher_dev,
    labeling_teacher_text,
    metrics,
    result_models,
    seed_trials_summary,
    seed_trials_table,
    teacher_search_summary,
    teacher_search_table,
)

RECOMMENDED_WHY = "best on dev among {baseline} and the AugSBERT student; ties go to the baseline"


def queue(store: RunStore) -> list[RunRecord]:
    """Active runs in the order the device serves them: running first, then queued by age."""
    active = [r for r in store.list() if r.status in ACTIVE]
    return sorted(active, key=lambda r: (r.status != "running", r.created_at))


def threshold_line(per_split: dict[str, Any]) -> str:
    """'At the threshold chosen on dev (0.43), test: F1 88.10 · precision 86.00 · recall 90.30 · accuracy 84.20': a
    0/1 model's deployable operating point (the scores x100, as the cards show them)."""
    parts = [
        f"{name} {metric_value(per_split[key])}"
        for key, name in (("f1", "F1"), ("precision", "precision"), ("recall", "recall"), ("accuracy", "accuracy"))
        if isinstance(per_split.get(key), (int, float))
    ]
    threshold = per_split.get("threshold")
    where = (
        f"At the threshold chosen on dev ({threshold:.2f})"
        if isinstance(threshold, (int, float))
        else "At its threshold"
    )
    return f"{where}, test: " + " · ".join(parts)


def operating_points(metrics: dict[str, Any], keys: list[str], split: str = "test") -> pd.DataFrame:  # noqa: F811
    """A 0/1 task's models at their dev-chosen threshold: model, AP, F1, precision, recall, accuracy (x100, as the
    cards show them) and the threshold, one row per model of `keys` that has them."""
    rows = []
    for key in keys:
        per = (metrics.get(key) or {}).get(split) or {}
        if "f1" not in per:
            continue
        row = {"model": model_title(key)}
        for name, title in (("ap", "AP"), ("f1", "F1"), ("precision", "precision"), ("recall", "recall")):
            value = per.get(name)
            row[title] = metric_number(value) if isinstance(value, (int, float)) else None
        value = per.get("accuracy")
        row["accuracy"] = metric_number(value) if isinstance(value, (int, float)) else None
        row["threshold"] = per.get("threshold")
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Verdict:
    """What a finished run decided, from one read of its metrics.json: the recommended model key (None when the run
    has not finished), why, and each trained student's schedule in words ({model: 'best 3 of 5 epochs ...'})."""

    recommended: str | None = None
    reason: str = ""
    schedules: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # how the recommendation squares with the other metrics and the gate


def verdict(run_dir: str | Path, task: str | None = None) -> Verdict:
    """The run's `Verdict`. The reason is metrics.json's `recommendation.why` (the dev gain and its interval), or
    for runs finished before that rule `recommendation_reason`'s sentence."""
    raw = read_json(run_dir, RunFiles.METRICS, None)
    if not isinstance(raw, dict):
        return Verdict()
    if task not in PRIMARY_METRIC and not isinstance(raw.get(RECOMMENDED), str):
        task = (read_json(run_dir, RunFiles.CONFIG, {}) or {}).get("task")
    record = recommendation_of(raw) or {}
    why, notes = record.get("why"), record.get("notes")
    if not isinstance(notes, list) and record.get("model"):  # runs finished before metrics.json kept the notes
        gate = read_json(run_dir, RunFiles.GATE, None)
        notes = recommendation_notes(raw, record, gate if isinstance(gate, dict) else None, task or "regression")
    return Verdict(
        recommended_of(raw, task),
        why if isinstance(why, str) and why else recommendation_reason(model_metrics(raw)),
        {key: schedule_label(entry) for key, entry in schedules_of(raw).items()},
        tuple(str(n) for n in notes or ()),
    )


def recommendation(run_dir: str | Path, task: str | None = None) -> str | None:
    """The model key a finished run recommends: metrics.json's `recommended`, or, for runs finished before runs
    wrote it, computed the same way (`evaluation.recommend`: the better on dev of the baseline and AugSBERT,
    ties to the baseline). None for a run without metrics.json (not finished)."""
    return verdict(run_dir, task).recommended


def recommendation_reason(models: dict[str, Any] | list[str] | tuple[str, ...]) -> str:
    """'best on dev among gold-only and the AugSBERT student; ties go to the baseline' (zero-shot when the run
    has no gold-only student: scenario 3): the rule of runs finished before metrics.json's `recommendation`."""
    why = RECOMMENDED_WHY.format(baseline="gold-only" if "gold_only" in models else "zero-shot")
    splits = [v for v in models.values() if isinstance(v, dict)] if isinstance(models, dict) else []
    if splits and not any("dev" in per_model for per_model in splits):  # as evaluation.recommend decides it
        why = why.replace("best on dev", "best on test (the run has no dev split)")
    return why


def order_recommended(keys: list[str], recommended: str | None) -> list[str]:
    """`keys` with the recommended one first (unchanged when it is None or absent)."""
    if recommended in keys:
        return [recommended, *[k for k in keys if k != recommended]]
    return list(keys)


def disagreements(preds: pd.DataFrame, teacher: str, scale: tuple[float, float] | None, n: int = 25) -> pd.DataFrame:
    """The `n` test pairs where the labeling teacher and the AugSBERT student differ most: sentences, gold on the
    dataset's scale (column 'gold (0–5)'), the two predicted similarities and their difference."""
    low, high = scale or (0.0, 1.0)
    out = preds.assign(difference=(preds[teacher] - preds["augsbert"]).abs())
    out = out.sort_values("difference", ascending=False, kind="stable").head(n)
    out = out.assign(gold=low + out["gold"].astype(float) * (high - low))
    return out[["sentence1", "sentence2", "gold", teacher, "augsbert", "difference"]].rename(
        columns={"gold": f"gold ({low:g}–{high:g})"}
    )


def runs_table(
    records: list[RunRecord], metrics_by_run: dict[str, dict], recommended_by_run: dict[str, str | None]
) -> pd.DataFrame:
    """The Compare page's table of every run: name, status, scenario, sampler, recommended model, each model's
    primary test metric ×100 (column '<model> (test <metric>)', one decimal), review, created, duration, id."""
    rows = []
    models_listed = table_models(metrics_by_run)  # + the ensemble teacher, the full-gold ceiling where present
    for r in records:
        m = metrics_by_run.get(r.id, {})
        primary = PRIMARY_METRIC.get(r.task or "regression", "spearman")
        row = {
            "run": r.name,
            "status": r.status,
            "scenario": r.scenario,
            "sampler": r.sampler,
            "recommended": model_title(recommended_by_run[r.id]) if recommended_by_run.get(r.id) else "",
        }
        for key in models_listed:
            row[f"{model_title(key)} (test {primary})"] = metric_number((m.get(key) or {}).get("test", {}).get(primary))
        rv = review_summary(load_review(r.dir))
        row["review"] = f"{rv['wrong']} wrong, {rv['corrected']} fixed" if rv["total"] else ""
        row.update(
            {
                "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at)) if r.created_at else "–",
                "duration": _duration_text(r),
                "id": r.id,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _duration_text(record: RunRecord) -> str:
    """How long a run has worked, over all its attempts (a resumed run counts its earlier ones), in minutes."""
    seconds = worked_seconds(record) if record.started_at else None
    return f"{seconds / 60:.1f} min" if seconds is not None and record.status not in ACTIVE else "–"


def metric_column_label(column: str, with_metric: bool = True) -> str:
    """The header of a runs-table metric column: 'AugSBERT (test spearman)' -> 'AugSBERT · test Spearman' (only
    'AugSBERT' without `with_metric`: when every metric column holds the same metric, named once above)."""
    model, _, rest = column.partition(" (")
    split, _, metric = rest.rstrip(")").partition(" ")
    if not metric:
        return column
    return f"{model} · {metric_label(metric, split)}" if with_metric else model


def metrics_tables(run_metrics: dict[str, dict], recommended: str | None) -> dict[str, pd.DataFrame]:
    """One table per split ({'test': ..., 'dev': ...}): a row per model (recommended first, named so), a column per
    metric ('test.spearman', ...; ×100 with one decimal, a threshold as it is). A table per split keeps each one
    narrow enough to read without scrolling."""
    known = [k for k in MODEL_TITLES if k in run_metrics]
    order = order_recommended(known + [k for k in run_metrics if k not in known], recommended)
    splits = sorted({sp for per in run_metrics.values() for sp in per}, key=lambda sp: {"test": 0, "dev": 1}.get(sp, 2))
    out = {}
    for split in splits:
        rows = {}
        for key in order:
            values = (run_metrics.get(key) or {}).get(split)
            if not values:
                continue
            title = model_title(key) + (" · recommended" if key == recommended else "")
            rows[title] = {f"{split}.{name}": metric_number(v, name) for name, v in values.items()}
        if rows:
            out[split] = pd.DataFrame.from_dict(rows, orient="index")
    return out


def comparison_rows(chosen: list[RunRecord], metrics_by_run: dict[str, dict], metric: str) -> pd.DataFrame:
    """Rows of the grouped bar chart (series, split, value, color, pattern): zero-shot and gold-only of the first
    run, the full-gold ceiling of the first run that trained one, AugSBERT of each run (a colour and a pattern per
    run), and the teacher and its ensemble once when all runs share them (else per run, told apart by pattern); an
    ensemble that did not label its run's silver pairs is named '· not used'."""

    bars: list[dict[str, Any]] = []

    def add(series: str, per_split: dict, color: str, pattern: str = "") -> None:
        for split, values in (per_split or {}).items():
            if metric in values:
                bars.append(
                    {"series": series, "split": split, "value": values[metric], "color": color, "pattern": pattern}
                )

    if chosen:
        newest = metrics_by_run.get(chosen[0].id, {})
        for key in ("zero_shot", "gold_only"):
            add(MODEL_TITLES[key], newest.get(key, {}), MODEL_COLORS[MODEL_TITLES[key]])
        ceiling = next(
            (
                metrics_by_run[r.id]["full_gold"]
                for r in chosen
                if isinstance(metrics_by_run.get(r.id, {}).get("full_gold"), dict)
            ),
            {},
        )
        add(MODEL_TITLES["full_gold"], ceiling, MODEL_COLORS[MODEL_TITLES["full_gold"]])
        run_index = {r.id: i for i, r in enumerate(chosen)}
        for i, r in enumerate(chosen):
            add(
                f"AugSBERT · {r.sampler} ({short_id(r.id)})",
                metrics_by_run.get(r.id, {}).get("augsbert", {}),
                AUGSBERT_COLORS[i % len(AUGSBERT_COLORS)],
                RUN_PATTERNS[i % len(RUN_PATTERNS)],
            )
        unused = {r.id for r in chosen if (d := ensemble_decision(r.dir)) is not None and not d["used"]}
        for key in ("teacher", "ensemble"):
            per_run = {r.id: metrics_by_run.get(r.id, {}).get(key) for r in chosen}
            per_run = {k: v for k, v in per_run.items() if v}
            distinct = {round(v.get("test", {}).get(metric, 0), 3) for v in per_run.values()}
            for run_id, values in per_run.items() if len(distinct) > 1 else list(per_run.items())[:1]:
                add(
                    MODEL_TITLES[key]
                    + (f" ({short_id(run_id)})" if len(distinct) > 1 else "")
                    + (" · not used" if key == ENSEMBLE_KEY and run_id in unused else ""),
                    values,
                    MODEL_COLORS[MODEL_TITLES[key]],
                    RUN_PATTERNS[run_index[run_id] % len(RUN_PATTERNS)] if len(distinct) > 1 else "",
                )
    frame = pd.DataFrame(bars, columns=["series", "split", "value", "color", "pattern"])
    order = {"dev": 0, "test": 1}
    return frame.sort_values("split", key=lambda s: s.map(order).fillna(2), kind="stable").reset_index(drop=True)


SPEED_COLUMNS = ["series", "run", "model", "kind", "split", "value", "pairs_per_s", "device", "color"]


def student_label(run_dir: str | Path) -> str:
    """The kind of bi-encoder a run trained, in a few words: 'static', 'MiniLM, 2 layers', 'MiniLM', or the base
    model's folder or hub name ('' when the run has no readable config)."""
    cfg = read_json(run_dir, RunFiles.CONFIG)
    student = cfg.get("student") if isinstance(cfg, dict) else None
    if not isinstance(student, dict):
        return ""
    model = str(student.get("model") or DEFAULT_MODEL)
    name = "MiniLM" if model == DEFAULT_MODEL else Path(model).name or model
    layers = student.get("layers")
    return f"{name}, {layers} layers" if isinstance(layers, int) else name


def speed_rows(chosen: list[RunRecord], metrics_by_run: dict[str, dict], metric: str) -> pd.DataFrame:
    """Accuracy against speed: one row per model a selected run timed (speed.json), with its `metric` on the
    split it was timed on (test, else dev). Series are model titles, with the run's short id when several runs
    are shown, and the student's kind on bi-encoders when the runs trained different kinds (a static student
    against a MiniLM one). Empty (with the columns) when no selected run has speed.json."""
    rows: list[dict[str, Any]] = []
    students = {r.id: student_label(r.dir) for r in chosen}
    kinds_differ = len(set(students.values())) > 1
    for i, r in enumerate(chosen):
        speed = read_json(r.dir, RunFiles.SPEED)
        models = (speed or {}).get("models") if isinstance(speed, dict) else None
        if not isinstance(models, dict):
            continue
        for key, entry in models.items():
            rate = pairs_per_s(speed, key)
            split = entry.get("split") if isinstance(entry, dict) else None
            value = (metrics_by_run.get(r.id, {}).get(key, {}).get(split) or {}).get(metric)
            if rate is None or value is None:
                continue
            title = model_title(key)
            color = AUGSBERT_COLORS[i % len(AUGSBERT_COLORS)] if key == "augsbert" else MODEL_COLORS.get(title, "#777")
            if kinds_differ and entry.get("kind") == "bi-encoder" and students[r.id]:
                title += f" · {students[r.id]}"
            rows.append(
                {
                    "series": title + (f" ({short_id(r.id)})" if len(chosen) > 1 else ""),
                    "run": r.id,
                    "model": key,
                    "kind": entry.get("kind", ""),
                    "split": split,
                    "value": float(value),
                    "pairs_per_s": rate,
                    "device": str(speed.get("device_name") or speed.get("device") or ""),
                    "color": color,
                }
            )
    return pd.DataFrame(rows, columns=SPEED_COLUMNS)
