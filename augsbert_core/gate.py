"""The teacher-readiness gate: is the labeling teacher better than the student it is meant to teach, on dev?
Its verdict, numbers and the advice in its message (what to try when the teacher is weak) live here."""

from __future__ import annotations

from .config import ExperimentConfig
from .ensemble import TeacherEnsemble
from .evaluation import PRIMARY_METRIC

SMALL_LEAD = (
    0.03  # within this of the student (3 points) a ready teacher gets an expectation note, a weak one 'marginal'
)


def readiness_gate(
    metrics: dict[str, dict[str, dict[str, float]]],
    task: str,
    cfg: ExperimentConfig,
    ensemble: TeacherEnsemble | None = None,
    teacher_model_type: str | None = None,
) -> dict:
    """Compare the labeling teacher with the best student on dev (test is never looked at). Verdict 'ready' or 'weak'.

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
    best_name = max(students, key=students.get)
    best = students[best_name]
    ready = teacher > best + cfg.gate.margin
    lead = teacher - best
    if ready:
        message = f"{what} is ready: {100 * teacher:.1f} vs student ({best_name}) {100 * best:.1f} {primary} on {split}"
        if lead < SMALL_LEAD:
            message += (
                f". Its lead is only {100 * lead:.1f} points: a student distilled from it recovers part of "
                f"that lead at best, so expect a gain well below {100 * lead:.1f} points over {best_name}"
            )
    else:
        options = [
            "a stronger teacher (a trained cross-encoder"
            + (
                ")"
                if teacher_model_type == "mpnet" or "mpnet" in str(cfg.teacher.model)
                else ", or the offline mpnet base: python scripts/setup_mpnet.py, then teacher.model: mpnet)"
            )
        ]
        if cfg.scenario == 3:
            options.append("source gold closer to the target domain")
        if cfg.ensemble == "off":
            options.append("the teacher ensemble (ensemble: auto)")
        if not cfg.teacher_search.enabled and cfg.teacher.epochs:
            options.append("teacher search on dev (teacher_search: {learning_rates: [...], epochs: [...]})")
        if cfg.teacher.seed_trials == 1 and cfg.teacher.epochs:
            options.append("seed trials (teacher.seed_trials: 4)")
        options.append("gold-only training" if cfg.scenario != 3 else f"keeping the {best_name} student")
        verdict = (
            "silver labels from this teacher may not help (marginal: it trails by less than "
            f"{100 * SMALL_LEAD:.0f} points, where {split} and test can disagree)"
            if -lead < SMALL_LEAD
            else "silver labels from this teacher will likely hurt"
        )
        message = (
            f"{verdict}: {what} {100 * teacher:.1f} vs student ({best_name}) {100 * best:.1f} {primary} "
            f"on {split}. Options: " + "; ".join(options) + "."
        )
    return {
        "split": split,
        "metric": primary,
        "teacher": teacher,
        "students": students,
        "best_student": best_name,
        "verdict": "ready" if ready else "weak",
        "action": cfg.gate.action,
        "message": message,
        "used_test": split == "test",
        "teacher_kind": "ensemble" if ensemble is not None else "cross_encoder",
        "cross_encoder": metrics["teacher"][split][primary],
        "lead": lead,
    }
