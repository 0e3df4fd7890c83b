"""`ExperimentConfig`: the whole experiment, its rules across keys (`validate`), its `auto` resolutions, and loading
it from a file, a dict or `--set` overrides with errors that name the key."""

from __future__ import annotations

import difflib
import importlib.util
import math
from dataclasses import asdict, field, fields, is_dataclass
from pathlib import Path
from typing import Annotated, Any, get_args

import yaml
from pydantic import Field, StrictBool, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from .. import choices, registry
from ..errors import ConfigError
from .fields import (
    AUTO_EPOCHS,
    AUTO_SILVER,
    AUTO_TEACHER,
    DEVICE_PATTERN,
    LAYERS_LEARNING_RATE,
    SAMPLERS,
    SILVER_BUDGET,
    STATIC_BATCH_SIZE,
    STATIC_LEARNING_RATE,
    STATIC_STUDENT,
    BatchSize,
    CandidateSource,
    Engine,
    LabelerChoice,
    PositiveInt,
    SamplerChoice,
    Scenario,
    Share,
    SilverCap,
    Switch,
    Task,
    Text,
    TopK,
    Tracking,
    _number,
    sampler_label,
    sampler_shares,
)
from .files import (  # noqa: F401 - re-exported: the config module read files before them
    MAX_CONFIG_BYTES,
    MAX_YAML_NODES,
    load_config_file,
    safe_yaml,
    unique_json_object,
)
from .sections import (
    _STRICT,
    AugmentSettings,
    DataConfig,
    GateConfig,
    LabelErrorsConfig,
    MiningConfig,
    ModelConfig,
    RayConfig,
    StudentConfig,
    TeacherConfig,
    TeacherSearchConfig,
    _RoleRule,
)


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
        return self.candidates_spec(pool_has_pairs).name

    def candidates_spec(self, pool_has_pairs: bool) -> choices.CandidateSourceSpec:
        """`candidate_source` as its spec (`given`: the file's pairs, `samples`: a sampler draws pairs)."""
        topped_up = self.max_silver == AUTO_SILVER and bool(self.silver_cap)
        return choices.resolve_candidates(self.candidates, pool_has_pairs, topped_up)

    @property
    def labeling(self) -> choices.LabelingPlan:
        """How the silver labels are picked (`labeler` with `ensemble`), resolved once."""
        return choices.labeling_plan(self.labeler, self.ensemble)

    @property
    def engine_spec(self) -> choices.EngineSpec:
        """The spec of `engine` (`cluster`: search and labeling on Ray)."""
        return choices.engine(self.engine)

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
        if self.engine_spec.cluster and importlib.util.find_spec("ray") is None:
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


def role_config(role: str, **values: Any) -> StudentConfig | TeacherConfig:
    """The `student` or `teacher` config from keyword values (e.g. `augsbert train --role`); ConfigError names
    the bad key as `<role>.<key>`."""
    kind = TeacherConfig if role == "teacher" else StudentConfig
    try:
        return kind(**values)
    except ValidationError as exc:
        lines = [_explain({**e, "loc": (role, *e["loc"])}) for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None


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
