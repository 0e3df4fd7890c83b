"""The config's sections: data files and columns, the student and the teacher (each role's own rules are its
type's), augmentation, the gate, label errors, mining, teacher search and the Ray engine."""

from __future__ import annotations

from dataclasses import field
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool
from pydantic.dataclasses import dataclass

from .. import registry
from .fields import (
    AUTO_EPOCHS,
    MAX_TOP_K,
    STATIC_STUDENT,
    AugmentMethod,
    AugmentSide,
    BatchSize,
    EpochsChoice,
    Float,
    Fraction,
    GateAction,
    LabelErrorPredictor,
    LearningRate,
    LossName,
    PositiveEpochs,
    PositiveFloat,
    PositiveInt,
    Share,
    Switch,
    Text,
    _number,
)
from .files import (  # noqa: F401 - re-exported: the config module read files before them
    MAX_CONFIG_BYTES,
    MAX_YAML_NODES,
    load_config_file,
    safe_yaml,
    unique_json_object,
)

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


DataRole = Literal["train", "dev", "test", "unlabeled", "source_train", "source_dev", "full_train"]


def role_column_map(data: dict[str, Any] | Any, role: str) -> dict[str, str] | None:
    """The column mapping a file of `role` is read with: `column_maps[role]`, else `column_map`, else None. Takes a
    DataConfig or its dict (a run's config.json)."""
    if not isinstance(data, dict):
        data = {"column_map": data.column_map, "column_maps": data.column_maps}
    own = (data.get("column_maps") or {}).get(role)
    return dict(own) if own else (dict(data.get("column_map") or {}) or None)


@dataclass(config=_STRICT)
class DataConfig:
    """Paths of the experiment's data files (relative paths resolve against the config file)."""

    train: Text | None = None  # gold (scenario 3: unused; the target has no training gold)
    dev: Text | None = None
    test: Text | None = None
    unlabeled: Text | None = None  # sentences or pairs (scenarios 2, 3)
    source_train: Text | None = None  # scenario 3: the teacher's source-domain gold
    source_dev: Text | None = None  # scenario 3: optional source dev set for the teacher
    column_map: dict[Text, Text] = field(default_factory=dict)  # {file column: canonical}, for every file
    # per file, by role ({unlabeled: {text: sentence}}): the mapping of that file, instead of column_map
    column_maps: dict[DataRole, dict[Text, Text]] = field(default_factory=dict)
    # score scale of the gold files, e.g. [0, 5]; detected when omitted
    scale: Annotated[list[Float], Field(min_length=2, max_length=2)] | None = None
    # score scale of the source-domain gold (scenario 3), e.g. [1, 5]; detected when omitted
    source_scale: Annotated[list[Float], Field(min_length=2, max_length=2)] | None = None
    max_unlabeled: PositiveInt | None = None  # cap on unlabeled sentences/pairs (subsampling with the seed)
    full_train: Text | None = None  # all available gold (a superset of train): the full-gold ceiling
    # reviewed gold labels (JSON: rows excluded or re-scored, see gold_review.py), applied to data.train on load
    gold_review: Text | None = None


@dataclass(config=_STRICT)
class ModelConfig:
    """A model to train: base model and hyperparameters."""

    model: Text = "default"  # "default" = offline all-MiniLM-L6-v2, or a hub name, or a local directory
    # a number, or (students only) auto: evaluate on dev each epoch, keep the best and stop after `patience`
    # evaluations without a gain, at most `max_epochs` (the default of every student: a tuned baseline, always)
    epochs: EpochsChoice = 1
    max_epochs: _number(int, ge=1, le=1000) = 10  # epochs: auto: the most it trains
    patience: _number(int, ge=1, le=100) = 2  # epochs: auto: dev evaluations without a gain before it stops
    # students only: keep the first N transformer layers of the base (a faster student); None = all of them
    layers: _number(int, ge=1, le=100) | None = None
    batch_size: BatchSize = 16
    learning_rate: LearningRate = 2e-5
    warmup_ratio: _number(float, ge=0, lt=1) = 0.1
    max_seq_length: _number(int, ge=8, le=8192) = 128
    # None = chosen by task (see student.py / teacher.py); the teacher takes bce or mse
    loss: LossName | None = None
    weight_decay: Share = 0.01
    trust_remote_code: StrictBool = False  # run custom model code from the hub: only for models you trust
    seed_trials: _number(int, ge=1, le=100) = 1  # seed optimisation: train
    # this many seeds for `seed_trial_fraction` of the run, finish the best on dev
    seed_trial_fraction: Fraction = 0.25  # share of the schedule each seed trial runs (the paper: 20-30% of an epoch)
    # teacher only: before gold, learn the bi-encoder's cosine on the candidate pairs (no extra labels).
    # auto = on when the base is a bi-encoder checkpoint whose cross-encoder head is fresh (the offline default)
    warm_start: Switch = "auto"
    warm_start_epochs: PositiveEpochs = 1
    warm_start_learning_rate: LearningRate = 1e-4
    # BM25 neighbours per candidate sentence added to the warm-start pairs (unlabeled, never silver): pairs that
    # span the similarity range teach the head more than related pairs alone. 0 = the candidates only
    warm_start_top_k: _number(int, ge=0, le=MAX_TOP_K) = 1


class _RoleRule(ValueError):
    """A role config's rule on one of its own keys: reported as `<role>.<key>: <why>` (see _explain)."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"{key}: {why}")


def _check_loss_role(model: ModelConfig, role: str) -> None:
    if model.loss is not None and registry.loss(model.loss).role != role:
        allowed = ", ".join(registry.losses_for(role))
        raise _RoleRule("loss", f"{model.loss!r} is not a {role} loss; choose one of {allowed}")


@dataclass(config=_STRICT)
class StudentConfig(ModelConfig):
    """The bi-encoder student: any sentence-transformers base, `static` or cut to its first `layers`; trained a
    number of epochs or (auto) early-stopped on dev; a student loss. The warm-start keys are the teacher's."""

    def __post_init__(self) -> None:
        if self.epochs == 0:
            raise _RoleRule(
                "epochs",
                "must be positive, got 0 (only teacher.epochs may be 0: a ready-trained cross-encoder used as it is)",
            )
        if self.layers is not None and self.model == STATIC_STUDENT:
            raise _RoleRule("layers", "the static student has no transformer layers to cut")
        _check_loss_role(self, "student")


@dataclass(config=_STRICT)
class TeacherConfig(ModelConfig):
    """The cross-encoder teacher: a number of epochs (0 = a ready cross-encoder used as it is; no auto: its
    schedule is chosen on dev by teacher_search), all its layers, a teacher loss, an optional warm start."""

    def __post_init__(self) -> None:
        if self.epochs == AUTO_EPOCHS:
            raise _RoleRule(
                "epochs",
                "auto is for students (early stopping on dev); give the teacher a number of epochs, "
                "or choose them on dev with teacher_search",
            )
        if self.layers is not None:
            raise _RoleRule("layers", "cutting layers is for students (a faster bi-encoder); leave it unset")
        _check_loss_role(self, "teacher")


@dataclass(config=_STRICT)
class AugmentSettings:
    """Scenario 1: word-level augmentation of gold pairs (augment.augment_pairs takes it as it is)."""

    method: AugmentMethod = "wordnet"
    copies: _number(int, ge=0, le=100) = 1  # augmented copies per gold pair (0 = none)
    aug_p: _number(float, gt=0, le=1) = 0.15  # share of words changed
    model: Text | None = None  # masked LM (hub name or local dir): required by the contextual methods
    side: AugmentSide = "sentence1"  # which sentence(s) are augmented


@dataclass(config=_STRICT)
class GateConfig:
    """Teacher-readiness gate: what to do when the teacher does not beat the student on dev."""

    action: GateAction = "warn"
    # teacher must beat the student by this much (metric units, e.g. 0.01 = 1 point)
    margin: _number(float, ge=-1, le=1) = 0.0


@dataclass(config=_STRICT)
class LabelErrorsConfig:
    """Suspect gold labels (label_errors.py): teachers cross-fitted on the gold train pairs rank each pair by how far
    its label is from the prediction of a teacher that never saw it (scenarios 1 and 2)."""

    enabled: StrictBool = False
    folds: _number(int, ge=2, le=20) = 5
    epochs: PositiveEpochs | None = None  # epochs of each fold's teacher; None = teacher.epochs (1 when it is 0)
    # before the folds, one warm start on the zero-shot cosine of the gold pairs and their BM25 neighbours (no
    # labels). auto = as the teacher's
    warm_start: Switch = "auto"
    # the out-of-fold prediction a label is compared with: the teacher's, or (default) the teacher's stacked with
    # the zero-shot bi-encoder's cosine by a linear fit on the other folds (measured in docs/label-errors.md)
    predictor: LabelErrorPredictor = "teacher+zero_shot"


@dataclass(config=_STRICT)
class MiningConfig:
    """task positive_pairs: hard negatives mined from the pool (unlabeled + gold sentences) by the zero-shot
    bi-encoder with sentence-transformers' mine_hard_negatives, filtered against false negatives (mining.py)."""

    num_negatives: _number(int, ge=1, le=100) = 3  # mined negatives per anchor for the teacher (as many again
    # are held out for the teacher to check)
    range_min: _number(int, ge=0, le=MAX_TOP_K) = 2  # skip the nearest few (likely unlabeled positives)
    range_max: _number(int, ge=1, le=MAX_TOP_K) | None = None  # deepest rank considered; None = chosen by the library
    relative_margin: _number(float, ge=0, lt=1) | None = 0.05  # a negative's cosine at most 95% of the positive's
    max_score: _number(float, ge=-1, le=1) | None = 0.9  # no negative above this cosine to the anchor


@dataclass(config=_STRICT)
class TeacherSearchConfig:
    """Teacher hyperparameter selection on dev: every (learning rate, epochs) pair that fits the time budget."""

    # empty (and epochs empty) = no search
    learning_rates: Annotated[list[LearningRate], Field(max_length=20)] = field(default_factory=list)
    epochs: Annotated[list[PositiveEpochs], Field(max_length=20)] = field(default_factory=list)
    budget_minutes: PositiveFloat = 30.0  # trials whose estimated time no longer fits are skipped (the first runs)

    @property
    def enabled(self) -> bool:
        return bool(self.learning_rates or self.epochs)


@dataclass(config=_STRICT)
class RayConfig:
    """engine: ray: the cluster that runs candidate search and teacher labeling (ray_engine.py)."""

    address: Text | None = None  # a cluster address (ray://host:10001 or host:6379); None = $RAY_ADDRESS, else local
    workers: PositiveInt | None = None  # labeling actors; None = one per CPU of the cluster (per GPU with GPUs)
    gpus_per_worker: _number(float, ge=0, le=8) = 0.0  # > 0: GPU actors (e.g. 1 = one actor per GPU)
    shard_size: _number(int, ge=256, le=1_000_000) = 8192  # ordered pairs per Parquet shard (the unit of resume)
