"""The config's value types: every choice's Literal and the tuple of its allowed values (what the CLI's choices
and the app's option lists are built from), the defaults each student kind brings, and the validated types
(numbers with ranges, on/off switches, epochs or auto, sampler mixes, loss names)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field

from .. import choices, registry
from .files import (  # noqa: F401 - re-exported: the config module read files before them
    MAX_CONFIG_BYTES,
    MAX_YAML_NODES,
    load_config_file,
    safe_yaml,
    unique_json_object,
)

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
LabelerChoice = Literal[tuple(choices.LABELERS)]  # choices.LabelerSpec; auto = chosen by student probes on dev
CandidateSource = Literal[tuple(choices.CANDIDATE_SOURCES)]  # auto = given pairs when the pool has pairs
# label_errors.predictor: the cross-fitted teacher alone, or stacked with the zero-shot bi-encoder's cosine
LabelErrorPredictor = Literal["teacher+zero_shot", "teacher"]
Tracking = Literal["none", "mlflow", "tensorboard", "wandb"]  # experiment tracking (docs/tracking.md)
Engine = Literal[tuple(choices.ENGINES)]  # where candidate search and labeling run (choices.EngineSpec)

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
AUTO_TEACHER = choices.AUTO  # teacher.model: chosen by device (models.default_teacher)
AUTO_EPOCHS = choices.AUTO  # student.epochs: trained until dev stops improving (training.dev_early_stopping)
STATIC_STUDENT = "static"  # student.model: a StaticEmbedding distilled from the offline MiniLM (models.py)
AUTO_SILVER = choices.AUTO  # max_silver: the student kind's budget (SILVER_BUDGET)
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
