"""Typed experiment configs, loaded from YAML or JSON: one schema for every key's type, default and range.

The key names here are a public contract (the app, scripts and benchmarks write them): extend, never rename.
The classes are pydantic dataclasses: constructing one (from a file, `--set`, the Python API or the app's
Scenario page) checks every value, so a config that exists is a config of the right types and ranges.
`ExperimentConfig.validate` adds the rules that span keys (what each scenario needs). `json_schema()` is the
JSON Schema for editors (`augsbert config-schema`).
"""

from __future__ import annotations

import difflib
import importlib.util
import math
from dataclasses import asdict, field, fields, is_dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
)
from pydantic.dataclasses import dataclass

from . import registry
from .config_files import (  # noqa: F401 - re-exported: the config module read files before them
    MAX_CONFIG_BYTES,
    MAX_YAML_NODES,
    load_config_file,
    safe_yaml,
    unique_json_object,
)
from .errors import ConfigError

# The choices of the config, each written once as a Literal; the tuples of allowed values are derived from them
# and are what the CLI's choices, the app's option lists and its help dictionaries are built from.
Scenario = Literal[registry.SCENARIO_NUMBERS]  # registry.ScenarioSpec: what each reads and makes
# positive_pairs: gold of positive pairs only (every label 1, or anchor/positive columns): negatives are mined
Task = Literal["regression", "classification", "positive_pairs"]
Sampler = str  # a registered sampler's name (registry.py: random, bm25, semantic, bm25+semantic, kde, ...)
StudentLoss = str  # a registered student loss (registry.py: cosent, cosine, angle, online_contrastive, ...)
TeacherLoss = str  # a registered teacher loss (registry.py: bce, mse)
AugmentMethod = Literal["wordnet", "contextual-substitute", "contextual-insert"]
AugmentSide = Literal["sentence1", "sentence2", "both"]
GateAction = Literal["warn", "stop", "proceed"]
SwitchValue = Literal["auto", "on", "off"]  # ensemble, teacher.warm_start
LabelerChoice = Literal["auto", "cross_encoder", "ensemble"]  # auto = chosen by short student probes on dev
CandidateSource = Literal["auto", "given", "sampled", "given+sampled"]  # auto = given pairs when the pool has pairs
# label_errors.predictor: the cross-fitted teacher alone, or stacked with the zero-shot bi-encoder's cosine
LabelErrorPredictor = Literal["teacher+zero_shot", "teacher"]
Tracking = Literal["none", "mlflow", "tensorboard", "wandb"]  # experiment tracking (docs/tracking.md)
Engine = Literal["local", "ray"]  # where candidate search and labeling run (ray: augsbert_core/ray_engine.py)

SCENARIOS: tuple[int, ...] = get_args(Scenario)
TASKS: tuple[str, ...] = get_args(Task)
# The registered samplers, read live from registry.py (a sampler registered later is in them). KDE selects among
# labeled pairs: it needs labels, so `augsbert sample`/`silver` omit it, and it holds no share of a mix.
SAMPLERS = registry.SAMPLERS
SENTENCE_SAMPLERS = registry.SENTENCE_SAMPLERS
MIX_SAMPLERS = registry.MIX_SAMPLERS
MIX_TOLERANCE = 1e-6  # the shares of a mix sum to 1 within this
STUDENT_LOSSES = registry.losses_for("student")  # live: a loss registered later is in them
TEACHER_LOSSES = registry.losses_for("teacher")
AUGMENT_METHODS: tuple[str, ...] = get_args(AugmentMethod)
AUGMENT_SIDES: tuple[str, ...] = get_args(AugmentSide)
GATE_ACTIONS: tuple[str, ...] = get_args(GateAction)
SWITCH_VALUES: tuple[str, ...] = get_args(SwitchValue)
LABELERS: tuple[str, ...] = get_args(LabelerChoice)
CANDIDATE_SOURCES: tuple[str, ...] = get_args(CandidateSource)
LABEL_ERROR_PREDICTORS: tuple[str, ...] = get_args(LabelErrorPredictor)
TRACKERS: tuple[str, ...] = get_args(Tracking)
ENGINES: tuple[str, ...] = get_args(Engine)
ENSEMBLE_MODES = WARM_START_MODES = SWITCH_VALUES
AUTO_TEACHER = "auto"  # teacher.model: chosen by device (models.default_teacher)
AUTO_EPOCHS = "auto"  # student.epochs: trained until dev stops improving (early stopping, training.dev_early_stopping)
STATIC_STUDENT = "static"  # student.model: a StaticEmbedding distilled from the offline MiniLM (models.py)
AUTO_SILVER = "auto"  # max_silver: the student kind's budget (SILVER_BUDGET)
#: Silver pairs a student kind learns from by default (`max_silver: auto`), read off its silver-volume curve on dev
#: (experiments/silver_volume.py, docs/results.md): a static student keeps gaining on dev up to tens of thousands of
#: pairs, so its candidates are the given pairs topped up with sampled ones up to this budget. A kind not listed
#: labels its candidates as they are, uncapped (a MiniLM student: its gain from the given pairs is within noise, and
#: on CPU each extra pair costs it ~50x what it costs a static student).
SILVER_BUDGET: dict[str, int] = {STATIC_STUDENT: 20_000}
# its batch and learning rate unless given. A static step costs the dense update of the whole table (~7.8M values)
# whatever the batch, so batch 64 trains an epoch 4.3-4.9x faster than batch 16 (bench/static_batch.py); at batch 64
# dev chose 4e-3 among 2e-3, 4e-3, 8e-3 (within 0.25 dev points of each training set's best; gold-only, AugSBERT and
# full gold within 0.2 dev of batch 16 at its 2e-3, STSb-1k seed 42, docs/results.md). At batch 16, 2e-3 had beaten
# 5e-3 on the silver-volume curve; a static table needs ~100x a transformer's rate.
STATIC_BATCH_SIZE = 64
STATIC_LEARNING_RATE = 4.0e-3
# a cut transformer's (student.layers) learning rate unless given: dev chose 1e-4 over 5e-5 for the 2-layer MiniLM on
# gold only (+0.4 dev), gold + silver (+0.6) and full gold (+0.5), STSb-1k seed 42 (docs/results.md); the full
# 6-layer student keeps 2e-5
LAYERS_LEARNING_RATE = 1.0e-4
DEVICE_PATTERN = r"^(auto|cpu|mps|cuda(:[0-9]+)?)$"
MAX_TOP_K = 1_000  # neighbours per sentence; more is a typo or a memory blow-up (pairs = sentences x top_k)


def _not_bool(value: Any) -> Any:
    """YAML and JSON booleans are ints to Python: a number key must not take `true`."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")  # noqa: TRY004 (pydantic reports ValueError)
    return value


def _on_off(value: Any) -> Any:
    """YAML 1.1 reads a bare on/off/yes/no as a boolean: for the auto/on/off switches that means on/off."""
    return ("on" if value else "off") if isinstance(value, bool) else value


def _whole_as_int(value: float) -> float | int:
    """Epochs of 2.0 are written back as 2: configs, tables and the app show whole epochs as whole numbers."""
    return int(value) if float(value).is_integer() else value


def _number(kind: type, *, whole: bool = False, **limits: Any) -> Any:
    """A number key of the schema: `kind` with its range (pydantic Field limits), never a boolean, never
    inf/nan; `whole=True` writes 2.0 back as 2."""
    if kind is float:
        limits["allow_inf_nan"] = False
    after = (AfterValidator(_whole_as_int),) if whole else ()
    return Annotated[(kind, Field(**limits), BeforeValidator(_not_bool), *after)]  # a tuple: Python 3.10 too


Float = _number(float)
PositiveInt = _number(int, ge=1)
PositiveFloat = _number(float, gt=0)
Fraction = _number(float, gt=0, lt=1)  # strictly between 0 and 1
Share = _number(float, ge=0, le=1)  # 0..1 inclusive
Epochs = _number(float, whole=True, ge=0, le=1000)
PositiveEpochs = _number(float, whole=True, gt=0, le=1000)
LearningRate = _number(float, gt=0, le=1)
BatchSize = _number(int, ge=1, le=65_536)
TopK = _number(int, ge=1, le=MAX_TOP_K)
Switch = Annotated[SwitchValue, BeforeValidator(_on_off)]


def _epochs_or_auto(value: Any) -> Any:
    """`epochs`: a number from 0 to 1000 (2.0 written back as 2), or 'auto' (early stopping on dev)."""
    if isinstance(value, str) and value.strip() == AUTO_EPOCHS:
        return AUTO_EPOCHS
    if isinstance(value, bool):
        raise ValueError("expected a number of epochs or 'auto', not a boolean")  # noqa: TRY004 (pydantic reports ValueError)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("expected a number of epochs or 'auto'") from None
    if not (math.isfinite(number) and 0 <= number <= 1000):
        raise ValueError("epochs must be from 0 to 1000, or 'auto'")
    return int(number) if number.is_integer() else number


EpochsChoice = Annotated[int | float | Literal["auto"], BeforeValidator(_epochs_or_auto)]


def _cap_or_auto(value: Any) -> Any:
    """`max_silver`: a whole number of pairs from 1, 'auto' (the student kind's budget) or null (no cap)."""
    if value is None or (isinstance(value, str) and value.strip() == AUTO_SILVER):
        return None if value is None else AUTO_SILVER
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        raise ValueError("expected a whole number of pairs, 'auto' or null")
    if value < 1:
        raise ValueError("must be at least 1 pair (or 'auto', or null for no cap)")
    return int(value)


SilverCap = Annotated[int | Literal["auto"] | None, BeforeValidator(_cap_or_auto)]


def _sampler_choice(value: Any) -> Any:
    """`sampler`: a sampler's name, or a mix {name: share} of samplers from MIX_SAMPLERS whose shares are in (0, 1]
    and sum to 1 (within MIX_TOLERANCE) and whose base searches differ (bm25 and bm25+semantic both run bm25).
    The mapping's order is its priority: a pair two samplers find counts for the earlier one. A one-entry mix is
    its sampler's name."""
    if isinstance(value, str):
        if value.strip() not in SAMPLERS:
            raise ValueError(
                f"input should be {', '.join(map(repr, SAMPLERS[:-1]))} or {SAMPLERS[-1]!r}, or a mix of samplers "
                "with shares, e.g. {bm25: 0.7, random: 0.3}"
            )
        return value.strip()
    if not isinstance(value, dict):
        raise ValueError("expected a sampler's name or a mix of samplers with shares, e.g. {bm25: 0.7, random: 0.3}")  # noqa: TRY004 (pydantic reports ValueError)
    if not value:
        raise ValueError("a sampler mix needs at least one entry, e.g. {bm25: 0.7, random: 0.3}")
    mix: dict[str, float] = {}
    for name, share in value.items():
        if name not in SAMPLERS:
            raise ValueError(f"unknown sampler {name!r} in the mix; choose from {', '.join(MIX_SAMPLERS)}")
        if name not in MIX_SAMPLERS and len(value) > 1:
            raise ValueError(
                f"{name!r} cannot be part of a mix: it selects among labeled pairs after labeling; use it alone "
                f"(sampler: {name})"
            )
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
            raise ValueError(f"the share of {name!r} must be a number above 0 and at most 1, got {share!r}")
        mix[str(name)] = float(share)
    total = sum(mix.values())
    if abs(total - 1) > MIX_TOLERANCE:
        raise ValueError(f"the shares of a sampler mix must sum to 1, got {total:g} (write 70% as 0.7)")
    searches = [(name, part) for name in mix for part in registry.sampler(name).searches]
    for i, (name, part) in enumerate(searches):
        other = next((n for n, p in searches[:i] if p == part and n != name), None)
        if other is not None:
            raise ValueError(f"{other!r} and {name!r} both run the {part} search; mix samplers with different searches")
    return next(iter(mix)) if len(mix) == 1 else mix


SamplerChoice = Annotated[str | dict[str, float], BeforeValidator(_sampler_choice)]


def _loss_name(value: Any) -> Any:
    """`student.loss` / `teacher.loss`: a registered loss's name (its role and task are checked by `validate`)."""
    if isinstance(value, str) and value.strip() not in registry.LOSSES:
        raise ValueError(f"input should be one of {', '.join(map(repr, registry.LOSSES))}")
    return value.strip() if isinstance(value, str) else value


LossName = Annotated[str, BeforeValidator(_loss_name)]


def sampler_label(sampler: str | dict[str, float]) -> str:
    """A sampler choice as runs, tables and charts name it: 'bm25', or 'mix(bm25 70%, random 30%)' for a mix."""
    if isinstance(sampler, str):
        return sampler
    shares = sampler_shares(sampler)
    return "mix(" + ", ".join(f"{name} {round(100 * share, 1):g}%" for name, share in shares.items()) + ")"


def sampler_shares(sampler: str | dict[str, float]) -> dict[str, float]:
    """{sampler: share} summing to exactly 1, in priority order: {name: 1.0} for a single sampler."""
    if isinstance(sampler, str):
        return {sampler: 1.0}
    total = sum(sampler.values())
    return {name: share / total for name, share in sampler.items()}


Text = Annotated[str, Field(min_length=1, max_length=4096)]
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


def role_config(role: str, **values: Any) -> StudentConfig | TeacherConfig:
    """The `student` or `teacher` config from keyword values (e.g. `augsbert train --role`); ConfigError names
    the bad key as `<role>.<key>`."""
    kind = TeacherConfig if role == "teacher" else StudentConfig
    try:
        return kind(**values)
    except ValidationError as exc:
        lines = [_explain({**e, "loc": (role, *e["loc"])}) for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None


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


@dataclass(config=_STRICT)
class ExperimentConfig:
    """One AugSBERT experiment. `from_file` / `from_dict` validate; `to_dict` round-trips."""

    name: Annotated[str, Field(min_length=1, max_length=200)] = "experiment"
    scenario: Scenario = 2
    task: Task | None = None  # detected from the gold data when omitted
    data: DataConfig = field(default_factory=DataConfig)
    sampler: SamplerChoice = "bm25"  # a name, or a mix {name: share} (see _sampler_choice)
    top_k: TopK = 3
    student: StudentConfig = field(default_factory=lambda: StudentConfig(epochs=AUTO_EPOCHS))  # early-stopped on dev
    # the teacher: warm-started (auto) then 2 epochs on gold at 2e-5, the demo's measured recipe (docs/results.md)
    teacher: TeacherConfig = field(
        default_factory=lambda: TeacherConfig(model=AUTO_TEACHER, epochs=2, learning_rate=2e-5)
    )
    augment: AugmentSettings = field(default_factory=AugmentSettings)
    gate: GateConfig = field(default_factory=GateConfig)
    teacher_search: TeacherSearchConfig = field(default_factory=TeacherSearchConfig)
    label_errors: LabelErrorsConfig = field(default_factory=LabelErrorsConfig)
    mining: MiningConfig = field(default_factory=MiningConfig)  # task positive_pairs: hard-negative mining
    # teacher ensemble (scenario 2): cross-encoder score + gold-only bi-encoder cosine, z-scored, weighted and
    # calibrated on dev. auto = label with it when it beats both members on dev; on = always; off = never
    ensemble: Switch = "auto"
    # which scores become silver labels: the cross-encoder, the ensemble, or (auto) the one whose labels teach a
    # student most in a short probe on dev (see probe.py)
    labeler: LabelerChoice = "auto"
    # candidate pairs in scenarios 2 and 3: the unlabeled file's pairs as they are, pairs sampled from its
    # sentences, or both. auto = given pairs when the unlabeled file has pairs, else sampled
    candidates: CandidateSource = "auto"
    seed: _number(int, ge=0, lt=2**32) = 42
    device: Annotated[str, Field(pattern=DEVICE_PATTERN)] | None = None  # None or auto = cuda, mps, cpu
    # scenario 3 classification threshold; None = chosen on target dev or 0.5
    threshold: Share | None = None
    # cap on silver pairs (a random subsample with the seed, drawn before labeling); auto = the student kind's budget
    # (SILVER_BUDGET: a static student 20,000, given pairs topped up with sampled ones), null = no cap
    max_silver: SilverCap = AUTO_SILVER
    train_gold_only: StrictBool = True  # also train the gold-only student baseline (scenarios 1, 2)
    train_full_gold: StrictBool = False  # also train the student on data.full_train: the ceiling AugSBERT aims at
    label_batch_size: BatchSize = 64
    live_evals: _number(int, ge=0, le=1000) = 4  # dev evaluations during
    # each training (the app's metric curve); 0 = none
    checkpoints: _number(int, ge=0, le=1000) = 4  # trainer checkpoints per
    # training (newest kept) so a killed job can resume; 0 = none
    hnsw_threshold: PositiveInt = 50_000  # semantic sampler: exact faiss search up to this many sentences, HNSW above
    # sentences per search block of the samplers: the unit the ray engine sends out as one task; both engines use it,
    # so the same config gives the same candidates on either. None = the whole pool as one block (as before the key)
    sample_block_size: _number(int, ge=64, le=10_000_000) | None = None
    # bm25 sampler: None = exact all-vs-all BM25 (quadratic on pools with very common terms); T = candidates only from
    # terms in at most T sentences, rescored exactly (bm25.SparseBM25.topk; recall and speed in BENCHMARKS.md)
    bm25_max_df: PositiveInt | None = None
    # where candidate search and teacher labeling run: here (local) or on a Ray cluster (ray; pip install .[ray])
    engine: Engine = "local"
    ray: RayConfig = field(default_factory=RayConfig)
    silver_file: Text | None = None  # ready silver pairs (sentence1, sentence2, label): skips teacher and labeling
    label_cache: StrictBool = True  # remember teacher scores per (teacher weights, pair): relabeling is free
    reuse_from: Text | None = None  # a finished run (id or directory) whose zero-shot/gold-only/teacher stages
    # are reused
    runs_dir: Text | None = None  # run store root; None = $AUGSBERT_HOME/runs or ./runs
    # experiment tracking: none | mlflow (each finished run logged as one MLflow run, tracking.py) | tensorboard (logs
    # in the run directory) | wandb (passed to the trainers); nothing is sent anywhere unless chosen
    tracking: Tracking = "none"
    tracking_experiment: Text | None = None  # the MLflow experiment; None = augsbert
    tracking_log_model: StrictBool = False  # mlflow: also log the recommended student model (~90 MB for MiniLM)
    base_dir: Text | None = None  # where relative data paths resolve (set by from_file)

    # --- loading -------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: Any, base_dir: str | Path | None = None, *, rules: bool = True) -> ExperimentConfig:
        """Check `raw` against the schema and (unless `rules=False`, e.g. for an estimate of settings without data
        files yet) the cross-key rules; ConfigError names every bad key."""
        if not isinstance(raw, dict):
            raise ConfigError(f"a config must be a mapping of keys to values, got {type(raw).__name__}")
        raw = _normalise(raw)
        try:
            cfg = _ADAPTER.validate_python(raw)
        except ValidationError as exc:
            raise ConfigError("\n".join(_explain(error) for error in exc.errors())) from None
        if base_dir is not None and cfg.base_dir is None:
            cfg.base_dir = str(base_dir)
        if rules:
            cfg.validate()
        return cfg

    @classmethod
    def from_file(cls, path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
        """Load YAML/JSON; `overrides` are 'dotted.key=value' strings (values parsed as YAML)."""
        raw = load_config_file(path)
        for item in overrides or []:
            _apply_override(raw, item)
        return cls.from_dict(raw, base_dir=Path(path).resolve().parent)

    @property
    def scenario_spec(self) -> registry.ScenarioSpec:
        """What the scenario reads and makes (registry.ScenarioSpec): ask it, never the number."""
        return registry.scenario(self.scenario)

    @property
    def method_label(self) -> str:
        """What produced the extra training pairs: the sampler, or 'augment:<method>' in scenario 1."""
        return f"augment:{self.augment.method}" if self.scenario_spec.augments else self.sampler_label

    @property
    def sampler_label(self) -> str:
        """The sampler as runs and tables name it: its name, or 'mix(bm25 70%, random 30%)' for a mix."""
        return sampler_label(self.sampler)

    @property
    def sampler_shares(self) -> dict[str, float]:
        """{sampler: share} summing to 1 in priority order; {name: 1.0} for a single sampler."""
        return sampler_shares(self.sampler)

    @property
    def sampler_spec(self) -> registry.SamplerSpec:
        """The spec whose `select`, `label_factor` and estimate terms apply: the sampler's, or a mix's first (the
        samplers of a mix never select after labeling)."""
        return registry.sampler(next(iter(self.sampler_shares)))

    @property
    def sampler_mixed(self) -> bool:
        """Whether `sampler` is a mix of two or more samplers."""
        return isinstance(self.sampler, dict)

    @property
    def silver_cap(self) -> int | None:
        """`max_silver` resolved: a number as given, auto = the student kind's budget (None when it has none)."""
        if self.max_silver == AUTO_SILVER:
            return SILVER_BUDGET.get(student_kind(self.student)) if self.scenario_spec.labels else None
        return self.max_silver

    def candidate_source(self, pool_has_pairs: bool) -> str:
        """`candidates` resolved for an unlabeled file with or without pairs: auto = its pairs as they are (topped up
        with sampled pairs when the student kind has a silver budget, `max_silver: auto`), sampled without pairs."""
        if self.candidates != "auto":
            return self.candidates
        if not pool_has_pairs:
            return "sampled"
        return "given+sampled" if self.max_silver == AUTO_SILVER and self.silver_cap else "given"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def resolve_path(self, value: str | None) -> Path | None:
        """A data path from the config, made absolute against the config's directory."""
        if value is None:
            return None
        p = Path(value).expanduser()
        if not p.is_absolute() and self.base_dir:
            p = Path(self.base_dir) / p
        return p

    def validate(self) -> None:
        """Raise ConfigError naming the first rule across keys that cannot work (types and ranges are the
        schema's job)."""
        if self.engine == "ray" and importlib.util.find_spec("ray") is None:
            raise ConfigError(
                "engine: 'ray' needs Ray, which is not installed: pip install 'augsbert-studio[ray]' "
                "(or pip install 'ray[data]'), or use engine: local"
            )
        # each role's own rules (epochs auto or 0, layers, the loss's role): its type's, StudentConfig / TeacherConfig
        loss, task = self.student.loss, self.task
        if loss is not None and task is not None and task not in registry.loss(loss).tasks:
            fits = registry.losses_for("student", task)
            raise ConfigError(f"student.loss: {loss!r} does not fit a {task} task; choose one of {', '.join(fits)}")
        for key in ("scale", "source_scale"):
            scale = getattr(self.data, key)
            if scale is not None and not math.isfinite(scale[1] - scale[0]):  # 1e308 - (-1e308) overflows
                raise ConfigError(f"data.{key}: the span must be a finite number, got {list(scale)!r}")
            if scale is not None and not scale[0] < scale[1]:
                raise ConfigError(f"data.{key}: the low end must be below the high end, got {list(scale)!r}")
        if self.train_full_gold and self.data.full_train is None and self.scenario_spec.gold_train:
            raise ConfigError("train_full_gold needs data.full_train: every gold pair available, the ceiling's data")
        ts = self.teacher_search
        source = self.scenario_spec.source_domain
        if ts.enabled and (self.data.dev if not source else (self.data.source_dev or self.data.dev)) is None:
            raise ConfigError("teacher_search needs a dev split to choose on (data.dev; scenario 3: data.source_dev)")
        d = self.data
        if d.test is None:
            raise ConfigError("data.test is required: every experiment is evaluated on a test split")
        if self.scenario_spec.gold_train and d.train is None:
            raise ConfigError(f"data.train (gold pairs) is required for scenario {self.scenario}")
        if self.scenario_spec.source_domain:
            if d.source_train is None:
                raise ConfigError("scenario 3 needs data.source_train: the teacher's source-domain gold")
            if d.unlabeled is None:
                raise ConfigError("scenario 3 needs data.unlabeled: target-domain pairs or sentences")
        missing = tracking_missing(self.tracking)
        if missing:
            raise ConfigError(f"tracking: {self.tracking} needs packages that are not installed: {missing}")
        if self.task == "positive_pairs":
            _check_positive_pairs(self)
        if self.silver_file is not None and self.scenario_spec.augments:
            raise ConfigError("silver_file applies to scenarios 2 and 3 (scenario 1 augments gold instead)")


_ADAPTER = TypeAdapter(ExperimentConfig)


def student_kind(student: ModelConfig) -> str:
    """What kind of student a config trains: 'static', 'layers' (a cut transformer) or 'transformer'."""
    if student.model == STATIC_STUDENT:
        return STATIC_STUDENT
    return "layers" if student.layers is not None else "transformer"


def _check_positive_pairs(cfg: ExperimentConfig) -> None:
    """The rules of task positive_pairs (gold of positives only; see mining.py): scenario 2, a teacher trained
    on the mined negatives, no ready silver file."""
    spec = cfg.scenario_spec
    if not spec.gold_and_silver:  # gold positives to mine for, and a teacher to check them
        raise ConfigError(
            f"task: positive_pairs needs scenario 2 (gold positives + an unlabeled pool), got scenario {cfg.scenario}"
        )
    if cfg.silver_file is not None:
        raise ConfigError("silver_file: not used with task positive_pairs (silver comes from mined negatives)")
    if cfg.teacher_search.enabled:
        raise ConfigError("teacher_search: not available with task positive_pairs (no labeled dev to choose on)")
    m = cfg.mining
    if m.range_max is not None and m.range_max - m.range_min < 2 * m.num_negatives:
        raise ConfigError(
            f"mining.range_max: {m.range_max} leaves fewer than 2 x num_negatives ({2 * m.num_negatives}) ranks "
            f"after range_min {m.range_min}"
        )


# What each tracking choice needs installed (any one module of a tuple will do) and the pip command that adds it
_TRACKING_NEEDS: dict[str, tuple[tuple[tuple[str, ...], ...], str]] = {
    "mlflow": (
        (("mlflow",), ("sqlalchemy",), ("alembic",)),
        "pip install 'mlflow-skinny>=3.0' 'sqlalchemy>=2' 'alembic>=1.13' (the extra: pip install -e '.[tracking]')",
    ),
    "tensorboard": ((("tensorboard", "tensorboardX"),), "pip install tensorboard"),
    "wandb": ((("wandb",),), "pip install wandb (then `wandb login`, or WANDB_MODE=offline)"),
}


def tracking_missing(choice: str) -> str | None:
    """The pip command that installs what the `tracking` choice needs, or None when it is there (or not needed)."""
    needs = _TRACKING_NEEDS.get(choice)
    if needs is None:
        return None
    for alternatives in needs[0]:
        if not any(importlib.util.find_spec(name) is not None for name in alternatives):
            return needs[1]
    return None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a config file (for editors; docs/config.md is checked against it), with the samplers
    registered now as the enum of `sampler` and each role's registered losses as the enum of its `loss`."""
    schema = _ADAPTER.json_schema()
    name, mix = schema["properties"]["sampler"]["anyOf"]
    name["enum"] = list(SAMPLERS)
    mix["propertyNames"] = {"enum": list(SAMPLERS)}  # a one-entry mix is its sampler
    for role, kind in (("student", "StudentConfig"), ("teacher", "TeacherConfig")):  # each role's own losses
        schema["$defs"][kind]["properties"]["loss"]["anyOf"][0]["enum"] = list(registry.losses_for(role))
    return schema


def _apply_override(raw: dict[str, Any], item: str) -> None:
    if "=" not in item:
        raise ConfigError(f"an override needs KEY=VALUE, got {item!r}")
    dotted, value = item.split("=", 1)
    *parents, last = dotted.strip().split(".")
    node = raw
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {dotted!r}: {key!r} is not a mapping")
    try:
        node[last] = safe_yaml(value, f"--set {dotted}")
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {dotted}: {value!r} is not a YAML value: {' '.join(str(exc).split())}") from None


# --- checking against the schema -----------------------------------------------------------------------------


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Shorthands before the schema: `student: NAME` means {model: NAME}; a teacher without `model` is auto."""
    raw = dict(raw)
    for role in ("student", "teacher"):
        value = raw.get(role)
        if isinstance(value, str):
            raw[role] = {"model": value}
        elif value is None and role in raw:
            del raw[role]
    student = raw.get("student")
    if isinstance(student, dict):  # a student is early-stopped unless told; fast kinds have their own rates
        defaults = {"epochs": AUTO_EPOCHS}
        if student.get("model") == STATIC_STUDENT:
            defaults.update(learning_rate=STATIC_LEARNING_RATE, batch_size=STATIC_BATCH_SIZE)
        elif student.get("layers") is not None:
            defaults["learning_rate"] = LAYERS_LEARNING_RATE
        raw["student"] = {**defaults, **student}
    if isinstance(raw.get("teacher"), dict) and "model" not in raw["teacher"]:
        raw["teacher"] = {"model": AUTO_TEACHER, **raw["teacher"]}
    for key in ("data", "augment", "gate", "teacher_search", "label_errors", "mining"):
        if key in raw and raw[key] is None:
            del raw[key]
    return raw


def _explain(error: dict[str, Any]) -> str:
    """One line for one schema error: the dotted key, the bad value and what is expected."""
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc) or "(config)"
    value = error.get("input")
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    if len(shown) > 80:
        shown = shown[:77] + "..."
    if error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f"; did you mean '{'.'.join(loc[:-1] + close)}'?" if close else f" (known: {', '.join(known)})"
        return f"unknown config key '{key}'{hint}"
    message = error["msg"].removeprefix("Value error, ")
    rule = (error.get("ctx") or {}).get("error")
    if isinstance(rule, _RoleRule):  # a role's rule on its own key: `teacher.epochs: auto is for students ...`
        return f"{key}.{message}"
    message = message[:1].lower() + message[1:]
    return f"config key '{key}': {message}; got {shown}"


def _known_keys(path: list[str]) -> list[str]:
    cls: Any = ExperimentConfig
    for part in path:
        cls = _dataclass_in(cls, part)
        if cls is None:
            return []
    return sorted(f.name for f in fields(cls))


def _dataclass_in(cls: Any, name: str) -> Any:
    """The config class of the nested key `name` of `cls` (None for a plain value)."""
    info = getattr(cls, "__pydantic_fields__", {}).get(name)
    hint = info.annotation if info is not None else None
    return next((c for c in (hint, *get_args(hint)) if is_dataclass(c)), None)
