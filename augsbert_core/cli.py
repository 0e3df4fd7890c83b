"""`augsbert` command line: argument parsing and printing only; the work is in the library.

Exit codes: 0 success, 2 bad input or bad arguments (the message says what and where), 1 anything else."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from tqdm import tqdm

from . import __version__, data, ray_engine, registry, stages
from . import export as export_mod
from . import review as review_mod
from .atomic import atomic_write_text, dumps_json
from .config import (
    ENGINES,
    SENTENCE_SAMPLERS,
    STUDENT_LOSSES,
    TASKS,
    TEACHER_LOSSES,
    BatchSize,
    ConfigError,
    ExperimentConfig,
    LearningRate,
    ModelConfig,
    PositiveEpochs,
    PositiveInt,
    Share,
    TopK,
    _number,
    json_schema,
)
from .distributed import dist_info, train_distributed
from .errors import AugsbertError, Cancelled, GateStopped, failure_of
from .evaluation import RECOMMENDED, format_table, recommended_of
from .inputs import load_experiment_data
from .jobs import RESUMABLE, cancel, device_lock, resume, run_worker
from .label_errors import find_label_errors
from .models import (
    choose_device,
    load_bi_encoder,
    load_cross_encoder,
    offline_models,
    require_trained_cross_encoder,
)
from .pipeline import run_experiment
from .plan import check_experiment
from .report import build_report
from .runs import RunFiles, RunStore
from .sampling import sample_candidates, sample_mixed_candidates
from .serve import serve
from .silver import stream_silver
from .study import Study, results_markdown
from .teacher import label_pairs
from .tracking import log_run

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2
DEFAULTS = ExperimentConfig()  # the config schema's defaults are the commands' defaults


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

    p = sub.add_parser("config-schema", help="print the JSON Schema of config files (for editors)")

    p = sub.add_parser("validate", help="check a data file and print a summary or the errors")
    p.add_argument("file")
    p.add_argument("--kind", choices=["gold", "unlabeled"], default="gold")
    p.add_argument(
        "--column-map", metavar="FILECOL=NAME,...", help="map file columns to sentence1/sentence2/score/label"
    )
    p.add_argument("--scale", metavar="LO,HI", help="score scale, e.g. 0,5 (detected when omitted)")
    p.add_argument("--task", choices=TASKS)
    p.add_argument("--json", action="store_true", help="print the summary or errors as JSON")

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

    _add_export_parser(sub)
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

    p = sub.add_parser("cancel", help="ask a queued or running job to stop")
    p.add_argument("run_id")
    p.add_argument("--runs-dir")

    p = sub.add_parser(
        "resume",
        help="continue an interrupted, cancelled or failed run from its checkpoints",
        description="Finished stages are kept; trainings continue from their newest checkpoint. "
        "Runs in the foreground with progress bars (use --background for a job).",
    )
    p.add_argument("run_id")
    p.add_argument("--runs-dir")
    p.add_argument("--background", action="store_true", help="start a background worker and return at once")

    _add_scale_parsers(sub)

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

    p = sub.add_parser("models", help="list the offline models (installed or not) and how to set them up")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "app",
        help="serve the app in the browser (Streamlit), from any directory",
        description="Serve AugSBERT Studio on http://localhost:8501 (or --port). The workspace is $AUGSBERT_HOME, "
        "else ./workspace. Any other flag goes to `streamlit run`, e.g. --server.address 0.0.0.0 (the app has no "
        "login: put it behind an authenticating proxy before serving it on a network).",
    )
    p.add_argument("--port", type=_typed(_number(int, ge=1, le=65535), "a port from 1 to 65535"))

    p = sub.add_parser("worker")  # internal: the body of a background job, left out of --help
    sub._choices_actions = [a for a in sub._choices_actions if a.dest != "worker"]
    p.add_argument("run_id")
    p.add_argument("--runs-dir")
    p.add_argument("--resume", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, streamlit_args = parser.parse_known_args(argv)
    if streamlit_args and args.command != "app":  # only `app` passes flags on (to streamlit run)
        parser.error(f"unrecognized arguments: {' '.join(streamlit_args)}")
    args.streamlit_args = streamlit_args
    try:
        return _dispatch(args)
    except (Cancelled, GateStopped) as exc:
        print(f"stopped: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (AugsbertError, FileNotFoundError) as exc:  # expected: bad input, settings, a model, a run file
        if getattr(args, "json", False) and args.command in ("check", "validate"):
            problems = [str(p) for p in getattr(exc, "problems", [])] or str(exc).splitlines()
            print(dumps_json({"ok": False, "errors": problems}, indent=2))
        print(f"error: {exc}", file=sys.stderr)
        for problem in getattr(exc, "problems", [])[1:20]:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `augsbert runs | head`: the reader left; no traceback (as the Python docs advise)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the machine's limits: one line naming the path, the run and what to do
        line = _system_failure(exc, args)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT


#: Failure kinds of the machine, not of the code: the CLI explains them in one line instead of a traceback.
SYSTEM_FAILURES = ("disk_full", "permission", "out_of_memory", "hub_unreachable")


def _system_failure(exc: BaseException, args) -> str | None:
    """The one-line error for a full disk, a refused write, memory or an unreachable hub (None for anything else):
    what failed, the run it stopped (and how to resume it) or the file the command was writing, and what to do."""
    failure = failure_of(exc)
    if failure.kind not in SYSTEM_FAILURES:
        return None
    run_id = getattr(exc, "run_id", None)
    if run_id:
        where = f" --runs-dir {args.runs_dir}" if getattr(args, "runs_dir", None) else ""
        resume = f"augsbert resume {run_id}{where}"
        then = {  # a full disk or a refused write: nothing in the config to change, the same run goes on
            "disk_full": f"Free space, then resume the run: {resume}",
            "permission": f"Make the runs folder writable, then resume the run: {resume}",
        }
        return f"run {run_id} failed: {failure.message}. {then.get(failure.kind, failure.hint)}"
    out = getattr(args, "out", None)
    line = failure.message + (f" (writing {out})" if out and failure.kind == "disk_full" else "")
    hint = {"disk_full": "Free space, then run the command again.", "out_of_memory": failure.hint}
    return f"{line}. {hint.get(failure.kind, failure.hint)}".rstrip(". ") + "."


def _dispatch(args) -> int:
    return {
        "run": _cmd_run,
        "check": _cmd_check,
        "config-schema": _cmd_config_schema,
        "validate": _cmd_validate,
        "sample": _cmd_sample,
        "label": _cmd_label,
        "label-errors": _cmd_label_errors,
        "runs": _cmd_runs,
        "cancel": _cmd_cancel,
        "report": _cmd_report,
        "review": _cmd_review,
        "export": _cmd_export,
        "export-mlflow": _cmd_export_mlflow,
        "resume": _cmd_resume,
        "worker": _cmd_worker,
        "train": _cmd_train,
        "silver": _cmd_silver,
        "study": _cmd_study,
        "models": _cmd_models,
        "app": _cmd_app,
    }[args.command](args)


def _cmd_app(args) -> int:
    serve(args.port, args.streamlit_args)  # replaces this process; returns only on an error (raised)
    return EXIT_ERROR


def _parse_map(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    pairs = [item.split("=", 1) for item in text.split(",") if item]
    if any(len(p) != 2 for p in pairs):
        raise ConfigError(f"--column-map must look like filecol=sentence1,other=score; got {text!r}")
    names = [k.strip() for k, _ in pairs]
    twice = sorted({k for k in names if names.count(k) > 1})
    if twice:
        raise ConfigError(f"--column-map {text}: column {twice[0]!r} is mapped twice; map each column once")
    return {k.strip(): v.strip() for k, v in pairs}


def _parse_scale(text: str | None) -> tuple[float, float] | None:
    """`--scale LO,HI`: two finite numbers, LO below HI."""

    if not text:
        return None
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"--scale must be two numbers like 0,5; got {text!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi and math.isfinite(hi - lo)):
        raise ConfigError(f"--scale needs finite numbers with LO below HI and a finite span, like 0,5; got {text!r}")
    return lo, hi


def _cmd_run(args) -> int:

    shorthands = [f"engine={args.engine}"] if args.engine else []
    if args.ray_address:
        shorthands.append(f"ray.address={json.dumps(args.ray_address)}")  # a YAML string, whatever it holds
    cfg = ExperimentConfig.from_file(args.config, overrides=shorthands + args.set)
    return _run_in_foreground(cfg, RunStore(args.runs_dir or cfg.runs_dir), progress=not args.no_progress)


def _cmd_check(args) -> int:

    plan = check_experiment(ExperimentConfig.from_file(args.config, overrides=args.set))
    if args.json:
        print(dumps_json(plan.to_dict(), indent=2))
    else:
        print("\n".join(plan.lines()))
    return EXIT_OK


def _cmd_config_schema(args) -> int:

    print(dumps_json(json_schema(), indent=2))
    return EXIT_OK


def _run_in_foreground(cfg, store, *, run=None, resume: bool = False, progress: bool = True) -> int:
    """Run (or resume) an experiment with progress on stderr; print run id, metrics table and run dir last."""

    sink = _TqdmSink() if progress else _PrintSink()
    try:
        result = run_experiment(cfg, store=store, run=run, sink=sink, resume=resume)
    except (Cancelled, GateStopped) as exc:
        sink.close()  # before printing, so the message is not drawn over by a bar
        print(f"stopped: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        sink.close()
    print(f"run id: {result.run_id}")
    print(_results_table(result))
    print(result.run_dir)
    return EXIT_OK


def _read_metrics(run_dir) -> dict | None:
    """A run's metrics.json as written (per-model entries and `recommended`), or None when absent or unreadable."""
    try:
        raw = json.loads((Path(run_dir) / RunFiles.METRICS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def _results_table(result) -> str:
    """The metrics table of a finished run, the recommended model first (marked '*'): from its metrics.json, so
    it shows what the run recorded; from the result when the file cannot be read."""

    metrics = _read_metrics(result.run_dir) or {**result.metrics, RECOMMENDED: getattr(result, "recommended", None)}
    return format_table({**metrics, RECOMMENDED: recommended_of(metrics, result.task)}, result.task)


def _cmd_study(args) -> int:

    study = Study.from_file(args.study, out=args.out)
    _writable_path(study.out, "--out" if args.out else f"{args.study}: out", folder=True)
    if args.summarize:
        index_path = study.out / "index.json"
        results = study.collect(json.loads(index_path.read_text()) if index_path.is_file() else {})
        (study.out / "results.json").write_text(dumps_json(results, indent=2))
        (study.out / "results.md").write_text(results_markdown(results))
    else:
        results = study.run(sink=_PrintSink(), log=lambda line: print(line, file=sys.stderr, flush=True))
    print(results_markdown(results))
    print(study.out / "results.md")
    return EXIT_OK


def _cmd_models(args) -> int:

    models = offline_models()
    if args.json:
        print(dumps_json(models, indent=2))
        return EXIT_OK
    for m in models:
        state = "installed" if m["installed"] else "not installed"
        print(f"{m['name']:<8} {m['model']} - {state}\n         {m['use']}\n         {m['path']}")
    return EXIT_OK


def _cmd_validate(args) -> int:

    column_map = _parse_map(args.column_map)
    if args.kind == "gold":
        loaded = data.load_pairs(args.file, column_map=column_map, task=args.task, scale=_parse_scale(args.scale))
    else:
        loaded = data.load_unlabeled(args.file, column_map=column_map)
    summary = loaded.summary()
    if args.json:
        print(dumps_json({"ok": True, "summary": summary, "warnings": [str(w) for w in loaded.warnings]}, indent=2))
    else:
        print(f"{args.file}: OK ({args.kind})")
        for key, value in summary.items():
            print(f"  {key}: {value}")
        for warning in loaded.warnings[:20]:
            print(f"  warning: {warning}")
    return EXIT_OK


def _sample_choice(text: str) -> str | dict[str, float]:
    """`--sampler` of `augsbert sample`: a sentence sampler's name, or a mix 'bm25=0.7,random=0.3' checked by the
    config's rules for `sampler` (ConfigError naming what is wrong)."""
    text = text.strip()
    if "=" not in text:
        if text not in SENTENCE_SAMPLERS:
            raise ConfigError(
                f"--sampler: {text!r} is not a sampler here; choose one of {', '.join(SENTENCE_SAMPLERS)} or a mix "
                "such as bm25=0.7,random=0.3"
            )
        return text
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, _, share = part.partition("=")
        if name.strip() in mix:
            raise ConfigError(f"--sampler {text}: {name.strip()!r} is named twice; give each sampler one share")
        try:
            mix[name.strip()] = float(share)
        except ValueError:
            raise ConfigError(f"--sampler: {part!r} is not NAME=SHARE, as in bm25=0.7,random=0.3") from None
    try:
        checked = ExperimentConfig.from_dict({"sampler": mix}, rules=False).sampler
    except ConfigError as exc:
        raise ConfigError(f"--sampler {text}: {exc}") from None
    return checked


def _cmd_sample(args) -> int:

    _writable(args.out)
    sampler = _sample_choice(args.sampler)
    pool = data.load_unlabeled(args.sentences)
    gold = data.load_pairs(args.gold).frame if args.gold else None
    sentences = (list(gold["sentence1"]) + list(gold["sentence2"]) if gold is not None else []) + pool.sentences
    names = list(sampler) if isinstance(sampler, dict) else [sampler]
    model = load_bi_encoder(args.model) if any(registry.sampler(name).needs_model for name in names) else None
    if args.top_k < 1:
        raise ConfigError("--top-k must be at least 1")
    sink = _TqdmSink()
    try:
        if isinstance(sampler, dict):
            pairs = sample_mixed_candidates(
                sentences, sampler, args.top_k, gold=gold, model=model, seed=args.seed, sink=sink
            )
        else:
            pairs = sample_candidates(sentences, sampler, args.top_k, gold=gold, model=model, seed=args.seed, sink=sink)
    finally:
        sink.close()
    _write_data(pairs, args.out)
    print(f"{len(pairs):,} candidate pairs from {len(dict.fromkeys(sentences)):,} sentences -> {args.out}")
    return EXIT_OK


def _cmd_label(args) -> int:

    _writable(args.out)
    require_trained_cross_encoder(args.teacher)
    pool = data.load_unlabeled(args.pairs)
    if pool.pairs is None:
        raise ConfigError(f"{args.pairs}: needs two sentence columns (sentence1, sentence2) to label pairs")
    teacher = load_cross_encoder(args.teacher, trained=True)
    sink = _TqdmSink()
    try:
        scores = label_pairs(
            teacher,
            pool.pairs["sentence1"],
            pool.pairs["sentence2"],
            batch_size=args.batch_size,
            symmetric=not args.one_order,
            sink=sink,
        )
    finally:
        sink.close()
    out = pool.pairs[["sentence1", "sentence2"]].assign(score=scores)
    if args.threshold is not None:
        out["label"] = (out["score"] >= args.threshold).astype(int)
    _write_data(out, args.out)
    print(f"labeled {len(out):,} pairs (mean score {out['score'].mean():.3f}) -> {args.out}")
    return EXIT_OK


def _write_data(frame, out: str) -> None:
    """Write pairs meant for augsbert (the next command's input) exactly, as the run's own files are written; when
    some cells would be formulas in a spreadsheet, say so (a table meant for people goes through
    `safe_for_spreadsheet` instead, as label-errors' does)."""
    data.write_table(frame, out)
    risky = data.formula_cells(frame)
    if risky and str(out).lower().endswith((".csv", ".tsv")):
        print(
            f"note: {out}: {risky:,} cells start with = + - or @ and are written exactly (the file is data for "
            "augsbert); a spreadsheet would run them as formulas: import it as text, or write .jsonl/.parquet",
            file=sys.stderr,
        )


def _writable_path(path: str | Path, flag: str = "--out", *, folder: bool = False) -> None:
    """Before any work: `path` can be written as a file (not an existing folder) or, with `folder`, as a folder (not
    an existing file), and its nearest existing parent is a writable folder. ConfigError naming the flag."""
    target = Path(path)
    if folder and target.exists() and not target.is_dir():
        raise ConfigError(f"{flag} {target}: is a file; name a folder for the output")
    if not folder and target.is_dir():
        raise ConfigError(f"{flag} {target}: is a folder; name a file in it")
    parent = target.parent if not folder or not target.exists() else target
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{flag} {target}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {target}: the folder {parent} is not writable")


def _writable(path: str, flag: str = "--out") -> None:
    """Fail before the work when the output cannot be written (ConfigError: exit 2, naming the flag)."""
    try:
        data.check_writable_table(path, flag)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _cmd_label_errors(args) -> int:

    import tempfile  # noqa: PLC0415 - only this command needs a scratch folder

    cfg = ExperimentConfig.from_file(args.config, overrides=args.set)
    if cfg.scenario == 3:
        raise ConfigError("label-errors ranks gold train pairs: scenarios 1 and 2 (data.train)")
    if args.top < 0:
        raise ConfigError("--top must be 0 or more")
    _writable(args.out)
    data_ = load_experiment_data(cfg)
    device = choose_device(cfg.device)
    sink = _TqdmSink() if not args.no_progress else _PrintSink()
    # one training per device: with a run store (the app's configs name one) wait for the device like a run's worker
    lock = device_lock(RunStore(cfg.runs_dir), device) if cfg.runs_dir else contextlib.nullcontext()
    with lock, tempfile.TemporaryDirectory(prefix="augsbert-label-errors-", dir=args.work_dir) as work:
        try:
            table = find_label_errors(cfg, data_, work, device=device, sink=sink)
        finally:
            sink.close()
    data.write_table(data.safe_for_spreadsheet(table), args.out)  # a table for people: formula cells defused
    if args.top:
        shown = table.head(args.top).assign(
            sentence1=lambda t: t["sentence1"].str.slice(0, 40), sentence2=lambda t: t["sentence2"].str.slice(0, 40)
        )
        print(shown.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print(f"{len(table):,} gold pairs ranked -> {args.out}")
    return EXIT_OK


def _cmd_runs(args) -> int:

    store = RunStore(args.runs_dir)
    if args.rebuild_index:
        rows = store.rebuild_index()
        print(f"rebuilt {store.db_path}: {rows} run(s)", file=sys.stderr)
    records = store.list()  # read-only: runs whose process died show as interrupted without writing
    for line in ([store.note] if store.note else []) + store.problems:
        print(f"note: {line}", file=sys.stderr)
    recommended = {r.id: _recommended_of(r) for r in records}
    if args.json:
        print(dumps_json([{**r.to_dict(), "recommended": recommended[r.id]} for r in records], indent=2))
        return EXIT_OK
    if not records:
        print(f"no runs in {store.root}")
        return EXIT_OK

    width = max([16, *(len(str(r.sampler)) for r in records)])  # a mix's label is longer than a sampler's name
    print(f"{'id':<48} {'scenario':>8} {'sampler':<{width}} {'status':<11} {'created':<19} headline")
    for r in records:
        head = ", ".join(f"{k}={100 * v:.1f}" for k, v in r.headline.items() if isinstance(v, (int, float)))
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created_at))
        named = f"; recommended={recommended[r.id]}" if recommended[r.id] else ""  # appended: columns keep their place
        print(f"{r.id:<48} {r.scenario:>8} {str(r.sampler):<{width}} {r.status:<11} {created:<19} {head}{named}")
    return EXIT_OK


def _recommended_of(record) -> str | None:
    """The model a finished run recommends (metrics.json's `recommended`, computed for older runs), else None."""

    metrics = _read_metrics(record.dir) if record.status == "finished" else None
    return recommended_of(metrics, record.task) if metrics else None


def _cmd_cancel(args) -> int:

    store = RunStore(args.runs_dir)
    try:
        cancel(store, args.run_id)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"cancel requested for {args.run_id}")
    return EXIT_OK


def _cmd_report(args) -> int:
    """A RUN that is a directory is used as it is; else it is a run id in the run store."""

    _writable_path(args.out)
    dirs = [_run_dir(run, args.runs_dir) for run in args.runs]
    atomic_write_text(Path(args.out), build_report(dirs, title=args.title))
    print(args.out)
    return EXIT_OK


def _run_dir(run: str, runs_dir: str | None) -> Path:
    """A RUN argument: a directory as it is, else a run id in the run store (ConfigError naming it when unknown)."""
    if Path(run).is_dir():
        return Path(run)
    try:
        return Path(RunStore(runs_dir).get(run).dir)
    except KeyError as exc:
        raise ConfigError(exc.args[0]) from None


def _cmd_review(args) -> int:
    if args.review_command == "export":
        written = review_mod.export_review(_run_dir(args.run, args.runs_dir), args.format, args.out)
        print("\n".join(map(str, written)))
        return EXIT_OK
    summary = review_mod.import_review(args.file, _run_dir(args.run, args.runs_dir))
    print(
        f"{summary['format']} review read: {summary['reviewed']:,} pairs reviewed, {summary['wrong']:,} marked wrong, "
        f"{summary['corrected']:,} scores corrected (review.json)"
    )
    return EXIT_OK


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


def _cmd_export(args) -> int:
    run_dir = _run_dir(args.run, args.runs_dir)
    key = args.model or recommended_of(_read_metrics(run_dir) or {}, None) or "augsbert"
    folder = run_dir / RunFiles.MODELS / key
    if key in ("teacher", "teacher_warm", "ensemble"):
        raise ConfigError(f"--model {key}: the teacher is a cross-encoder; export a student (augsbert, gold_only, ...)")
    if not folder.is_dir():
        found = sorted(p.name for p in (run_dir / RunFiles.MODELS).glob("*") if p.is_dir() and "teacher" not in p.name)
        raise ConfigError(
            f"{run_dir.name}: no {key!r} student in {folder.parent} (found: {', '.join(found) or 'none'})"
        )
    export_mod.check_export(folder, args.format, args.out)  # before the work: format, extra, the --out folder
    out = export_mod.export_student(folder, args.format, args.out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{key} of {run_dir.name} as {args.format} -> {out} ({size / 1e6:,.1f} MB)")
    return EXIT_OK


def _cmd_export_mlflow(args) -> int:
    """RUN as for `report`: a directory as it is, else a run id in the run store. Prints one line per run."""

    dirs = [_run_dir(run, args.runs_dir) for run in args.runs]
    for run_dir in dirs:
        tracked = log_run(
            run_dir, tracking_uri=args.tracking_uri, experiment=args.experiment, log_model=args.log_model or None
        )
        print(
            f"{run_dir.name}: {'logged as' if tracked.created else 'updated'} MLflow run {tracked.run_id} "
            f"(experiment {tracked.experiment_id})"
        )
    return EXIT_OK


def _cmd_resume(args) -> int:

    store = RunStore(args.runs_dir)
    store.reconcile()
    try:
        record = store.get(args.run_id)
    except KeyError as exc:
        raise ConfigError(exc.args[0]) from None
    if record.status not in RESUMABLE:
        raise ConfigError(f"run {args.run_id} is {record.status}; only {', '.join(RESUMABLE)} runs can be resumed")
    if args.background:
        resume(store, args.run_id)
        print(f"resuming {args.run_id} in the background")
        return EXIT_OK
    run = store.run(args.run_id)
    cfg = ExperimentConfig.from_dict(run.read_json(RunFiles.CONFIG))
    return _run_in_foreground(cfg, store, run=run, resume=True)


def _cmd_worker(args) -> int:
    code = run_worker(args.run_id, RunStore(args.runs_dir), resume=args.resume)
    # the run's files are written (atomically, flushed); what is left are library threads and atexit hooks (a
    # tokenizer pool, a tracking client) that kept a finished worker alive for minutes: end the process now
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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


def _cmd_train(args) -> int:

    info = dist_info()
    _writable_path(args.out, folder=True)  # a model folder: before loading data or models
    gold = data.load_pairs(args.train, task=args.task)
    dev = data.load_pairs(args.dev, task=gold.task).frame if args.dev else None
    lr = args.lr if args.lr is not None else (5e-5 if args.role == "teacher" else 2e-5)
    if args.batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    cfg = ModelConfig(
        model=args.model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=lr,
        max_seq_length=args.max_seq_length,
        loss=args.loss,
    )
    log = print if info.is_main else (lambda *a, **k: None)
    log(f"training {args.role} on {len(gold.frame):,} pairs ({gold.task}) with {info.world_size} process(es)")
    train_distributed(
        args.role,
        gold.frame,
        cfg,
        args.out,
        task=gold.task,
        dev=dev,
        seed=args.seed,
        device=args.device,
        max_steps=args.max_steps,
        ddp_backend=args.ddp_backend,
        log=log,
    )
    print(f"rank {info.rank}/{info.world_size} finished", file=sys.stderr)
    if info.is_main:
        print(args.out)
    return EXIT_OK


def _cmd_silver(args) -> int:

    if args.top_k < 1 or args.chunk_size < 1:
        raise ConfigError("--top-k and --chunk-size must be at least 1")
    if not args.out.endswith(".csv"):
        raise ConfigError("--out must be a .csv file (it is written incrementally)")
    _writable_path(args.out)
    require_trained_cross_encoder(args.teacher)  # a bi-encoder folder: refused before sampling (Ray too)
    pool = data.load_unlabeled(args.sentences)
    gold = data.load_pairs(args.gold).frame if args.gold else None
    sentences = (list(gold["sentence1"]) + list(gold["sentence2"]) if gold is not None else []) + pool.sentences
    model = load_bi_encoder(args.model) if registry.sampler(args.sampler).needs_model else None
    if args.engine == "ray":
        total = ray_engine.ray_silver(
            sentences,
            args.sampler,
            args.top_k,
            args.teacher,
            args.out,
            work_dir=args.work_dir or f"{args.out}.shards",
            gold=gold,
            model=model,
            seed=args.seed,
            hnsw_threshold=args.hnsw_threshold,
            chunk_size=args.chunk_size,
            batch_size=args.batch_size,
            bm25_max_df=args.bm25_max_df,
            address=args.ray_address,
            workers=args.workers,
            gpus_per_worker=args.gpus_per_worker,
            sink=_TqdmSink(),
        )
        print(f"{total:,} silver pairs from {len(dict.fromkeys(sentences)):,} sentences -> {args.out} (Ray)")
        return EXIT_OK
    teacher = load_cross_encoder(args.teacher, trained=True)
    devices = [d for d in (args.devices or "").split(",") if d] or None
    total = stream_silver(
        sentences,
        args.sampler,
        args.top_k,
        teacher,
        args.out,
        gold=gold,
        model=model,
        seed=args.seed,
        hnsw_threshold=args.hnsw_threshold,
        chunk_size=args.chunk_size,
        batch_size=args.batch_size,
        backend=args.backend,
        devices=devices,
        bm25_max_df=args.bm25_max_df,
        sink=_PrintSink(),
    )
    print(f"{total:,} silver pairs from {len(dict.fromkeys(sentences)):,} sentences -> {args.out}")
    return EXIT_OK


class _TqdmSink:
    """Progress bars on stderr: one bar per stage with a total, messages printed between them."""

    def __init__(self) -> None:
        self.bar = None
        self.stage = None

    def __call__(self, event) -> None:

        if event.total and event.total > 0:
            if self.bar is None or self.stage != event.stage or self.bar.total != event.total:
                self.close()
                known = stages.BY_NAME.get(event.stage)
                self.bar = tqdm(
                    total=event.total,
                    desc=stages.title(event.stage),
                    unit=known.unit if known else "it",
                    file=sys.stderr,
                    dynamic_ncols=True,
                )
                self.stage = event.stage
            self.bar.n = event.step
            if event.loss is not None:
                self.bar.set_postfix(loss=f"{event.loss:.4f}", refresh=False)
            self.bar.refresh()
        elif event.kind == "message":
            self.close()
            print(f"[{event.stage}] {event.message}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _PrintSink(_TqdmSink):
    def __call__(self, event) -> None:
        if event.kind == "message" and not event.total:
            print(f"[{event.stage}] {event.message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
