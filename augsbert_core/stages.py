"""The steps of a run and the progress stages each reports: written down once, here.

A *step* is what the Training page ticks off (and what state.json's `done` list records); a *stage* is what a
`ProgressEvent` names. The pipeline, samplers, teacher and probe emit the constants below; the Training page, the
CLI's progress bars and the log render titles from `STAGES` and `STEPS`. A test fails on any stage emitted
that is not in this table (set AUGSBERT_STRICT_STAGES=1 to make `ProgressEvent` refuse unknown stages)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """A step of a run as the Training page shows it. `done_keys`: state.json entries that finish it."""

    key: str
    title: str
    done_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    """A progress stage: its event name, a title for people, the step it belongs to (None outside a run's
    recipe, e.g. `augsbert label`) and the unit its step counts."""

    name: str
    title: str
    step: str | None
    unit: str = "it"


# Steps, in display order. Candidate pairs come before the teacher (it warm-starts on them) and labeling after the
# readiness gate; runs of an older order read just as well: a step's state comes from the events seen.
STEPS: tuple[Step, ...] = (
    Step("setup", "Load and check data"),
    Step("zero_shot", "Zero-shot baseline", ("zero_shot",)),
    Step("gold_only", "Gold-only student", ("gold_only",)),
    Step("full_gold", "Full-gold ceiling student", ("full_gold",)),
    Step("candidates", "Candidate pairs", ("candidates",)),
    Step("teacher_warm", "Teacher warm start", ("teacher_warm",)),
    Step("teacher", "Teacher + readiness gate", ("teacher",)),
    Step("silver", "Silver labels", ("silver", "augment")),
    Step("augsbert", "AugSBERT student", ("augsbert",)),
    Step("label_errors", "Suspect gold labels", ("label_errors",)),
    Step("done", "Done"),
)

SETUP, DATA, REUSE = "setup", "data", "reuse"
SAMPLE, SAMPLE_GIVEN, SAMPLE_BM25 = "sample", "sample.given", "sample.bm25"
SAMPLE_ENCODE, SAMPLE_SEARCH, SAMPLE_CHUNK = "sample.encode", "sample.search", "sample.chunk"
TEACHER_WARM, TEACHER_SEARCH, TEACHER_TRAIN = "teacher.warm", "teacher.search", "teacher.train"
ENSEMBLE, GATE = "ensemble", "gate"
AUGMENT, LABEL, PROBE = "augment", "label", "probe"
STUDENT_TRAIN = "student.train"
TRACKING = "tracking"  # tracking: mlflow, after the run finished (tracking.py)
SPEED = "speed"  # every model timed on the same pairs in one pass (speed.one_pass), before the results are written
MINE = "mine"  # task positive_pairs: hard negatives mined for the gold positives (mining.py)
LABEL_ERRORS, LABEL_ERRORS_TRAIN = "label_errors", "label_errors.train"  # label_errors.py: per fold; its trainings
DONE = "done"

#: The students a run trains (model keys of metrics.json): each has a `<key>.train` and an `eval.<key>` stage.
STUDENTS = {"gold_only": "gold-only", "full_gold": "full-gold ceiling", "augsbert": "AugSBERT"}


def train_stage(model_key: str) -> str:
    """The training stage of a student (`gold_only.train`, ...)."""
    if model_key not in STUDENTS:
        raise KeyError(f"no training stage for {model_key!r}")
    return f"{model_key}.train"


def eval_stage(model_key: str) -> str:
    """The evaluation stage of a model (`eval.zero_shot`, `eval.teacher`, ...)."""
    if model_key not in (*STUDENTS, "zero_shot", "teacher"):
        raise KeyError(f"no evaluation stage for {model_key!r}")
    return f"eval.{model_key}"


STAGES: tuple[Stage, ...] = (
    Stage(SETUP, "Setting up", "setup"),
    Stage(DATA, "Checking data", "setup"),
    Stage(REUSE, "Reusing finished stages from an earlier run", "setup"),
    Stage(eval_stage("zero_shot"), "Evaluating the zero-shot model", "zero_shot"),
    *(
        stage
        for key, what in STUDENTS.items()
        for stage in (
            Stage(train_stage(key), f"Training the {what} student", key, "step"),
            Stage(eval_stage(key), f"Evaluating the {what} student", key),
        )
    ),
    Stage(SAMPLE, "Sampling candidate pairs", "candidates", "pair"),
    Stage(SAMPLE_GIVEN, "Taking the given unlabeled pairs", "candidates", "pair"),
    Stage(SAMPLE_BM25, "BM25 search", "candidates", "sentence"),
    Stage(SAMPLE_ENCODE, "Encoding sentences", "candidates", "sentence"),
    Stage(SAMPLE_SEARCH, "Nearest-neighbour search", "candidates", "sentence"),
    Stage(SAMPLE_CHUNK, "Sampling candidate pairs, block by block", "candidates", "block"),
    Stage(MINE, "Mining hard negatives for the gold positives", "candidates", "pair"),
    Stage(TEACHER_WARM, "Warm-starting the teacher on the bi-encoder's similarities", "teacher_warm", "step"),
    Stage(TEACHER_SEARCH, "Searching the teacher's settings on dev", "teacher", "trial"),
    Stage(TEACHER_TRAIN, "Training the teacher", "teacher", "step"),
    Stage(eval_stage("teacher"), "Evaluating the teacher", "teacher"),
    Stage(ENSEMBLE, "Fitting the teacher ensemble on dev", "teacher"),
    Stage(GATE, "Readiness gate", "teacher"),
    Stage(AUGMENT, "Augmenting gold pairs", "silver", "pair"),
    Stage(LABEL, "Teacher labels silver pairs", "silver", "pair"),
    Stage(PROBE, "Choosing the silver labeler by short student probes on dev", "silver", "step"),
    Stage(STUDENT_TRAIN, "Training a student", None, "step"),
    Stage(LABEL_ERRORS, "Cross-fitting teachers to rank suspect gold labels", "label_errors", "fold"),
    Stage(LABEL_ERRORS_TRAIN, "Training a cross-fitted teacher", "label_errors", "step"),
    Stage(SPEED, "Timing every model on the same pairs", None, "model"),
    Stage(DONE, "Finished", "done"),
    Stage(TRACKING, "Logging the run to MLflow", "done"),
)

BY_NAME: dict[str, Stage] = {stage.name: stage for stage in STAGES}
STEP_KEYS: tuple[str, ...] = tuple(step.key for step in STEPS)


def title(stage: str | None) -> str:
    """A stage's title for people (its name when the table does not know it, e.g. from a newer version)."""
    known = BY_NAME.get(stage or "")
    return known.title if known else (stage or "")


def step_of(stage: str | None) -> str | None:
    """The step a stage belongs to, None for stages outside a run's steps or unknown to the table."""
    known = BY_NAME.get(stage or "")
    return known.step if known else None


def step_of_done(key: str) -> str | None:
    """The step a state.json `done` entry finishes."""
    return next((step.key for step in STEPS if key in step.done_keys), None)
