"""How a run's teacher was chosen and which one labeled: the ensemble decision (ensemble.json, the silver stage's
labeler), the gate's notes, teacher search and seed trials; the run's metrics with the ensemble's cross-fitted
dev score."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from augsbert_core import choices, registry
from augsbert_core.evaluation import model_metrics
from augsbert_core.runs import Run, RunFiles

from .metric_format import metric_label, metric_number, metric_value
from .runfiles import ENSEMBLE_KEY, MODEL_TITLES, _number, model_title, read_json, table_models


def metrics(run_dir: str | Path) -> dict[str, dict[str, dict[str, float]]]:
    """The per-model metrics of a run ({model: {split: {metric: value}}}): metrics.json of a finished run, else
    metrics.partial.json (a run the gate stopped). Top-level entries that are no model (the `recommended` name)
    are left out: see `recommendation`."""
    raw = read_json(run_dir, RunFiles.METRICS, {}) or read_json(run_dir, RunFiles.METRICS_PARTIAL, {}) or {}
    out = model_metrics(raw) if isinstance(raw, dict) else {}
    return _crossfitted_ensemble(run_dir, out)


def _crossfitted_ensemble(run_dir: str | Path, metrics: dict[str, dict]) -> dict[str, dict]:
    """The ensemble's dev score as the cross-fitted one of ensemble.json: its weight was chosen on dev, so the
    in-sample dev score flatters it; the gate and the ensemble card use the cross-fitted number, and every page
    shows that one number for the ensemble on dev."""
    dev = metrics.get("ensemble", {}).get("dev") if isinstance(metrics.get("ensemble"), dict) else None
    decision = ensemble_decision(run_dir) if isinstance(dev, dict) else None
    if decision is None or decision["ensemble"] is None or decision["metric"] not in dev:
        return metrics
    ensemble = {**metrics["ensemble"], "dev": {**dev, decision["metric"]: decision["ensemble"]}}
    return {**metrics, "ensemble": ensemble}


def result_models(run_dir: str | Path, metrics: dict[str, Any]) -> list[str]:
    """The models of a run's result cards: `table_models` less a teacher ensemble that did not label the silver
    pairs (ensemble.json `used` false): fitted, compared and not used, it is no result of the run; and less the
    gold-only student in scenario 3, which never trains one."""
    keys = table_models({"run": metrics})
    decision = ensemble_decision(run_dir)
    if decision is not None and not decision["used"]:
        keys = [k for k in keys if k != ENSEMBLE_KEY]
    config = read_json(run_dir, RunFiles.CONFIG, {})
    spec = registry.scenario_of(config.get("scenario")) if isinstance(config, dict) else None
    if "gold_only" not in metrics and spec is not None and not spec.gold_train:
        keys = [k for k in keys if k != "gold_only"]  # scenario 3 has no target gold: no gold-only card to wait for
    return keys


def labeling_teacher_dev(
    run_dir: str | Path, run_metrics: dict[str, Any] | None = None
) -> tuple[str, str, float, str] | None:
    """(model key, metric, dev score, how it was measured) of the teacher that labeled the silver pairs: the
    ensemble's cross-fitted dev score when it labeled (the gate's number), else the cross-encoder's on all of dev;
    None when the run has neither."""
    run_metrics = run_metrics if run_metrics is not None else metrics(run_dir)
    decision = ensemble_decision(run_dir)
    if decision is not None and decision["used"] and decision["ensemble"] is not None:
        return ENSEMBLE_KEY, decision["metric"], decision["ensemble"], "cross-fitted: its weight was chosen on dev"
    dev = (run_metrics.get("teacher") or {}).get("dev") or {}
    primary = next((k for k in ("spearman", "ap") if k in dev), None)
    if primary is None:
        return None
    return "teacher", primary, float(dev[primary]), "all of dev"


def gate_teacher_note(gate: dict[str, Any], labeler: str | None = None) -> str:
    """' (ensemble teacher)' when the gate judged the ensemble and it labeled; when the labeler probe, run after the
    gate, chose the other teacher (`labeler`: the run's, `Run.labeler`; runs before it: gate.json
    `labeler`), which teacher the gate judged; '' for a cross-encoder."""
    judged = choices.labeler(gate.get("teacher_kind"))
    chosen = choices.labeler(gate.get("labeler") or labeler)
    if judged is not None and chosen is not None and judged is not chosen:
        return f" (judged on {judged.judged})"
    return " (ensemble teacher)" if judged is choices.ENSEMBLE else ""


def labeling_teacher_text(run_dir: str | Path) -> str | None:
    """'Labeling teacher on dev: **Teacher (cross-encoder) 85.8** (dev Spearman, all of dev).': the one dev number
    of the teacher that labeled, as its result card gives it (markdown of fixed words and numbers), with a note when
    the gate judged the other teacher (the labeler probe runs after the gate); None without a teacher."""
    found = labeling_teacher_dev(run_dir)
    if found is None:
        return None
    key, metric, value, how = found
    gate = read_json(run_dir, RunFiles.GATE, {})
    judged = choices.labeler(gate.get("teacher_kind")) if isinstance(gate, dict) else None
    labeled = choices.labeler_of_model(key) or choices.CROSS_ENCODER
    note = ""
    if judged is not None and judged is not labeled:
        note = f"; the gate judged {judged.judged}, then the labeler probe chose {labeled.chosen}"
    title = labeled.title
    return f"Labeling teacher on dev: **{title} {metric_value(value)}** ({metric_label(metric, 'dev')}, {how}{note})."


def labeling_teacher(run_dir: str | Path, preds: pd.DataFrame) -> str | None:
    """The predictions column of the teacher that labeled the silver pairs: 'ensemble' when the run's ensemble
    did (ensemble.json used), else 'teacher'; None when predictions.csv has neither."""
    decision = ensemble_decision(run_dir)
    if decision is not None and decision["used"] and ENSEMBLE_KEY in preds.columns:
        return ENSEMBLE_KEY
    return "teacher" if "teacher" in preds.columns else None


def ensemble_decision(run_dir: str | Path) -> dict[str, Any] | None:
    """What ensemble.json says: weight on the cross-encoder, the cross-fitted dev scores of the ensemble and
    of each member, whether it beats both and whether it labeled the silver pairs; None without the file."""
    raw = read_json(run_dir, RunFiles.ENSEMBLE)
    if not isinstance(raw, dict):
        return None
    report = raw.get("report") if isinstance(raw.get("report"), dict) else {}
    weight = _number(raw.get("weight", report.get("weight")))
    return {
        "weight": weight,
        "metric": str(report.get("metric") or "spearman"),
        "ensemble": _number(report.get("dev_crossfit")),
        "ensemble_dev": _number(report.get("dev")),
        "cross_encoder": _number(report.get("cross_encoder_crossfit")),
        "bi_encoder": _number(report.get("bi_encoder_crossfit")),
        "beats_members": bool(report.get("beats_members", False)),
        "used": choices.labeler(Run.at(run_dir).labeler()) is choices.ENSEMBLE,
        "member": "zero-shot" if report.get("bi_encoder") == "zero_shot" else "gold-only",
        "probe": _probe_summary(run_dir),
        "cross_encoder_dev": _teacher_dev(run_dir, str(report.get("metric") or "spearman")),
    }


def _teacher_dev(run_dir: str | Path, metric: str) -> float | None:
    """The cross-encoder teacher's score on all of dev (metrics.json, else metrics.partial.json)."""
    raw = read_json(run_dir, RunFiles.METRICS, {}) or read_json(run_dir, RunFiles.METRICS_PARTIAL, {}) or {}
    teacher = raw.get("teacher") if isinstance(raw, dict) else None
    return _number(((teacher or {}).get("dev") or {}).get(metric)) if isinstance(teacher, dict) else None


def _probe_summary(run_dir: str | Path) -> str | None:
    """'probe students on dev: cross-encoder 86.2, ensemble 85.9' from probe.json (labeler: auto), else None."""
    raw = read_json(run_dir, RunFiles.PROBE)
    trials = raw.get("trials") if isinstance(raw, dict) else None
    if not isinstance(trials, list) or not trials:
        return None
    parts = [
        f"{str(t.get('labeler', '?')).replace('_', '-')} {metric_value(t['dev'])}"
        for t in trials
        if isinstance(t, dict) and _number(t.get("dev")) is not None
    ]
    return "probe students on dev: " + ", ".join(parts) if parts else None


def ensemble_text(d: dict[str, Any]) -> str:
    """One markdown paragraph on the ensemble decision."""

    def p(v: float | None) -> str:
        return metric_value(v)

    weight = "–" if d["weight"] is None else f"{d['weight']:.1f}"
    rest = "–" if d["weight"] is None else f"{1 - d['weight']:.1f}"
    verdict = "beats both members" if d["beats_members"] else "does not beat both members"
    probe = d.get("probe")
    if d["used"]:
        why = f" (chosen by the labeler probe: {probe})" if probe else "" if d["beats_members"] else " (ensemble: on)"
        labels = "**It labeled the silver pairs**" + why
    else:
        labels = "**The cross-encoder alone labeled the silver pairs**" + (
            f" (chosen by the labeler probe: {probe})" if probe else ""
        )
    member = d.get("member", "gold-only")
    whole = d.get("cross_encoder_dev")
    note = (
        f" (Cross-fitted: each half of dev scored with a weight fitted on the other half; on all of dev the "
        f"cross-encoder scores {p(whole)}.)"
        if whole is not None and p(whole) != p(d["cross_encoder"])
        else ""
    )
    return (
        f"**Teacher ensemble** · weight {weight} on the cross-encoder, {rest} on the {member} bi-encoder. "
        f"{metric_label(d['metric'], 'dev', title=True)} ×100, cross-fitted: ensemble **{p(d['ensemble'])}** vs "
        f"cross-encoder {p(d['cross_encoder'])} and {member} bi-encoder {p(d['bi_encoder'])}: it {verdict}. "
        f"{labels}.{note}"
    )


def teacher_search_table(run_dir: str | Path) -> pd.DataFrame | None:
    """teacher_search.json as a table (epochs, learning rate, status, dev ×100, seconds, chosen), or None."""
    raw = read_json(run_dir, RunFiles.TEACHER_SEARCH)
    trials = raw.get("trials") if isinstance(raw, dict) else None
    if not trials:
        return None
    rows = [
        {
            "epochs": _number(t.get("epochs")),
            "learning rate": _number(t.get("learning_rate")),
            "status": str(t.get("status", "")),
            "dev ×100": metric_number(t.get("dev")),
            "seconds": _number(t.get("seconds")),
            "chosen": bool(t.get("chosen", False)),
        }
        for t in trials
        if isinstance(t, dict)
    ]
    return pd.DataFrame(rows) if rows else None


def teacher_search_summary(table: pd.DataFrame) -> str:
    """'4 trials (1 skipped): 2 epochs, learning rate 5e-05 chosen'."""
    n = len(table)
    skipped = int(table["status"].str.startswith("skipped").sum())
    text = f"{n} trial{'s' if n != 1 else ''}" + (f" ({skipped} skipped: over the time budget)" if skipped else "")
    chosen = table[table["chosen"]]
    if len(chosen):
        row = chosen.iloc[0]
        epochs = "–" if pd.isna(row["epochs"]) else f"{row['epochs']:g}"
        rate = "–" if pd.isna(row["learning rate"]) else f"{row['learning rate']:.0e}"
        text += f"; chosen on dev: {epochs} epochs, learning rate {rate}"
    return text


def seed_trials_summary(table: pd.DataFrame) -> str:
    """'teacher: seed 43 of 4; AugSBERT: seed 42 of 2' (the seed finished after the trials)."""
    parts = []
    for model, group in table.groupby("model", sort=False):
        chosen = group.loc[group["chosen"], "seed"]
        parts.append(
            f"{model}: "
            + (f"seed {chosen.iloc[0]} of {len(group)} finished" if len(chosen) else f"{len(group)} trials")
        )
    return "each seed trained for a fraction of the schedule, the best on dev finished. " + "; ".join(parts)


def seed_trials_table(run_dir: str | Path) -> pd.DataFrame | None:
    """Every models/<name>/seed_search.json as one table (model, seed, steps, dev ×100, chosen), or None."""
    models_dir = Path(run_dir) / "models"
    if not models_dir.is_dir():
        return None
    rows = []
    order = list(MODEL_TITLES)
    for path in sorted(
        models_dir.glob("*/seed_search.json"),
        key=lambda q: (order.index(q.parent.name) if q.parent.name in order else 99, q.parent.name),
    ):
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(report, dict):
            continue
        fraction = _number(report.get("fraction"))
        for t in report.get("trials") or []:
            if not isinstance(t, dict):
                continue
            rows.append(
                {
                    "model": model_title(path.parent.name),
                    "seed": t.get("seed"),
                    "steps": t.get("steps"),
                    "fraction": fraction,
                    "dev ×100": metric_number(t.get("dev")),
                    "chosen": t.get("seed") == report.get("chosen_seed"),
                }
            )
    return pd.DataFrame(rows) if rows else None
