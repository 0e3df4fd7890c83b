"""The teacher-readiness gate: is the labeling teacher better than the student it is meant to teach, on dev?
Its verdict, numbers and the advice in its message (what to try when the teacher is weak) live here.

The advice is also a list of option keys (`OPTIONS`) in gate.json, so that the app speaks its own words for
each option instead of parsing the message. Scenario 1 makes no silver labels: the gate does not apply there."""

from __future__ import annotations

import math

from ..choices import MODEL_ALIASES, model_alias
from ..config import ExperimentConfig
from ..evaluation import PRIMARY_METRIC
from .ensemble import TeacherEnsemble

SMALL_LEAD = (
    0.03  # within this of the student (3 points) a ready teacher gets an expectation note, a weak one 'marginal'
)
NOT_APPLICABLE = "not_applicable"  # the verdict in scenario 1: no silver labels, nothing to gate
# the verdict when the teacher's or every student's dev score is undefined (NaN: constant predictions): the gate
# decides nothing and never stops a run on it
UNDEFINED = "undefined"

#: What to try when the teacher is weak: option key -> its wording in the message (config keys, for the CLI).
OPTIONS: dict[str, str] = {
    "mpnet": "a stronger teacher (a trained cross-encoder, or the offline mpnet base: python scripts/setup_mpnet.py, "
    "then teacher.model: mpnet)",
    "stronger_teacher": "a stronger teacher (a trained cross-encoder)",
    "source_gold": "source gold closer to the target domain",
    "ensemble": "the teacher ensemble (ensemble: auto)",
    "teacher_search": "teacher search on dev (teacher_search: {learning_rates: [...], epochs: [...]})",
    "seed_trials": "seed trials (teacher.seed_trials: 4)",
    "gold_only": "gold-only training",
    "keep_student": "keeping the {best} student",
}
SEED_TRIALS_ADVICE = 4  # the teacher seed trials the advice suggests (teacher.seed_trials: 4, "Try 4 seeds")
#: The same options in the app's words (where on the Scenario page each one is), for the pages and the report.
PAGE_WORDS: dict[str, str] = {
    "mpnet": "a stronger teacher: the offline mpnet base (all-mpnet-base-v2), the recommended teacher",
    "stronger_teacher": "a stronger teacher: a trained cross-encoder (Teacher · Hub name or local path)",
    "source_gold": "source-domain gold closer to your domain (Data page)",
    "ensemble": "the teacher ensemble (Teacher quality · Teacher ensemble: auto)",
    "teacher_search": "a teacher search on dev (Teacher quality · Teacher search on dev)",
    "seed_trials": f"{SEED_TRIALS_ADVICE} teacher seeds, the best one on dev finished (Teacher quality · Teacher seed "
    "trials)",
    "gold_only": "keeping the gold-only student: it is in the run's results",
    "keep_student": "keeping the student the teacher trailed: it is in the run's results",
}


def readiness_gate(
    metrics: dict[str, dict[str, dict[str, float]]],
    task: str,
    cfg: ExperimentConfig,
    ensemble: TeacherEnsemble | None = None,
    teacher_model_type: str | None = None,
) -> dict:
    """Compare the labeling teacher with the best student on dev (test is never looked at). Verdict 'ready' or 'weak'
    (with `options`, keys of `OPTIONS`); in scenario 1, which makes no silver labels, 'not_applicable'.

    With an ensemble teacher its weight was chosen on dev, so its cross-fitted dev score is compared with
    the gold-only student's score on the same dev halves."""
    primary = PRIMARY_METRIC[task]
    split = "dev" if "dev" in metrics["teacher"] else "test"
    students = {k: metrics[k][split][primary] for k in ("zero_shot", "gold_only") if k in metrics}
    if ensemble is not None:
        teacher = ensemble.report["dev_crossfit"]
        students[ensemble.report.get("bi_encoder", "gold_only")] = ensemble.report["bi_encoder_crossfit"]
        what = f"teacher (ensemble, cross-fitted; cross-encoder alone {100 * metrics['teacher'][split][primary]:.1f})"
    else:
        teacher = metrics["teacher"][split][primary]
        what = "teacher"
    defined = {k: v for k, v in students.items() if _finite(v)}
    if not _finite(teacher) or not defined:
        return _undefined(metrics, task, cfg, split, teacher, students, what, ensemble)
    best_name = max(defined, key=defined.get)
    best = defined[best_name]
    ready = teacher > best + cfg.gate.margin
    lead = teacher - best
    options: list[str] = []
    if cfg.scenario_spec.augments:
        message = (
            "the readiness gate does not apply in scenario 1: the student learns from gold and augmented copies "
            f"that keep their gold labels (for reference, {what} {100 * teacher:.1f} vs student ({best_name}) "
            f"{100 * best:.1f} {primary} on {split})"
        )
        summary = message
    elif ready:
        message = f"{what} is ready: {100 * teacher:.1f} vs student ({best_name}) {100 * best:.1f} {primary} on {split}"
        if lead < SMALL_LEAD:
            message += (
                f". Its lead is only {100 * lead:.1f} points: a student distilled from it recovers part of "
                f"that lead at best, so expect a gain well below {100 * lead:.1f} points over {best_name}"
            )
        summary = message
    else:
        options = weak_options(cfg, teacher_model_type)
        verdict = (
            "silver labels from this teacher may not help (marginal: it trails by less than "
            f"{100 * SMALL_LEAD:.0f} points, where {split} and test can disagree)"
            if -lead < SMALL_LEAD
            else "silver labels from this teacher will likely hurt"
        )
        numbers = f"{what} {100 * teacher:.1f} vs student ({best_name}) {100 * best:.1f} {primary} on {split}"
        summary = f"{verdict}: {numbers}"
        message = f"{summary}. Options: " + "; ".join(OPTIONS[o].replace("{best}", best_name) for o in options) + "."
    return {
        "split": split,
        "metric": primary,
        "teacher": teacher,
        "students": students,
        "best_student": best_name,
        "verdict": NOT_APPLICABLE if cfg.scenario_spec.augments else "ready" if ready else "weak",
        "action": cfg.gate.action,
        "message": message,
        "summary": summary,  # the message without its options: the app words those itself
        "options": options,
        "used_test": split == "test",
        "teacher_kind": "ensemble" if ensemble is not None else "cross_encoder",
        "cross_encoder": metrics["teacher"][split][primary],
        "lead": lead,
        # the teacher's lead over every student it could teach (gold-only: the tuned baseline; zero-shot: the base);
        # a fast student's lead is the room silver has to teach it (docs/results.md)
        "leads": {name: teacher - score for name, score in defined.items()},
    }


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _undefined(metrics, task, cfg, split, teacher, students, what, ensemble) -> dict:
    """The gate's record when it cannot compare: who is undefined, and that nothing was decided on it."""
    primary = PRIMARY_METRIC[task]
    missing = ([what.split(" (")[0]] if not _finite(teacher) else []) + [
        k for k, v in students.items() if not _finite(v)
    ]
    message = (
        f"the readiness gate decides nothing: {primary} on {split} is undefined for {', '.join(missing)} "
        "(constant predictions on that split); the run goes on without its verdict"
    )
    return {
        "split": split,
        "metric": primary,
        "teacher": teacher if _finite(teacher) else None,
        "students": {k: (v if _finite(v) else None) for k, v in students.items()},
        "best_student": None,
        "verdict": NOT_APPLICABLE if cfg.scenario_spec.augments else UNDEFINED,
        "action": cfg.gate.action,
        "message": message,
        "summary": message,
        "options": [],
        "used_test": split == "test",
        "teacher_kind": "ensemble" if ensemble is not None else "cross_encoder",
        "cross_encoder": metrics["teacher"][split][primary],
        "lead": None,
        "leads": {},
    }


def weak_options(cfg: ExperimentConfig, teacher_model_type: str | None = None) -> list[str]:
    """The keys of `OPTIONS` worth trying for a weak teacher of `cfg`, in the order the message lists them."""
    # already a large teacher: the offline mpnet by alias, or a model whose name contains it (all-mpnet-base-v2)
    named = str(cfg.teacher.model)
    mpnet = getattr(model_alias(teacher_model_type), "large", False) or any(
        spec.large and spec.name in named for spec in MODEL_ALIASES.values()
    )
    options = ["stronger_teacher" if mpnet else "mpnet"]
    if cfg.scenario_spec.source_domain:
        options.append("source_gold")
    if cfg.ensemble == "off":
        options.append("ensemble")
    if not cfg.teacher_search.enabled and cfg.teacher.epochs:
        options.append("teacher_search")
    if cfg.teacher.seed_trials == 1 and cfg.teacher.epochs:
        options.append("seed_trials")
    options.append("gold_only" if cfg.scenario_spec.gold_train else "keep_student")
    return options
