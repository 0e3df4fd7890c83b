"""Typed experiment configs, loaded from YAML or JSON: one schema for every key's type, default and range.

The key names here are a public contract (the app, scripts and benchmarks write them): extend, never rename.
The classes are pydantic dataclasses: constructing one (from a file, `--set`, the Python API or the app's
Scenario page) checks every value, so a config that exists is a config of the right types and ranges.
`ExperimentConfig.validate` adds the rules that span keys (what each scenario needs). `json_schema()` is the
JSON Schema for editors (`augsbert config-schema`).
"""

from __future__ import annotations

from ..errors import ConfigError  # noqa: F401 - re-exported
from .experiment import (  # noqa: F401 - the public surface
    ExperimentConfig,
    json_schema,
    role_config,
    student_kind,
    tracking_missing,
)
from .fields import (  # noqa: F401 - the public surface
    AUGMENT_METHODS,
    AUGMENT_SIDES,
    AUTO_EPOCHS,
    AUTO_SILVER,
    AUTO_TEACHER,
    CANDIDATE_SOURCES,
    DEVICE_PATTERN,
    ENGINES,
    ENSEMBLE_MODES,
    GATE_ACTIONS,
    LABEL_ERROR_PREDICTORS,
    LABELERS,
    LAYERS_LEARNING_RATE,
    MAX_TOP_K,
    MIX_SAMPLERS,
    MIX_TOLERANCE,
    SAMPLERS,
    SCENARIOS,
    SENTENCE_SAMPLERS,
    SILVER_BUDGET,
    STATIC_BATCH_SIZE,
    STATIC_LEARNING_RATE,
    STATIC_STUDENT,
    STUDENT_LOSSES,
    SWITCH_VALUES,
    TASKS,
    TEACHER_LOSSES,
    TRACKERS,
    WARM_START_MODES,
    AugmentMethod,
    AugmentSide,
    BatchSize,
    CandidateSource,
    Engine,
    Epochs,
    EpochsChoice,
    Float,
    Fraction,
    GateAction,
    LabelerChoice,
    LabelErrorPredictor,
    LearningRate,
    LossName,
    PositiveEpochs,
    PositiveFloat,
    PositiveInt,
    Sampler,
    SamplerChoice,
    Scenario,
    Share,
    SilverCap,
    StudentLoss,
    Switch,
    SwitchValue,
    Task,
    TeacherLoss,
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
from .sections import (  # noqa: F401 - the public surface
    AugmentSettings,
    DataConfig,
    DataRole,
    GateConfig,
    LabelErrorsConfig,
    MiningConfig,
    ModelConfig,
    RayConfig,
    StudentConfig,
    TeacherConfig,
    TeacherSearchConfig,
    role_column_map,
)
