"""AugSBERT Studio core: Augmented SBERT (Thakur et al., NAACL 2021) as a headless library.

from augsbert_core import ExperimentConfig, run_experiment
result = run_experiment(ExperimentConfig.from_file("configs/demo-stsb-bm25.yaml"))
print(result.table())
"""

from . import old_homes
from .config import (
    SAMPLERS,
    AugmentSettings,
    ConfigError,
    DataConfig,
    ExperimentConfig,
    GateConfig,
    ModelConfig,
    StudentConfig,
    TeacherConfig,
)
from .distributions import distribution_distance, kde_select
from .evaluation import best_threshold, classification_metrics, evaluate_bi_encoder, format_table, regression_metrics
from .io.data import DataError, PairSet, Problem, SentencePool, load_pairs, load_unlabeled, read_table, write_table
from .models import ModelLoadError, choose_device, default_model_path, load_bi_encoder, load_cross_encoder
from .pipeline import ExperimentResult, GateStopped, run_experiment
from .registry import SamplerSpec, register_sampler, register_search
from .runs import RunRecord, RunStore
from .runs.progress import Cancelled, CancelToken, ProgressEvent
from .sampling import sample_candidates
from .student import train_student
from .student.export import OnnxEncoder, export_student
from .teacher import evaluate_cross_encoder, label_pairs, train_teacher

old_homes.install()  # `augsbert_core.data` and the other flat names still import (old_homes.MOVED)

__version__ = "0.1.0"

__all__ = [
    "SAMPLERS",
    "SamplerSpec",
    "register_sampler",
    "register_search",
    "AugmentSettings",
    "ConfigError",
    "DataConfig",
    "ExperimentConfig",
    "GateConfig",
    "ModelConfig",
    "StudentConfig",
    "TeacherConfig",
    "DataError",
    "PairSet",
    "Problem",
    "SentencePool",
    "load_pairs",
    "load_unlabeled",
    "read_table",
    "write_table",
    "best_threshold",
    "classification_metrics",
    "format_table",
    "regression_metrics",
    "ModelLoadError",
    "OnnxEncoder",
    "export_student",
    "choose_device",
    "default_model_path",
    "load_bi_encoder",
    "load_cross_encoder",
    "ExperimentResult",
    "GateStopped",
    "evaluate_bi_encoder",
    "evaluate_cross_encoder",
    "run_experiment",
    "Cancelled",
    "CancelToken",
    "ProgressEvent",
    "RunRecord",
    "RunStore",
    "distribution_distance",
    "kde_select",
    "sample_candidates",
    "train_student",
    "label_pairs",
    "train_teacher",
]
