"""Experiment tracking: the trainers' `report_to` for each `tracking` choice, and a finished run as one MLflow run.

`tracking: mlflow` logs every finished run once, after metrics.json: params = the resolved config flattened
(`student.epochs`), metrics = metrics.json per model and split (`augsbert.test.spearman`) plus the training curves
from events.jsonl (`gold_only.train.loss` per step) and seconds per step, tags = `augsbert.run_id`, scenario,
sampler, task, gate verdict and recommended model, artifacts = config.json, metrics.json, silver_summary.json,
gate.json, the HTML report (with plotly) and, with `tracking_log_model`, the recommended student model.
An MLflow run is found again by its `augsbert.run_id` tag: exporting a run twice updates one MLflow run.

Where: `MLFLOW_TRACKING_URI` when set, else `sqlite:///$AUGSBERT_HOME/mlflow.db` with artifacts in
`$AUGSBERT_HOME/mlartifacts` (mlflow 3 refuses a `file:` store unless MLFLOW_ALLOW_FILE_STORE=true).
mlflow is an optional extra, imported only here and only when used."""

from __future__ import annotations

import json
import math
import os
import re
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .atomic import dumps_json
from .config import ConfigError, ExperimentConfig, tracking_missing
from .evaluation import model_metrics, recommended_of
from .models import is_saved_model
from .report import build_report
from .runs import Run, RunFiles, read_record
from .runs.progress import event_kind

DEFAULT_EXPERIMENT = "augsbert"
RUN_ID_TAG = "augsbert.run_id"
URI_ENV = "MLFLOW_TRACKING_URI"
HOME_ENV = "AUGSBERT_HOME"
DB_NAME, ARTIFACTS_NAME = "mlflow.db", "mlartifacts"
MAX_PARAM_CHARS = 6000  # MLflow's limit on a param's value; longer values are cut and end with "..."
MAX_KEY_CHARS = 250  # MLflow's limit on a param or metric name
ARTIFACT_FILES = (RunFiles.CONFIG, RunFiles.METRICS, RunFiles.SILVER_SUMMARY, RunFiles.GATE, RunFiles.METRICS_TXT)
REPORT_NAME = "report.html"
PROBE_SECONDS = 5.0  # how long a tracking server has to answer before the command says it does not
# MLflow's HTTP client limits while logging (it defaults to 120 s per request and several retries with backoff)
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "20", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2"}
# mlflow: the trainers report nothing; the run is logged once when finished (HF's own MLflow callback would open
# one MLflow run per training, in a store of its own choosing)
_TRAINER_REPORT_TO = {"none": "none", "mlflow": "none", "tensorboard": "tensorboard", "wandb": "wandb"}


def trainer_report_to(choice: str) -> str:
    """The sentence-transformers trainers' `report_to` for a `tracking` choice."""
    return _TRAINER_REPORT_TO[choice]


@dataclass
class TrackedRun:
    """Where a run was logged: the MLflow run and experiment ids, the tracking URI, and whether it is new."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    created: bool


# --- what is logged (plain data: no mlflow needed) --------------------------------------------------------------


def _key(name: str) -> str:
    """An MLflow param/metric name: letters, digits and _ - . / space kept, any other character escaped as
    `_x<hex>_` (a column named 中文 is `_x4e2d__x6587_`, `q #1` is `q _x23_1`): escaped, not replaced, so two
    names do not become one (flatten refuses the rare pair that still would)."""
    return re.sub(r"[^A-Za-z0-9_\-./ ]", lambda m: f"_x{ord(m.group(0)):x}_", name)[:MAX_KEY_CHARS]


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """A nested config as {dotted.key: text}: strings as they are, everything else as JSON (null, 2, [0, 5]).
    ConfigError when two keys still land on one name (past MAX_KEY_CHARS): a param is never lost silently."""
    if isinstance(value, dict) and value:
        out: dict[str, str] = {}
        for key, inner in value.items():
            for name, text in flatten(inner, f"{prefix}.{key}" if prefix else str(key)).items():
                if name in out:
                    raise ConfigError(f"MLflow param {name!r}: two config keys map to it; shorten one of them")
                out[name] = text
        return out
    text = value if isinstance(value, str) else dumps_json(value)
    if len(text) > MAX_PARAM_CHARS:
        text = text[: MAX_PARAM_CHARS - 3] + "..."
    return {_key(prefix): text}


def run_params(config: dict[str, Any]) -> dict[str, str]:
    """The resolved config (config.json) as MLflow params; `base_dir` (a path on the machine that ran it) left out."""
    return flatten({k: v for k, v in config.items() if k != "base_dir"})


def run_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """metrics.json as {model.split.metric: value} (`augsbert.test.spearman`), finite numbers only."""
    out = {}
    for model, per_split in model_metrics(metrics).items():
        for split, values in per_split.items():
            for name, value in (values or {}).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    out[_key(f"{model}.{split}.{name}")] = float(value)
    return out


def run_tags(run_dir: Path) -> dict[str, str]:
    """The run's identity and verdicts: run id, name, scenario, sampler, task, gate verdict, recommended model."""
    record, run = read_record(run_dir), Run.at(run_dir)
    config, gate, metrics = (run.read_json(name, {}) for name in (RunFiles.CONFIG, RunFiles.GATE, RunFiles.METRICS))
    task = record.task or config.get("task")
    tags = {
        RUN_ID_TAG: record.id,
        "augsbert.name": record.name,
        "augsbert.scenario": str(record.scenario),
        "augsbert.sampler": str(record.sampler or config.get("sampler") or ""),
        "augsbert.task": str(task or ""),
        "augsbert.gate": str(gate.get("verdict") or "none"),
        "augsbert.recommended": str(recommended_of(metrics, task) or ""),
        "augsbert.status": record.status,
    }
    return {k: v for k, v in tags.items() if v}


def training_curves(run_dir: Path) -> list[tuple[str, float, int, int]]:
    """(metric, value, step, time in ms) of every trainer loss and evaluation in events.jsonl:
    `<stage>.loss` and `<stage>.<eval metric>` (e.g. `augsbert.train.eval_dev_spearman_cosine`)."""
    path = run_dir / RunFiles.EVENTS
    if not path.is_file():
        return []
    points = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line of a killed run: the rest is still good
            if not isinstance(event, dict) or not isinstance(event.get("stage"), str):
                continue
            kind, stage = event_kind(event), event["stage"]
            step, stamp = int(event.get("step") or 0), int(1000 * float(event.get("time") or 0))
            values = {}
            if kind == "log" and isinstance(event.get("loss"), (int, float)):
                values["loss"] = event["loss"]
            elif kind == "eval" and isinstance(event.get("metrics"), dict):
                values = event["metrics"]
            for name, value in values.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    points.append((_key(f"{stage}.{name}"), float(value), step, stamp))
    return points


def stage_seconds(run_dir: Path) -> dict[str, float]:
    """timings.json as {seconds.<step>: seconds}."""
    timings = Run.at(run_dir).read_json(RunFiles.TIMINGS, {})
    return {
        _key(f"seconds.{k}"): float(v)
        for k, v in timings.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


# --- where --------------------------------------------------------------------------------------------------------


def workspace_home() -> Path:
    """$AUGSBERT_HOME, else ./workspace (as studio.workspace.home)."""
    return Path(os.environ.get(HOME_ENV) or "workspace").expanduser().resolve()


def default_tracking_uri() -> str:
    """MLFLOW_TRACKING_URI when set, else a SQLite store in the workspace (created on first use)."""
    uri = os.environ.get(URI_ENV)
    if uri:
        return uri
    home = workspace_home()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / DB_NAME}"


def artifact_location(tracking_uri: str) -> str | None:
    """Where a new experiment keeps its artifacts: `mlartifacts` beside a SQLite store (MLflow's own default is
    ./mlruns in whatever folder the process runs in); for any other store, the store decides (None)."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    db = tracking_uri.removeprefix("sqlite:///")
    if not db or db == ":memory:":
        return None
    return (Path(db).expanduser().resolve().parent / ARTIFACTS_NAME).as_uri()


def _require_mlflow() -> None:
    """ConfigError with the pip command when mlflow (or the SQLite store's libraries) is not installed."""
    missing = tracking_missing("mlflow")
    if missing:
        raise ConfigError(f"tracking: mlflow needs packages that are not installed: {missing}")


def _experiment_id(client, name: str, tracking_uri: str) -> str:
    """The id of the experiment `name`, created (with its artifact location) or restored when needed."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415 - optional extra (see _require_mlflow)

    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.create_experiment(name, artifact_location=artifact_location(tracking_uri))
        except MlflowException:  # created by another process meanwhile
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
    if experiment.lifecycle_stage == "deleted":
        client.restore_experiment(experiment.experiment_id)
    return experiment.experiment_id


# --- logging --------------------------------------------------------------------------------------------------------


def log_run(
    run_dir: str | Path,
    *,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    log_model: bool | None = None,
    report: bool = True,
) -> TrackedRun:
    """Log the finished run in `run_dir` as one MLflow run, or update the MLflow run tagged with its run id.

    `experiment` / `log_model` default to the run's `tracking_experiment` / `tracking_log_model`. ConfigError when
    `run_dir` is no finished run or mlflow is missing; RunFileError when a run file is corrupt."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or (
        not (run_dir / RunFiles.RECORD).is_file() and not (run_dir / RunFiles.CONFIG).is_file()
    ):
        raise ConfigError(f"{run_dir}: not a run directory (no {RunFiles.RECORD})")
    run = Run.at(run_dir)
    if not model_metrics(run.read_json(RunFiles.METRICS, {})):
        raise ConfigError(f"run {run_dir.name} is not finished (no {RunFiles.METRICS}): only finished runs are logged")
    config = run.read_json(RunFiles.CONFIG, {})
    read_record(run_dir)  # a corrupt run.json: RunFileError before anything is logged
    _require_mlflow()
    from mlflow.exceptions import MlflowException  # noqa: PLC0415 - optional extra (see _require_mlflow)

    uri = tracking_uri or default_tracking_uri()
    check_server(uri)
    for name, value in HTTP_LIMITS.items():  # a server that answers slowly: seconds, not MLflow's minutes of retries
        os.environ.setdefault(name, value)
    try:
        return _log(
            run_dir, uri, experiment or config.get("tracking_experiment") or DEFAULT_EXPERIMENT, log_model, report
        )
    except MlflowException as exc:  # a store that cannot be reached, read or written: say which, and why
        message = " ".join(str(exc).split())
        raise ConfigError(f"MLflow tracking URI {_shown(uri)}: {message[:600]}") from None


def _log(run_dir: Path, uri: str, experiment: str, log_model: bool | None, report: bool) -> TrackedRun:
    """log_run's work, against the store at `uri`."""
    from mlflow.entities import Metric, Param, RunTag  # noqa: PLC0415 - optional extra (see _require_mlflow)
    from mlflow.tracking import MlflowClient  # noqa: PLC0415 - optional extra (see _require_mlflow)

    run = Run.at(run_dir)
    metrics_raw, config = run.read_json(RunFiles.METRICS, {}), run.read_json(RunFiles.CONFIG, {})
    record = read_record(run_dir)
    tags = run_tags(run_dir)
    client = MlflowClient(tracking_uri=uri)
    experiment_id = _experiment_id(client, experiment, uri)
    found = client.search_runs(
        [experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{record.id}'", max_results=1, order_by=["start_time"]
    )
    started = int(1000 * (record.started_at or record.created_at or 0)) or None
    if found:
        mlflow_run = client.get_run(found[0].info.run_id)
    else:
        mlflow_run = client.create_run(experiment_id, start_time=started, tags=tags, run_name=f"{record.name}")
    run_id = mlflow_run.info.run_id
    logged_params, logged_metrics = mlflow_run.data.params, mlflow_run.data.metrics
    stamp = int(1000 * (record.finished_at or os.path.getmtime(run_dir / RunFiles.METRICS)))
    # params cannot change once logged: an update adds only new ones
    params = [Param(k, v) for k, v in run_params(config).items() if k not in logged_params]
    finals = {**run_metrics(metrics_raw), **stage_seconds(run_dir)}
    points = [Metric(k, v, stamp, 0) for k, v in finals.items() if logged_metrics.get(k) != v]
    points += [Metric(k, v, t or stamp, s) for k, v, s, t in training_curves(run_dir) if k not in logged_metrics]
    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    for i in range(0, len(params), 100):  # MLflow takes at most 100 params and 1000 metrics per call
        client.log_batch(run_id, params=params[i : i + 100])
    for i in range(0, len(points), 1000):
        client.log_batch(run_id, metrics=points[i : i + 1000])
    for name in ARTIFACT_FILES:
        if (run_dir / name).is_file():
            client.log_artifact(run_id, str(run_dir / name))
    if report:
        _log_report(client, run_id, run_dir)
    if log_model if log_model is not None else bool(config.get("tracking_log_model")):
        key = recommended_of(metrics_raw, record.task)
        folder = run_dir / RunFiles.MODELS / str(key)
        if not is_saved_model(folder):
            key, folder = "augsbert", run_dir / RunFiles.MODELS / "augsbert"
        if folder.is_dir():
            client.log_artifacts(run_id, str(folder), artifact_path=f"model/{key}")
    client.set_terminated(run_id, status="FINISHED", end_time=stamp)
    return TrackedRun(run_id, experiment_id, uri, created=not found)


def _log_report(client, run_id: str, run_dir: Path) -> None:
    """The stakeholder HTML report as an artifact, when it can be built (it needs plotly, the app extra)."""
    try:
        html = build_report([run_dir])
    except ConfigError:  # no plotly here: the run is logged without its report
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / REPORT_NAME
        path.write_text(html, encoding="utf-8")
        client.log_artifact(run_id, str(path))


def track_finished_run(run: Run, cfg: ExperimentConfig) -> str:
    """`tracking: mlflow`: log the finished `run` and return a line for its log. A failure never fails the run: the
    line is then a warning with the command that retries it."""
    if cfg.tracking != "mlflow":
        return ""
    try:
        tracked = log_run(run.dir, experiment=cfg.tracking_experiment, log_model=cfg.tracking_log_model)
    except Exception as exc:  # noqa: BLE001 - tracking must never lose a finished run
        return (
            f"warning: logging to MLflow failed ({type(exc).__name__}: {' '.join(str(exc).split())[:500]}); the run "
            f"is finished and kept; retry with `augsbert export-mlflow {run.id}`"
        )
    where = _shown(tracked.tracking_uri)
    return f"logged to MLflow ({where}): experiment {tracked.experiment_id}, run {tracked.run_id}"


def check_server(uri: str, timeout: float = PROBE_SECONDS) -> None:
    """An http(s) tracking server must answer a TCP connection within `timeout` seconds (ConfigError saying so):
    MLflow's own client waits and retries for minutes, in silence. Other stores (sqlite, file) are local."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ConfigError(
            f"MLflow tracking URI {_shown(uri)} does not answer ({reason} within {timeout:g} s): start the server, or "
            f"fix {URI_ENV} / --tracking-uri"
        ) from None


def _shown(uri: str) -> str:
    """A tracking URI without any password in it (user:password@host)."""
    return re.sub(r"//[^/@]*:[^/@]*@", "//***@", uri)
