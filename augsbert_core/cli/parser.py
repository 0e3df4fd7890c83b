"""The `augsbert` argument parser: one small builder per command; types checked by the config schema."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .. import __version__
from .. import review as review_mod
from ..config import (
    ENGINES,
    SENTENCE_SAMPLERS,
    STUDENT_LOSSES,
    TASKS,
    TEACHER_LOSSES,
    BatchSize,
    LearningRate,
    PositiveEpochs,
    PositiveInt,
    Share,
    TopK,
    _number,
)
from ..runs import RunFiles
from ..student import export as export_mod
from .common import DEFAULTS, EXIT_BAD_INPUT


class _ArgParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 on bad arguments already; keep the message tidy
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _typed(kind: Any, what: str) -> Callable[[str], Any]:
    """An argparse type checked by a config schema type (the same ranges as the config key): a bad value is one
    line naming the option and exit 2, never a traceback or a silent nan."""
    adapter = TypeAdapter(kind)

    def parse(text: str) -> Any:
        try:
            return adapter.validate_python(text.strip())
        except ValidationError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {what}") from None

    return parse


SEED = _typed(_number(int, ge=0, lt=2**32), "a whole number from 0 to 4294967295")


COUNT = _typed(PositiveInt, "a whole number of at least 1")


BATCH = _typed(BatchSize, "a batch size from 1 to 65536")


TOP_K = _typed(TopK, "a whole number of neighbours from 1 to 1000")


def build_parser() -> argparse.ArgumentParser:
    """The `augsbert` parser: one sub-parser per command, in the order `--help` lists them."""
    parser = _ArgParser(
        prog="augsbert",
        description=(
            "AugSBERT Studio: train bi-encoders (SBERT) with silver data labeled by a cross-encoder teacher.\n"
            "Scenarios: 1 = augment full gold data, 2 = limited gold + unlabeled sentences, 3 = no target labels."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"augsbert {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_ArgParser, metavar="COMMAND")
    for add in COMMAND_PARSERS:
        add(sub)
    return parser


def _add_run_parser(sub) -> None:
    """`augsbert run`."""
    p = sub.add_parser(
        "run",
        help="run a whole experiment from a YAML/JSON config",
        description="Run an experiment; prints the run id, the metrics table and, on the last line, the run directory.",
    )
    p.add_argument("config", help="experiment config (YAML or JSON)")
    p.add_argument("--runs-dir", help="run store root (default: config runs_dir, $AUGSBERT_HOME/runs or ./runs)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, dotted for nested keys (e.g. --set student.epochs=2); repeatable",
    )
    p.add_argument(
        "--engine",
        choices=ENGINES,
        help="where sampling and labeling run (the config's engine; ray needs pip install .[ray])",
    )
    p.add_argument("--ray-address", help="engine ray: the cluster (the config's ray.address; default $RAY_ADDRESS)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_check_parser(sub) -> None:
    """`augsbert check`."""
    p = sub.add_parser(
        "check",
        help="dry run: validate a config and every data file it names, print the plan",
        description="Validate the config and every data file it names, then print the plan: rows "
        "per file, task, scale, expected candidate and silver pairs and a rough time on "
        "this device. Creates no run. Exit 0 when the run can start, 2 when not.",
    )
    p.add_argument("config", help="experiment config (YAML or JSON)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, as for `augsbert run`; repeatable",
    )
    p.add_argument("--json", action="store_true", help='print the plan, or {"ok": false, "errors": [...]}, as JSON')


def _add_label_errors_parser(sub) -> None:
    """`augsbert label-errors`."""
    p = sub.add_parser(
        "label-errors",
        help="rank the gold train pairs by how suspicious their labels are (cross-fitted teachers)",
        description="Only this step of a run: the config's teacher is trained on k-1 folds of data.train and "
        "scores the fold it did not see (label_errors.folds, label_errors.epochs); pairs are ranked by how far "
        "their label is from that out-of-fold prediction. Writes the table (rank, row, sentence1, sentence2, "
        "label, oof_prediction, suspicion) and prints the most suspect rows and, last, the file written.",
    )
    p.add_argument("config", help="experiment config (YAML or JSON) naming data.train")
    p.add_argument("--out", default=RunFiles.LABEL_ERRORS, help="output table (default: ./label_errors.csv)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key; repeatable")
    p.add_argument(
        "--top",
        type=_typed(_number(int, ge=0), "a whole number, 0 or more"),
        default=10,
        help="rows printed (default 10)",
    )
    p.add_argument("--work-dir", help="where the fold models are trained (default: a temporary folder)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_config_schema_parser(sub) -> None:
    """`augsbert config-schema`."""
    sub.add_parser("config-schema", help="print the JSON Schema of config files (for editors)")


def _add_validate_parser(sub) -> None:
    """`augsbert validate`."""
    p = sub.add_parser("validate", help="check a data file and print a summary or the errors")
    p.add_argument("file")
    p.add_argument("--kind", choices=["gold", "unlabeled"], default="gold")
    p.add_argument(
        "--column-map", metavar="FILECOL=NAME,...", help="map file columns to sentence1/sentence2/score/label"
    )
    p.add_argument("--scale", metavar="LO,HI", help="score scale, e.g. 0,5 (detected when omitted)")
    p.add_argument("--task", choices=TASKS)
    p.add_argument("--json", action="store_true", help="print the summary or errors as JSON")


def _add_sample_parser(sub) -> None:
    """`augsbert sample`."""
    p = sub.add_parser("sample", help="generate candidate pairs from sentences with a sampler")
    p.add_argument("--sentences", required=True, help="unlabeled sentences or pairs")
    p.add_argument("--gold", help="gold pairs: their sentences join the pool and the pairs are excluded")
    p.add_argument(
        "--sampler",
        required=True,
        metavar="SAMPLER",
        help=f"one of {', '.join(SENTENCE_SAMPLERS)}, or a mix with shares, e.g. bm25=0.7,random=0.3 (one budget "
        "split by the shares, as the config's sampler mix; every sampler's pool is held in memory)",
    )
    p.add_argument("--top-k", type=TOP_K, default=DEFAULTS.top_k)
    p.add_argument(
        "--model", default=DEFAULTS.student.model, help="bi-encoder for the semantic sampler (default: offline MiniLM)"
    )
    p.add_argument("--seed", type=SEED, default=DEFAULTS.seed)
    p.add_argument("--out", required=True, help="output file (.csv, .tsv, .jsonl, .parquet)")


def _add_label_parser(sub) -> None:
    """`augsbert label`."""
    p = sub.add_parser("label", help="score pairs with a cross-encoder teacher (both orders averaged)")
    p.add_argument("--pairs", required=True, help="pairs file (sentence1, sentence2)")
    p.add_argument("--teacher", required=True, help="cross-encoder: trained model directory or hub name")
    p.add_argument("--out", required=True)
    p.add_argument("--batch-size", type=BATCH, default=DEFAULTS.label_batch_size)
    p.add_argument("--one-order", action="store_true", help="score only (sentence1, sentence2), not both orders")
    p.add_argument(
        "--threshold",
        type=_typed(Share, "a score threshold from 0 to 1"),
        help="also write label = score >= threshold (classification)",
    )


def _add_runs_parser(sub) -> None:
    """`augsbert runs`."""
    p = sub.add_parser(
        "runs",
        help="list the run history",
        description="List the runs (read-only: a locked, empty or unreadable index is read around "
        "and said so on stderr).",
    )
    p.add_argument("--runs-dir")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--rebuild-index",
        action="store_true",
        help="rebuild the SQLite index from the run directories (they are the source of truth)",
    )


def _add_report_parser(sub) -> None:
    """`augsbert report`."""
    p = sub.add_parser(
        "report",
        help="write one self-contained HTML report of finished runs (opens offline in a browser)",
        description="Headline metrics with the gain over gold-only, the grouped bar chart, predicted vs gold, "
        "silver labels vs gold, the gate verdict, datasets, date, device and config of each run, in one HTML "
        "file with plotly.js embedded: no server, no network. Prints the file written.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="a run id (in --runs-dir) or a run directory")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--runs-dir")
    p.add_argument("--title", help="the report's title (default: names the run, or the number of runs)")


def _add_review_parser(sub) -> None:
    """`augsbert review`."""
    p = sub.add_parser(
        "review",
        help="silver review in Label Studio or Argilla: export a run's pairs, import the reviewed export",
        description="`review export RUN --format label-studio|argilla --out FILE.json` writes the run's silver pairs "
        "in the tool's import format (the teacher's score as a prediction/suggestion) and its labeling config beside "
        "it; `review import FILE --run RUN` reads the tool's JSON export back into the run's review.json (pairs "
        "marked wrong, corrected scores), which the Silver page and a retraining then use.",
    )
    review_sub = p.add_subparsers(dest="review_command", required=True, metavar="{export,import}")
    q = review_sub.add_parser("export", help="write a run's silver pairs for Label Studio or Argilla")
    q.add_argument("run", metavar="RUN", help="a run id (in --runs-dir) or a run directory")
    q.add_argument("--format", required=True, choices=review_mod.FORMATS)
    q.add_argument("--out", required=True, help="the JSON file to write (the labeling config goes beside it)")
    q.add_argument("--runs-dir")
    q = review_sub.add_parser("import", help="read a Label Studio or Argilla export into a run's review.json")
    q.add_argument("file", metavar="FILE", help="the tool's JSON export")
    q.add_argument("--run", required=True, metavar="RUN", help="a run id (in --runs-dir) or a run directory")
    q.add_argument("--runs-dir")


def _add_export_mlflow_parser(sub) -> None:
    """`augsbert export-mlflow`."""
    p = sub.add_parser(
        "export-mlflow",
        help="log finished runs to MLflow (one MLflow run each; exporting again updates it)",
        description="Log each finished run as one MLflow run: the config as params, metrics.json per model and split "
        "(augsbert.test.spearman), training curves, tags (run id, scenario, sampler, gate verdict) and artifacts "
        "(silver_summary.json, gate.json, the HTML report). The MLflow run is found again by its augsbert.run_id "
        "tag, so exporting a run twice updates it. Store: --tracking-uri, else $MLFLOW_TRACKING_URI, else "
        "sqlite:///$AUGSBERT_HOME/mlflow.db (see docs/tracking.md). Needs mlflow: pip install -e '.[tracking]'.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="a run id (in --runs-dir) or a run directory")
    p.add_argument("--runs-dir")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else the workspace's)")
    p.add_argument("--experiment", help="MLflow experiment (default: the run's tracking_experiment, else augsbert)")
    p.add_argument("--log-model", action="store_true", help="also log the recommended student model as an artifact")


def _add_cancel_parser(sub) -> None:
    """`augsbert cancel`."""
    p = sub.add_parser("cancel", help="ask a queued or running job to stop")
    p.add_argument("run_id")
    p.add_argument("--runs-dir")


def _add_resume_parser(sub) -> None:
    """`augsbert resume`."""
    p = sub.add_parser(
        "resume",
        help="continue an interrupted, cancelled or failed run from its checkpoints",
        description="Finished stages are kept; trainings continue from their newest checkpoint. "
        "Runs in the foreground with progress bars (use --background for a job).",
    )
    p.add_argument("run_id")
    p.add_argument("--runs-dir")
    p.add_argument("--background", action="store_true", help="start a background worker and return at once")


def _add_study_parser(sub) -> None:
    """`augsbert study`."""
    p = sub.add_parser(
        "study",
        help="run a study (seeds x samplers) and write a mean +- std results table",
        description="Run every experiment of a study file over its seeds and samplers (finished "
        "runs are skipped on a rerun), then write results.json and results.md; prints "
        "the Markdown table.",
    )
    p.add_argument("study", help="study file (YAML), e.g. experiments/stsb-cpu.yaml")
    p.add_argument("--out", help="output folder (default: the study's `out`)")
    p.add_argument("--summarize", action="store_true", help="only rebuild the table from the finished runs")


def _add_models_parser(sub) -> None:
    """`augsbert models`."""
    p = sub.add_parser("models", help="list the offline models (installed or not) and how to set them up")
    p.add_argument("--json", action="store_true")


def _add_app_parser(sub) -> None:
    """`augsbert app`."""
    p = sub.add_parser(
        "app",
        help="serve the app in the browser (Streamlit), from any directory",
        description="Serve AugSBERT Studio on http://localhost:8501 (or --port). The workspace is $AUGSBERT_HOME, "
        "else ./workspace. Any other flag goes to `streamlit run`, e.g. --server.address 0.0.0.0 (the app has no "
        "login: put it behind an authenticating proxy before serving it on a network).",
    )
    p.add_argument("--port", type=_typed(_number(int, ge=1, le=65535), "a port from 1 to 65535"))


def _add_worker_parser(sub) -> None:
    """`augsbert worker`: internal, the body of a background job."""
    p = sub.add_parser("worker")  # internal: the body of a background job, left out of --help
    sub._choices_actions = [a for a in sub._choices_actions if a.dest != "worker"]
    p.add_argument("run_id")
    p.add_argument("--runs-dir")
    p.add_argument("--resume", action="store_true")


def _add_export_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        help="write a run's student for serving: a sentence-transformers folder, ONNX or ONNX int8",
        description="Write a trained student of a finished run to a new folder: --format st (the sentence-transformers "
        "folder), onnx (plus onnx/model.onnx) or onnx-int8 (plus onnx/model_qint8.onnx, dynamic int8 weights). "
        "ONNX students encode with onnxruntime alone: augsbert_core.OnnxEncoder(folder).encode(sentences). The "
        "folder's README.md says how to load each format. ONNX needs the onnx extra: pip install '.[onnx]'.",
    )
    p.add_argument("run", metavar="RUN", help="a run id (in --runs-dir) or a run directory")
    p.add_argument("--model", help="the student: augsbert, gold_only, full_gold (default: the run's recommended one)")
    p.add_argument("--format", default="st", choices=export_mod.FORMATS)
    p.add_argument("--out", required=True, help="a new (or empty) folder")
    p.add_argument("--runs-dir")


def _add_scale_parsers(sub) -> None:
    """`train` (data-parallel under torchrun / accelerate launch) and `silver` (streamed sample + label)."""
    p = sub.add_parser(
        "train",
        help="train a teacher or student on pairs (data-parallel under torchrun)",
        description="Train one model on labeled pairs. Runs as one process, or data-parallel under "
        "`torchrun --nproc_per_node N -m augsbert_core train ...` / `accelerate launch "
        "-m augsbert_core train ...` (rank 0 saves and prints).",
    )
    p.add_argument("--role", required=True, choices=["teacher", "student"])
    p.add_argument("--train", required=True, help="labeled pairs (gold, or gold + silver)")
    p.add_argument("--out", required=True, help="output model directory")
    p.add_argument("--dev", help="labeled pairs scored after training (rank 0)")
    p.add_argument(
        "--model", default=DEFAULTS.student.model, help="base model: default, a hub name or a local directory"
    )
    # a fixed schedule: this data-parallel command has no early stopping (a run's students have: student.epochs auto)
    p.add_argument("--epochs", type=_typed(PositiveEpochs, "a number of epochs above 0, at most 1000"), default=1.0)
    p.add_argument("--batch-size", type=BATCH, default=DEFAULTS.student.batch_size, help="per process")
    p.add_argument("--lr", type=_typed(LearningRate, "a learning rate above 0, at most 1"))
    p.add_argument("--max-steps", type=COUNT, help="stop after this many optimizer steps")
    p.add_argument(
        "--max-seq-length",
        type=_typed(_number(int, ge=8, le=8192), "a length from 8 to 8192 tokens"),
        default=DEFAULTS.student.max_seq_length,
    )
    p.add_argument(
        "--loss", choices=(*STUDENT_LOSSES, *TEACHER_LOSSES), help="default: chosen by the role and the task"
    )
    p.add_argument("--task", choices=TASKS)
    p.add_argument("--device", help="cpu, cuda, mps (default: auto; cuda:LOCAL_RANK under a launcher)")
    p.add_argument("--ddp-backend", choices=["gloo", "nccl"], help="default: nccl on CUDA, gloo on CPU")
    p.add_argument("--seed", type=SEED, default=DEFAULTS.seed)

    p = sub.add_parser(
        "silver",
        help="sample candidate pairs and label them with a teacher, chunk by chunk",
        description="Streams: candidates for a block of sentences are generated, labeled and "
        "appended to --out (CSV) before the next block, so a pool of millions of "
        "sentences never holds all its pairs in memory.",
    )
    p.add_argument("--sentences", required=True, help="unlabeled sentences or pairs")
    p.add_argument("--teacher", required=True, help="cross-encoder: trained model directory or hub name")
    p.add_argument("--out", required=True, help="output CSV (written incrementally, renamed into place at the end)")
    p.add_argument("--gold", help="gold pairs: their sentences join the pool and the pairs are excluded")
    p.add_argument("--sampler", default=DEFAULTS.sampler, choices=SENTENCE_SAMPLERS)
    p.add_argument("--top-k", type=TOP_K, default=DEFAULTS.top_k)
    p.add_argument("--model", default=DEFAULTS.student.model, help="bi-encoder for the semantic sampler")
    p.add_argument("--chunk-size", type=COUNT, default=50_000, help="query sentences per block")
    p.add_argument("--batch-size", type=BATCH, default=DEFAULTS.label_batch_size)
    p.add_argument("--backend", choices=["torch", "onnx"], default="torch", help="teacher runtime (onnx: CPU)")
    p.add_argument("--devices", help="comma-separated devices for multi-process labeling, e.g. cuda:0,cuda:1")
    p.add_argument("--hnsw-threshold", type=COUNT, default=50_000)
    p.add_argument("--seed", type=SEED, default=42)
    p.add_argument(
        "--bm25-max-df",
        type=COUNT,
        help="prune BM25 candidates to terms in at most this many sentences, rescored exactly (default: exact "
        "search; see docs/scaling.md)",
    )
    p.add_argument("--engine", choices=ENGINES, default="local", help="ray: search and label on a Ray cluster")
    p.add_argument("--ray-address", help="Ray cluster address (default: $RAY_ADDRESS, else a local cluster)")
    p.add_argument("--workers", type=COUNT, help="engine ray: labeling actors (default: the cluster's CPUs)")
    p.add_argument(
        "--gpus-per-worker",
        type=_typed(_number(float, ge=0, le=64), "a number of GPUs from 0 to 64"),
        default=0.0,
        help="engine ray: GPUs per labeling actor",
    )
    p.add_argument(
        "--work-dir", help="engine ray: candidate and labeled shards, kept to resume (default: <out>.shards)"
    )


#: every command's parser builder, in --help order
COMMAND_PARSERS: tuple[Callable[[Any], None], ...] = (
    _add_run_parser,
    _add_check_parser,
    _add_label_errors_parser,
    _add_config_schema_parser,
    _add_validate_parser,
    _add_sample_parser,
    _add_label_parser,
    _add_runs_parser,
    _add_report_parser,
    _add_review_parser,
    _add_export_parser,
    _add_export_mlflow_parser,
    _add_cancel_parser,
    _add_resume_parser,
    _add_scale_parsers,
    _add_study_parser,
    _add_models_parser,
    _add_app_parser,
    _add_worker_parser,
)
