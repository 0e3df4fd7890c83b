"""Typed experiment configs, loaded from YAML or JSON.

The key names here are a public contract (the app, scripts and benchmarks write them): extend, never rename.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml

Scenario = Literal[1, 2, 3]
Task = Literal["regression", "classification"]
SAMPLERS = ("random", "bm25", "semantic", "bm25+semantic", "kde")
AUTO_TEACHER = "auto"  # teacher.model: chosen by device (models.default_teacher)


class ConfigError(ValueError):
    """A config that cannot run: names the key and what is wrong."""


@dataclass
class DataConfig:
    """Paths of the experiment's data files (relative paths resolve against the config file)."""

    train: str | None = None  # gold (scenario 3: unused; the target has no training gold)
    dev: str | None = None
    test: str | None = None
    unlabeled: str | None = None  # sentences or pairs (scenarios 2, 3)
    source_train: str | None = None  # scenario 3: the teacher's source-domain gold
    source_dev: str | None = None  # scenario 3: optional source dev set for the teacher
    column_map: dict[str, str] = field(default_factory=dict)
    scale: list[float] | None = None  # score scale of the gold files, e.g. [0, 5]; detected when omitted
    max_unlabeled: int | None = None  # cap on unlabeled sentences/pairs (subsampling with the seed)
    full_train: str | None = None  # all available gold (a superset of train): the full-gold ceiling (train_full_gold)


@dataclass
class ModelConfig:
    """A model to train: base model and hyperparameters."""

    model: str = "default"  # "default" = offline all-MiniLM-L6-v2, or a hub name, or a local directory
    epochs: float = 1
    batch_size: int = 16
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    max_seq_length: int = 128
    loss: str | None = None  # None = chosen by task (see student.py / teacher.py)
    weight_decay: float = 0.01
    trust_remote_code: bool = False  # run custom model code from the hub: only for models you trust
    seed_trials: int = 1  # seed optimisation: train this many seeds for `seed_trial_fraction` of the run, finish the best on dev
    seed_trial_fraction: float = 0.25  # share of the training schedule each seed trial runs (the paper: 20-30% of an epoch)
    # teacher only: before gold, learn the bi-encoder's cosine on the candidate pairs (no extra labels).
    # auto = on when the base is a bi-encoder checkpoint whose cross-encoder head is fresh (the offline default)
    warm_start: str = "auto"
    warm_start_epochs: float = 1
    warm_start_learning_rate: float = 1e-4
    # BM25 neighbours per candidate sentence added to the warm-start pairs (unlabeled, never silver): pairs that
    # span the similarity range teach the head more than related pairs alone. 0 = the candidates only
    warm_start_top_k: int = 1


@dataclass
class AugmentSettings:
    """Scenario 1: word-level augmentation of gold pairs (see augment.AugmentConfig)."""

    method: str = "wordnet"  # wordnet | contextual-substitute | contextual-insert
    copies: int = 1
    aug_p: float = 0.15
    model: str | None = None  # masked LM for the contextual methods
    side: str = "sentence1"


@dataclass
class GateConfig:
    """Teacher-readiness gate: what to do when the teacher does not beat the student on dev."""

    action: Literal["warn", "stop", "proceed"] = "warn"
    margin: float = 0.0  # teacher must beat the student by this much (metric units, e.g. 0.01 = 1 point)


@dataclass
class TeacherSearchConfig:
    """Teacher hyperparameter selection on dev: every (learning rate, epochs) pair that fits the time budget."""

    learning_rates: list[float] = field(default_factory=list)  # empty (and epochs empty) = no search
    epochs: list[float] = field(default_factory=list)
    budget_minutes: float = 30.0  # trials whose estimated time no longer fits are skipped (the first always runs)

    @property
    def enabled(self) -> bool:
        return bool(self.learning_rates or self.epochs)


ENSEMBLE_MODES = ("auto", "on", "off")
WARM_START_MODES = ("auto", "on", "off")
LABELERS = ("auto", "cross_encoder", "ensemble")  # auto = chosen by short student probes on dev
CANDIDATE_SOURCES = ("auto", "given", "sampled", "given+sampled")  # auto = given pairs when the pool has pairs


@dataclass
class ExperimentConfig:
    """One AugSBERT experiment. `from_file` / `from_dict` validate; `to_dict` round-trips."""

    name: str = "experiment"
    scenario: int = 2
    task: Task | None = None  # detected from the gold data when omitted
    data: DataConfig = field(default_factory=DataConfig)
    sampler: str = "bm25"
    top_k: int = 3
    student: ModelConfig = field(default_factory=ModelConfig)
    # the teacher: warm-started (auto) then 2 epochs on gold at 2e-5, the demo's measured recipe (README "Results")
    teacher: ModelConfig = field(default_factory=lambda: ModelConfig(model=AUTO_TEACHER, epochs=2, learning_rate=2e-5))
    augment: AugmentSettings = field(default_factory=AugmentSettings)
    gate: GateConfig = field(default_factory=GateConfig)
    teacher_search: TeacherSearchConfig = field(default_factory=TeacherSearchConfig)
    # teacher ensemble (scenario 2): cross-encoder score + gold-only bi-encoder cosine, z-scored, weighted and
    # calibrated on dev. auto = label with it when it beats both members on dev; on = always; off = never
    ensemble: str = "auto"
    # which scores become silver labels: the cross-encoder, the ensemble, or (auto) the one whose labels teach a
    # student most in a short probe on dev (see pipeline._choose_labeler)
    labeler: str = "auto"
    # candidate pairs in scenarios 2 and 3: the unlabeled file's pairs as they are, pairs sampled from its
    # sentences, or both. auto = given pairs when the unlabeled file has pairs, else sampled
    candidates: str = "auto"
    seed: int = 42
    device: str | None = None  # None = auto (cuda, mps, cpu)
    threshold: float | None = None  # scenario 3 classification threshold; None = chosen on target dev or 0.5
    max_silver: int | None = None  # cap on silver pairs (random subsample with the seed)
    train_gold_only: bool = True  # also train the gold-only student baseline (scenarios 1, 2)
    train_full_gold: bool = False  # also train the student on data.full_train: the ceiling AugSBERT aims at
    label_batch_size: int = 64
    live_evals: int = 4  # dev evaluations during each training (the app's metric curve); 0 = none
    checkpoints: int = 4  # trainer checkpoints per training (newest kept) so a killed job can resume; 0 = none
    hnsw_threshold: int = 50_000  # semantic sampler: exact faiss search up to this many sentences, HNSW above
    silver_file: str | None = None  # ready silver pairs (sentence1, sentence2, label): skips teacher, sampling, labeling
    label_cache: bool = True  # remember teacher scores per (teacher weights, pair): relabeling is free
    reuse_from: str | None = None  # a finished run (id or directory) whose zero-shot/gold-only/teacher stages are reused
    runs_dir: str | None = None  # run store root; None = $AUGSBERT_HOME/runs or ./runs
    base_dir: str | None = None  # where relative data paths resolve (set by from_file)

    # --- loading -------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: dict[str, Any], base_dir: str | Path | None = None) -> "ExperimentConfig":
        if not isinstance(raw, dict):
            raise ConfigError("config must be a mapping of keys to values")
        cfg = _build(cls, raw, "")
        if base_dir is not None and cfg.base_dir is None:
            cfg.base_dir = str(base_dir)
        cfg.validate()
        return cfg

    @classmethod
    def from_file(cls, path: str | Path, overrides: list[str] | None = None) -> "ExperimentConfig":
        """Load YAML/JSON; `overrides` are 'dotted.key=value' strings (values parsed as YAML)."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        text = path.read_text(encoding="utf-8")
        try:
            raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None
        raw = raw or {}
        for item in overrides or []:
            _apply_override(raw, item)
        return cls.from_dict(raw, base_dir=path.resolve().parent)

    @property
    def method_label(self) -> str:
        """What produced the extra training pairs: the sampler, or 'augment:<method>' in scenario 1."""
        return f"augment:{self.augment.method}" if self.scenario == 1 else self.sampler

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
        """Raise ConfigError naming the first key that cannot work."""
        if self.scenario not in (1, 2, 3):
            raise ConfigError(f"scenario must be 1, 2 or 3, got {self.scenario!r}")
        if self.task not in (None, "regression", "classification"):
            raise ConfigError(f"task must be 'regression' or 'classification', got {self.task!r}")
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"sampler must be one of {', '.join(SAMPLERS)}; got {self.sampler!r}")
        if not (isinstance(self.top_k, int) and self.top_k >= 1):
            raise ConfigError(f"top_k must be a positive integer, got {self.top_k!r}")
        for role in ("student", "teacher"):
            m: ModelConfig = getattr(self, role)
            if m.epochs < 0 or (m.epochs == 0 and role == "student") or m.batch_size < 1 or m.learning_rate <= 0:
                raise ConfigError(f"{role}: epochs, batch_size and learning_rate must be positive "
                                  "(teacher.epochs may be 0: a ready-trained cross-encoder used as it is)")
        for role in ("student", "teacher"):
            m = getattr(self, role)
            if not (isinstance(m.seed_trials, int) and m.seed_trials >= 1):
                raise ConfigError(f"{role}.seed_trials must be a positive integer, got {m.seed_trials!r}")
            if not 0.0 < m.seed_trial_fraction < 1.0:
                raise ConfigError(f"{role}.seed_trial_fraction must be between 0 and 1, got {m.seed_trial_fraction!r}")
        if isinstance(self.ensemble, bool):  # YAML reads a bare on/off as a boolean
            self.ensemble = "on" if self.ensemble else "off"
        for key, value, allowed in (("teacher.warm_start", self.teacher.warm_start, WARM_START_MODES),
                                    ("student.warm_start", self.student.warm_start, WARM_START_MODES),
                                    ("labeler", self.labeler, LABELERS),
                                    ("candidates", self.candidates, CANDIDATE_SOURCES)):
            if isinstance(value, bool):  # YAML reads a bare on/off as a boolean
                value = "on" if value else "off"
                if key.endswith(".warm_start"):
                    getattr(self, key.split(".")[0]).warm_start = value
            if value not in allowed:
                raise ConfigError(f"{key} must be one of {', '.join(allowed)}; got {value!r}")
        for role in ("student", "teacher"):
            m = getattr(self, role)
            if not m.warm_start_epochs > 0 or not m.warm_start_learning_rate > 0:
                raise ConfigError(f"{role}.warm_start_epochs and warm_start_learning_rate must be positive")
            if isinstance(m.warm_start_top_k, bool) or not (isinstance(m.warm_start_top_k, int)
                                                            and m.warm_start_top_k >= 0):
                raise ConfigError(f"{role}.warm_start_top_k must be a whole number >= 0, got {m.warm_start_top_k!r}")
        if self.train_full_gold and self.data.full_train is None and self.scenario in (1, 2):
            raise ConfigError("train_full_gold needs data.full_train: every gold pair available, the ceiling's data")
        if self.ensemble not in ENSEMBLE_MODES:
            raise ConfigError(f"ensemble must be one of {', '.join(ENSEMBLE_MODES)}; got {self.ensemble!r}")
        ts = self.teacher_search
        if any(not (isinstance(x, (int, float)) and x > 0) for x in ts.learning_rates):
            raise ConfigError(f"teacher_search.learning_rates must be positive numbers, got {ts.learning_rates!r}")
        if any(not (isinstance(x, (int, float)) and x > 0) for x in ts.epochs):
            raise ConfigError(f"teacher_search.epochs must be positive numbers, got {ts.epochs!r}")
        if ts.enabled and not ts.budget_minutes > 0:
            raise ConfigError(f"teacher_search.budget_minutes must be positive, got {ts.budget_minutes!r}")
        if ts.enabled and (self.data.dev if self.scenario != 3 else (self.data.source_dev or self.data.dev)) is None:
            raise ConfigError("teacher_search needs a dev split to choose on (data.dev; scenario 3: data.source_dev)")
        if self.augment.method not in ("wordnet", "contextual-substitute", "contextual-insert"):
            raise ConfigError(f"augment.method must be wordnet, contextual-substitute or contextual-insert, got {self.augment.method!r}")
        d = self.data
        if d.test is None:
            raise ConfigError("data.test is required: every experiment is evaluated on a test split")
        if self.scenario in (1, 2) and d.train is None:
            raise ConfigError(f"data.train (gold pairs) is required for scenario {self.scenario}")
        if self.scenario == 2 and d.unlabeled is None and d.train is None:
            raise ConfigError("scenario 2 needs data.train (and usually data.unlabeled)")
        if self.scenario == 3:
            if d.source_train is None:
                raise ConfigError("scenario 3 needs data.source_train: the teacher's source-domain gold")
            if d.unlabeled is None:
                raise ConfigError("scenario 3 needs data.unlabeled: target-domain pairs or sentences")
        if self.silver_file is not None and self.scenario == 1:
            raise ConfigError("silver_file applies to scenarios 2 and 3 (scenario 1 augments gold instead)")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(f"threshold must be in [0, 1], got {self.threshold}")


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
    node[last] = yaml.safe_load(value)


def _build(cls: type, raw: dict[str, Any], prefix: str) -> Any:
    """Build dataclass `cls` from `raw`, rejecting unknown keys with their full dotted name."""
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"unknown config key '{prefix}{key}' (known: {', '.join(sorted(known))})")
        sub = _nested_type(cls, key)
        if sub is not None:
            if isinstance(value, str) and sub is ModelConfig:
                value = {"model": value}  # shorthand: `student: bert-base-uncased`
            if value is None:
                continue
            if not isinstance(value, dict):
                raise ConfigError(f"'{prefix}{key}' must be a mapping")
            if cls is ExperimentConfig and key == "teacher" and "model" not in value:
                value = {"model": AUTO_TEACHER, **value}  # the teacher's default base is chosen by device
            kwargs[key] = _build(sub, value, f"{prefix}{key}.")
        else:
            kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:  # pragma: no cover - all keys are checked above
        raise ConfigError(str(exc)) from None


def _nested_type(cls: type, key: str) -> type | None:
    nested = {
        (ExperimentConfig, "data"): DataConfig,
        (ExperimentConfig, "student"): ModelConfig,
        (ExperimentConfig, "teacher"): ModelConfig,
        (ExperimentConfig, "augment"): AugmentSettings,
        (ExperimentConfig, "gate"): GateConfig,
        (ExperimentConfig, "teacher_search"): TeacherSearchConfig,
    }
    return nested.get((cls, key))
