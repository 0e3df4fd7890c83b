"""A report of finished runs for stakeholders: one self-contained HTML file (`augsbert report`, the Compare page's
"Export report").

Per run: the headline metrics with the gain over gold-only, predicted vs gold on test, the silver labels against
the gold labels, the readiness gate's verdict, the datasets, date, device and config; across the runs a grouped
bar chart. It opens from disk with no server and no network: plotly.js is embedded once, inline, a
Content-Security-Policy forbids every fetch, and the fonts are the system's. Everything a run holds (names,
file names, messages, the config) is user text and is escaped."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import data as data_mod
from . import registry, stages
from .atomic import dumps_json
from .config import role_column_map
from .errors import AugsbertError, ConfigError
from .evaluation import (
    MODEL_KEYS,
    PRIMARY_METRIC,
    model_metrics,
    recommendation_of,
    recommended_of,
    schedule_label,
    schedules_of,
)
from .gate import PAGE_WORDS
from .runs import RunFiles, RunRecord, read_record, read_run_json, worked_seconds
from .speed import pairs_per_s, timing_note

MODEL_TITLES = {
    "zero_shot": "Zero-shot",
    "gold_only": "Gold-only",
    "augsbert": "AugSBERT",
    "full_gold": "Full gold (ceiling)",
    "teacher": "Teacher",
    "ensemble": "Teacher ensemble",
}
METRIC_TITLES = {
    "spearman": "Spearman",
    "ap": "Average precision",
    "f1": "F1",
    "precision": "Precision",
    "recall": "Recall",
    "accuracy": "Accuracy",
}
DATA_ROLES = ("train", "dev", "test", "unlabeled", "source_train", "source_dev", "full_train")
SCATTER_POINTS = 2_000  # test pairs drawn at most per scatter (a sample with a fixed seed beyond that)
RUN_COLORS = ["#54A24B", "#4C78A8", "#E45756", "#8E6CCF", "#F2A33A", "#2CA58D", "#B279A2", "#1F9BD1"]
GOLD_COLOR, SILVER_COLOR = "#F2A33A", "#4C78A8"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
# No fetch of any kind: scripts and styles only inline, images only from data: or blob: (plotly's PNG export).
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)
CSS = f"""
body {{ font-family: {FONT}; color: #1f2933; margin: 0 auto; max-width: 1100px; padding: 24px; line-height: 1.45; }}
h1 {{ font-size: 1.7em; margin-bottom: 0.2em; }}
h2 {{ border-bottom: 2px solid #e4e7eb; padding-bottom: 4px; margin-top: 2em; }}
h3 {{ margin-top: 1.5em; }}
table {{ border-collapse: collapse; margin: 0.6em 0; font-size: 0.95em; }}
th, td {{ border: 1px solid #d9dee3; padding: 4px 10px; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
th {{ background: #f3f5f7; }}
tr.recommended td {{ background: #eef8ec; font-weight: 600; }}
.muted {{ color: #616e7c; }}
.note {{ color: #616e7c; font-style: italic; }}
.badge {{ display: inline-block; border-radius: 10px; padding: 1px 9px; font-size: 0.85em; font-weight: 600; }}
.ready {{ background: #dff3dc; color: #22612a; }}
.weak {{ background: #fdecc8; color: #8a5300; }}
.unknown {{ background: #e4e7eb; color: #3e4c59; }}
pre {{ background: #f7f8fa; border: 1px solid #e4e7eb; padding: 10px; overflow-x: auto; font-size: 0.85em; }}
.plot {{ margin: 0.5em 0 1em; }}
"""


def esc(value: Any) -> str:
    """User text as HTML text (quotes too)."""
    return html.escape(str(value), quote=True)


@dataclass
class _RunView:
    """What the report shows of one finished run, read once from its directory."""

    dir: Path
    record: RunRecord
    config: dict[str, Any]
    metrics: dict[str, dict[str, dict[str, float]]]
    task: str
    recommended: str | None
    gate: dict[str, Any] | None
    silver_summary: dict[str, Any] | None
    fingerprints: dict[str, Any]
    device: str | None
    sizes: dict[str, int] = field(default_factory=dict)
    predictions: pd.DataFrame | None = None
    label: str = ""  # the run's name in charts (with its short id when two runs share a name)
    recommendation: dict[str, Any] | None = None  # metrics.json `recommendation`: the rule's record and reason
    schedules: dict[str, Any] = field(default_factory=dict)  # metrics.json `schedules`: each student's training
    dataset: str = ""  # the data's name in the title and the summary

    @property
    def primary(self) -> str:
        return PRIMARY_METRIC.get(self.task, "spearman")

    @property
    def baseline(self) -> str:
        """The model AugSBERT is measured against: gold-only, or zero-shot when the run has none (scenario 3)."""
        return "gold_only" if "gold_only" in self.metrics else "zero_shot"

    def value(self, model: str, split: str) -> float | None:
        v = (self.metrics.get(model) or {}).get(split, {}).get(self.primary)
        return float(v) if isinstance(v, (int, float)) else None


def build_report(run_dirs: list[Path], *, title: str | None = None, dataset: str | None = None) -> str:
    """One HTML document reporting the finished runs in `run_dirs`; ConfigError when one is no run directory or
    not finished (no metrics.json), RunFileError when one of its files is corrupt. `dataset` names the data in the
    title and the summary (the app passes its dataset's name); by default the data folder's name."""
    try:
        import plotly.io as pio  # noqa: PLC0415 - plotly is an app extra; the core imports without it
        from plotly.offline import get_plotlyjs  # noqa: PLC0415 - plotly is an app extra (see above)
    except ImportError:
        raise ConfigError("a report needs plotly (the app extra): pip install 'augsbert-studio[app]'") from None

    if not run_dirs:
        raise ConfigError("a report needs at least one finished run")
    runs = [_read_run(Path(d)) for d in run_dirs]
    names = [r.record.name for r in runs]
    for r in runs:
        r.label = r.record.name if names.count(r.record.name) == 1 else f"{r.record.name} ({r.record.id[-6:]})"
    for r in runs:
        r.dataset = dataset or _dataset_name(r)
    datasets = list(dict.fromkeys(r.dataset for r in runs))  # a title names the data, not a run id
    on = f" on {datasets[0]}" if len(datasets) == 1 else ""
    title = title or (f"{datasets[0]}: AugSBERT report" if len(runs) == 1 else f"AugSBERT report: {len(runs)} runs{on}")

    figures: list[str] = []

    def plot(fig) -> str:
        fig.update_layout(
            font=dict(family=FONT),
            template="plotly_white",
            margin=dict(l=10, r=10, t=84, b=10),
            title=dict(x=0, y=0.98, yanchor="top"),
            legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        )
        div = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,  # embedded once, in <head>
            div_id=f"plot-{len(figures) + 1}",
            default_width="100%",
            default_height=f"{fig.layout.height or 380}px",
            config={"displaylogo": False, "responsive": True},
        )
        figures.append(div)
        return f'<div class="plot">{div}</div>'

    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="muted">Generated {esc(time.strftime("%Y-%m-%d %H:%M"))} by AugSBERT Studio from '
        f"{len(runs)} finished run{'s' if len(runs) != 1 else ''}. Scores are ×100.</p>",
        "<h2>In short</h2>",
        *(_plain_summary(r, several=len(runs) > 1) for r in runs),
        "<h2>Headline</h2>",
        _summary_table(runs),
    ]
    for task in sorted({r.task for r in runs}):
        group = [r for r in runs if r.task == task]
        body.append(plot(_bars(group)))
    for r in runs:
        body.extend(_run_section(r, plot))
    head = (
        '<meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>{head}</head>\n<body>\n' + "\n".join(body) + "\n</body>\n</html>\n"
    )


# ------------------------------------------------------------------------------------------------ reading
def _read_run(run_dir: Path) -> _RunView:
    if not run_dir.is_dir() or not any((run_dir / n).is_file() for n in (RunFiles.RECORD, RunFiles.CONFIG)):
        raise ConfigError(f"{run_dir}: not a run directory (no {RunFiles.RECORD})")
    record = read_record(run_dir)
    raw = read_run_json(run_dir, RunFiles.METRICS)
    if not isinstance(raw, dict) or not model_metrics(raw):
        raise ConfigError(
            f"run {record.id} is not finished (status {record.status}, no {RunFiles.METRICS}): a report needs "
            "finished runs"
        )
    config = read_run_json(run_dir, RunFiles.CONFIG, {})
    metrics = model_metrics(raw)
    task = record.task or config.get("task") or _task_of(metrics)
    log = _read_log(run_dir)
    preds_path = run_dir / RunFiles.PREDICTIONS
    predictions = pd.read_csv(preds_path, keep_default_na=False) if preds_path.is_file() else None
    return _RunView(
        dir=run_dir,
        record=record,
        config=config,
        metrics=metrics,
        task=task,
        recommended=recommended_of(raw, task),
        recommendation=recommendation_of(raw),
        schedules=schedules_of(raw),
        gate=read_run_json(run_dir, RunFiles.GATE),
        silver_summary=read_run_json(run_dir, RunFiles.SILVER_SUMMARY),
        fingerprints=read_run_json(run_dir, RunFiles.FINGERPRINTS, {}),
        device=_logged_device(log),
        sizes=_logged_sizes(log),
        predictions=predictions,
    )


def _task_of(metrics: dict[str, dict[str, dict[str, float]]]) -> str:
    has_spearman = any("spearman" in v for per in metrics.values() for v in per.values() if isinstance(v, dict))
    return "regression" if has_spearman else "classification"


def _read_log(run_dir: Path) -> str:
    try:
        return (run_dir / RunFiles.LOG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _logged_device(log: str) -> str | None:
    """The device the run trained on, as the pipeline logged it ('[setup] device: CPU (2 cores)'); the last."""
    found = re.findall(rf"\[{re.escape(stages.SETUP)}\] device: ([^;\n]+)", log)
    return found[-1].strip() if found else None


def _logged_sizes(log: str) -> dict[str, int]:
    """Rows per data file as the pipeline logged them ('[data] task=...; dev=40, test=60, train=64, unlabeled
    sentences=60'), by role."""
    found = re.findall(rf"\[{re.escape(stages.DATA)}\] task=\w+; ([^\n]*)", log)
    sizes: dict[str, int] = {}
    for part in found[-1].split(", ") if found else []:
        key, _, value = part.partition("=")
        if value.strip().isdigit():
            sizes[key.strip().split(" ")[0]] = int(value)
    return sizes


def _data_path(run: _RunView, role: str) -> Path | None:
    value = (run.config.get("data") or {}).get(role)
    if not value:
        return None
    path = Path(value)
    if not path.is_absolute() and run.config.get("base_dir"):
        path = Path(run.config["base_dir"]) / path
    return path


def _silver_labels(run: _RunView) -> tuple[np.ndarray | None, str]:
    """The training labels of the kept silver pairs (scenario 1: the augmented pairs), and what they are."""
    for name, what in ((RunFiles.SILVER, "silver (kept)"), (RunFiles.AUGMENTED, "augmented")):
        path = run.dir / name
        if not path.is_file():
            continue
        frame = pd.read_csv(path, usecols=lambda c: c in ("label", "score", "kept"), keep_default_na=False)
        column = "label" if "label" in frame else "score"
        if column not in frame:
            return None, f"{name} has no label column"
        if "kept" in frame:
            frame = frame[frame["kept"].astype(str).str.lower().eq("true")]
        return pd.to_numeric(frame[column], errors="coerce").dropna().to_numpy(dtype=float), what
    return None, "this run has no silver pairs"


def _gold_labels(run: _RunView) -> tuple[np.ndarray | None, str]:
    """The gold labels silver is measured against: the train file's (normalised as the run saw them), or the dev
    split's from predictions.csv when the run had no training gold (scenario 3)."""
    path = _data_path(run, "train") if registry.gold_role(run.record.scenario) == "train" else None
    if path is not None:
        if not path.is_file():
            return None, f"gold train file {path.name} not found"
        recorded = run.fingerprints.get("train")
        if recorded and data_mod.fingerprint(path) != recorded:  # the chart would show today's file, not the run's
            return None, f"gold train file {path.name} changed since the run (its fingerprint differs)"
        data = run.config.get("data") or {}
        try:
            pairs = data_mod.load_pairs(
                path,
                column_map=role_column_map(data, "train"),
                scale=tuple(data["scale"]) if data.get("scale") else None,
            )
        except (AugsbertError, OSError, ValueError) as exc:
            return None, f"gold train file {path.name} could not be read ({' '.join(str(exc).split())[:200]})"
        run.sizes.setdefault("train", len(pairs))
        return pairs.frame["label"].to_numpy(dtype=float), "gold (train)"
    preds = run.predictions
    if preds is not None and "gold" in preds and (preds["split"] == "dev").any():
        dev_gold = pd.to_numeric(preds.loc[preds["split"] == "dev", "gold"], errors="coerce")
        return dev_gold.to_numpy(dtype=float), "gold (dev)"
    return None, "no gold labels to compare with"


# ------------------------------------------------------------------------------------------------ tables
def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"


def _models_of(run: _RunView) -> list[str]:
    order = [k for k in MODEL_KEYS if k in run.metrics] + [k for k in run.metrics if k not in MODEL_KEYS]
    if run.recommended in order:
        order.remove(run.recommended)
        order.insert(0, run.recommended)
    return order


def _when(record: RunRecord) -> str:
    stamp = record.finished_at or record.created_at
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "–"


GENERIC_FOLDERS = {"data", "workspace", "datasets", "files", "input", "inputs", "tmp"}
TASK_WORDS = {
    "regression": "similarity scores",
    "classification": "pairs labeled 0/1",
    "positive_pairs": "positive pairs only",
}


def _dataset_name(run: _RunView) -> str:
    """The dataset a run learned from, as a person names it: its data folder (the train file's, else the test
    file's), or the file's name when the folder is a generic one (the app's workspace `data/`)."""
    data = run.config.get("data") or {}
    path = data.get("train") or data.get("test")
    if not path:
        return run.record.name
    path = Path(str(path))
    return path.stem if path.parent.name.lower() in GENERIC_FOLDERS or not path.parent.name else path.parent.name


def _plain_summary(run: _RunView, several: bool = False) -> str:
    """The run in a few sentences for a stakeholder: the data, what was trained on how much, what is recommended
    and by how much (with the dev interval), its speed, and what to do next."""
    sizes, silver = run.sizes, (run.silver_summary or {}).get("kept")
    gold = sizes.get("train")
    trained = f"{gold:,} labeled pairs" if gold else "no labeled pairs of this domain"
    if isinstance(silver, int) and silver and "augsbert" in run.metrics:
        trained += f" and {silver:,} pairs the teacher labeled"
    metric = METRIC_TITLES.get(run.primary, run.primary)
    chosen = run.recommended or run.baseline
    title = MODEL_TITLES.get(chosen, chosen)
    rec = run.recommendation or {}
    gain, interval = _gain(run), rec.get("interval")
    if chosen == "augsbert" and gain is not None:
        verdict = f"<b>{esc(title)}</b>: {_fmt(gain, signed=True)} points of {esc(metric)} on test over the baseline"
        if isinstance(interval, list) and len(interval) == 2 and isinstance(rec.get("dev_gain"), (int, float)):
            low, high = interval
            verdict += (
                f" (on dev {_fmt(rec['dev_gain'], signed=True)}, 95% interval [{_fmt(low, True)}, {_fmt(high, True)}])"
            )
        step = "deploy the AugSBERT student (its folder: models/augsbert in the run; Download on the Training page)"
    else:
        verdict = f"<b>{esc(title)}</b>"
        if gain is not None:
            verdict += (
                f": the student trained with silver was {_fmt(gain, signed=True)} points of {esc(metric)} on test, "
                "not a gain that held on dev"
            )
        step = (
            f"keep the {esc(title.lower())} student, the cheaper one; silver pays most for a fast student far "
            "behind its teacher (student.model: static, or student.layers: 2) or with a stronger teacher"
        )
    speed = read_run_json(run.dir, RunFiles.SPEED)
    rate = pairs_per_s(speed, chosen) if isinstance(speed, dict) else None
    fast = f" It scores about {rate:,.0f} pairs per second on {esc(run.device or 'its device')}." if rate else ""
    who = f"<b>{esc(run.label)}</b>: " if several else ""
    data = f"<b>{esc(run.dataset or _dataset_name(run))}</b> ({esc(TASK_WORDS.get(run.task, run.task))})"
    return (
        f'<p class="summary">{who}On {data}, '
        f"the models learned from {trained}. Recommended: {verdict}.{fast} Next: {step}.</p>"
    )


def _gain(run: _RunView, split: str = "test") -> float | None:
    augsbert, base = run.value("augsbert", split), run.value(run.baseline, split)
    return None if augsbert is None or base is None else augsbert - base


def _summary_table(runs: list[_RunView]) -> str:
    rows = [
        "<table><thead><tr><th>run</th><th>scenario</th><th>sampler</th><th>metric (test)</th><th>baseline</th>"
        "<th>AugSBERT</th><th>gain</th><th>recommended</th><th>finished</th><th>device</th></tr></thead><tbody>"
    ]
    for r in runs:
        base = MODEL_TITLES.get(r.baseline, r.baseline)
        rows.append(
            f"<tr><td>{esc(r.label)}</td><td class='num'>{esc(r.record.scenario)}</td>"
            f"<td>{esc(r.record.sampler or '–')}</td><td>{esc(METRIC_TITLES.get(r.primary, r.primary))}</td>"
            f"<td>{esc(base)} {_fmt(r.value(r.baseline, 'test'))}</td>"
            f"<td class='num'>{_fmt(r.value('augsbert', 'test'))}</td>"
            f"<td class='num'>{_fmt(_gain(r), signed=True)}</td>"
            f"<td>{esc(MODEL_TITLES.get(r.recommended or '', r.recommended or '–'))}</td>"
            f"<td>{esc(_when(r.record))}</td><td>{esc(r.device or 'not recorded')}</td></tr>"
        )
    rows.append("</tbody></table>")
    rows.append(
        '<p class="muted">Gain: AugSBERT minus its baseline on test (gold-only; zero-shot in scenario 3, which has '
        "no gold-only student). Recommended: AugSBERT when a paired bootstrap over the dev pairs puts its gain over "
        "the baseline above zero at 95%, else the baseline (runs before that rule: the better on dev).</p>"
    )
    return "".join(rows)


def _metrics_table(run: _RunView) -> str:
    base_title = MODEL_TITLES.get(run.baseline, run.baseline)
    metric = esc(METRIC_TITLES.get(run.primary, run.primary))
    rows = [
        f"<table><thead><tr><th>model</th><th>dev {metric}</th><th>test {metric}</th>"
        f"<th>vs {esc(base_title)} (test)</th><th>schedule</th></tr></thead><tbody>"
    ]
    base = run.value(run.baseline, "test")
    for key in _models_of(run):
        test = run.value(key, "test")
        delta = None if key == run.baseline or test is None or base is None else test - base
        mark = key == run.recommended
        row_class = ' class="recommended"' if mark else ""
        rows.append(
            f"<tr{row_class}><td>{esc(MODEL_TITLES.get(key, key))}"
            f"{' ★ recommended' if mark else ''}</td><td class='num'>{_fmt(run.value(key, 'dev'))}</td>"
            f"<td class='num'>{_fmt(test)}</td><td class='num'>{_fmt(delta, signed=True)}</td>"
            f"<td>{esc(schedule_label(run.schedules.get(key)))}</td></tr>"
        )
    rows.append("</tbody></table>")
    why = (run.recommendation or {}).get("why")
    if why:
        title = MODEL_TITLES.get(run.recommended or "", run.recommended or "–")
        rows.append(f"<p>Recommended: <b>{esc(title)}</b>: {esc(why)}.</p>")
        notes = (run.recommendation or {}).get("notes")
        if isinstance(notes, list) and notes:  # how it squares with the other metrics and the gate
            rows.append("<ul>" + "".join(f"<li>{esc(str(n))}.</li>" for n in notes) + "</ul>")
    if run.task == "classification":
        rows.extend(_operating_points(run))
    if run.schedules:
        rows.append(
            '<p class="muted">Schedule: what each student\'s training got. "auto" students are evaluated on dev '
            "after every epoch and keep their best epoch, so AugSBERT is compared with a tuned baseline.</p>"
        )
    return "".join(rows)


def _operating_points(run: _RunView) -> list[str]:
    """A 0/1 task: each model at the threshold chosen on dev, on test (F1, precision, recall, accuracy), the numbers
    a deployment runs at, beside the threshold-free average precision of the table above."""
    names = ("f1", "precision", "recall", "accuracy")
    rows = [
        "<h3>At the threshold chosen on dev (test)</h3><table><thead><tr><th>model</th><th>threshold</th>"
        + "".join(f"<th>{esc(METRIC_TITLES.get(n, n))}</th>" for n in names)
        + "</tr></thead><tbody>"
    ]
    for key in _models_of(run):
        test = (run.metrics.get(key) or {}).get("test") or {}
        if "f1" not in test:
            continue
        threshold = test.get("threshold")
        row_class = ' class="recommended"' if key == run.recommended else ""
        rows.append(
            f"<tr{row_class}><td>{esc(MODEL_TITLES.get(key, key))}</td>"
            f"<td class='num'>{'–' if threshold is None else f'{threshold:.2f}'}</td>"
            + "".join(f"<td class='num'>{_fmt(test.get(n))}</td>" for n in names)
            + "</tr>"
        )
    rows.append("</tbody></table>")
    return rows if len(rows) > 2 else []


def _speed_block(run: _RunView) -> list[str]:
    """'Speed': each timed model's pairs/s next to its score on the timed split (speed.json); nothing without it."""
    speed = read_run_json(run.dir, RunFiles.SPEED)
    models = speed.get("models") if isinstance(speed, dict) else None
    if not isinstance(models, dict) or not models:
        return []
    metric = esc(METRIC_TITLES.get(run.primary, run.primary))
    rows = [
        f"<h3>Speed</h3><table><thead><tr><th>model</th><th>kind</th><th>{metric}</th><th>pairs/s</th></tr>"
        "</thead><tbody>"
    ]
    for key in sorted(models, key=lambda k: -(pairs_per_s(speed, k) or 0)):
        entry, rate = models[key], pairs_per_s(speed, key)
        split = entry.get("split", "test") if isinstance(entry, dict) else "test"
        rows.append(
            f"<tr><td>{esc(MODEL_TITLES.get(key, key))}</td><td>{esc(entry.get('kind', '–'))}</td>"
            f"<td class='num'>{_fmt(run.value(key, split))}</td>"
            f"<td class='num'>{'–' if rate is None else f'{rate:,.0f}'}</td></tr>"
        )
    rows.append("</tbody></table>")
    rows.append(
        f'<p class="note">Pairs of the {esc(speed.get("split") or "test")} split scored per second on '
        f"{esc(speed.get('device_name') or speed.get('device') or 'the run’s device')}, {esc(timing_note(speed))} "
        "(the teacher scores each pair in both orders). A bi-encoder can pre-compute a corpus' embeddings; a "
        "cross-encoder must score every pair, so it serves as a reranker of a short list.</p>"
    )
    return ["".join(rows[:-1]), rows[-1]]


def _datasets_table(run: _RunView) -> str:
    preds = run.predictions
    counted = preds["split"].value_counts().to_dict() if preds is not None and "split" in preds else {}
    rows = ["<table><thead><tr><th>role</th><th>file</th><th>rows</th><th>fingerprint</th></tr></thead><tbody>"]
    for role in DATA_ROLES:
        path = _data_path(run, role)
        if path is None:
            continue
        size = run.sizes.get(role, counted.get(role))
        rows.append(
            f"<tr><td>{esc(role)}</td><td>{esc(path.name)}</td>"
            f"<td class='num'>{'–' if size is None else f'{int(size):,}'}</td>"
            f"<td><code>{esc(run.fingerprints.get(role, '–'))}</code></td></tr>"
        )
    summary = run.silver_summary or {}
    if isinstance(summary.get("candidates"), int):
        rows.append(
            f"<tr><td>silver</td><td>{RunFiles.SILVER}</td><td class='num'>{int(summary.get('kept') or 0):,} kept "
            f"of {summary['candidates']:,}</td><td>–</td></tr>"
        )
    rows.append("</tbody></table>")
    if "unlabeled" in run.sizes:
        rows.append('<p class="muted">Rows of the unlabeled file: its unique sentences.</p>')
    return "".join(rows)


def _gate_block(run: _RunView) -> str:
    if not (gate := run.gate):
        augments = getattr(registry.scenario_of(run.record.scenario), "augments", False)
        why = "scenario 1 has no teacher gate" if augments else "this run has no gate.json"
        return f'<p class="note">No readiness verdict: {esc(why)}.</p>'
    verdict = str(gate.get("verdict") or "unknown")
    css = verdict if verdict in ("ready", "weak") else "unknown"
    parts = [f'<p><span class="badge {css}">teacher {esc(verdict)}</span> {esc(_gate_words(gate))}</p>']
    details = [
        (label, gate.get(key))
        for label, key in (("teacher", "teacher_model"), ("kind", "teacher_kind"), ("labeler", "labeler"))
        if gate.get(key)
    ]
    if isinstance(gate.get("lead"), (int, float)):
        details.append(("lead over the best student (dev)", f"{100 * gate['lead']:+.1f}"))
    if details:
        parts.append('<p class="muted">' + " · ".join(f"{esc(k)}: {esc(v)}" for k, v in details) + "</p>")
    return "".join(parts)


def _gate_words(gate: dict[str, Any]) -> str:
    """The gate's verdict in the app's words: its summary, then what to try as the Scenario page names each option
    (gate.PAGE_WORDS), not the CLI's config keys; the stored message for gates written before `summary`."""
    summary, options = gate.get("summary"), gate.get("options")
    if not isinstance(summary, str) or not summary:
        return str(gate.get("message") or "")
    words = [PAGE_WORDS[o] for o in options or [] if o in PAGE_WORDS]
    return summary + (". What to try: " + "; ".join(words) + "." if words else ("" if summary.endswith(".") else "."))


# ------------------------------------------------------------------------------------------------ figures
def _bars(runs: list[_RunView]):
    """Grouped bars: the models on x, one bar per run, the primary metric on test (dev where no run has test)."""
    import plotly.graph_objects as go  # noqa: PLC0415 - plotly is an app extra; the core imports without it

    split = "test" if any(r.value(k, "test") is not None for r in runs for k in r.metrics) else "dev"
    keys = [k for k in MODEL_KEYS if any(k in r.metrics for r in runs)]
    keys += sorted({k for r in runs for k in r.metrics} - set(keys))
    metric = METRIC_TITLES.get(runs[0].primary, runs[0].primary)
    fig = go.Figure()
    for i, r in enumerate(runs):
        values = [r.value(k, split) for k in keys]
        fig.add_bar(
            x=[MODEL_TITLES.get(k, esc(k)) for k in keys],
            y=[None if v is None else round(100 * v, 2) for v in values],
            name=esc(r.label),
            marker_color=RUN_COLORS[i % len(RUN_COLORS)],
            # the run's recommended model stands out: a dark outline, and a star on its value
            marker_line_color="#1B2430",
            marker_line_width=[3 if k == r.recommended else 0 for k in keys],
            text=[
                "" if v is None else f"{100 * v:.1f}" + (" ★" if k == r.recommended else "")
                for k, v in zip(keys, values)
            ],
            textposition="outside",
        )
    fig.update_layout(
        title=dict(text=f"{esc(metric)} on {split} (×100) by model and run (★ recommended)", x=0),
        barmode="group",
        height=420,
    )
    fig.update_yaxes(title=esc(metric), rangemode="tozero")
    return fig


def _scatter(run: _RunView):
    """Predicted vs gold on test for the recommended model (and AugSBERT when it is not the one recommended);
    for classification the predicted scores of each gold class. None (and why) when there is nothing to draw."""
    import plotly.graph_objects as go  # noqa: PLC0415 - plotly is an app extra; the core imports without it

    preds = run.predictions
    if preds is None or "split" not in preds or "gold" not in preds:
        return None, "This run has no predictions.csv."
    test = preds[preds["split"] == "test"]
    models = [m for m in dict.fromkeys([run.recommended, "augsbert"]) if m and m in test.columns]
    if test.empty or not models:
        return None, "predictions.csv has no test predictions of the recommended or AugSBERT model."
    shown = test.sample(SCATTER_POINTS, random_state=0) if len(test) > SCATTER_POINTS else test
    note = f"{len(shown):,} of {len(test):,} test pairs shown." if len(shown) < len(test) else ""
    gold = pd.to_numeric(shown["gold"], errors="coerce")
    fig = go.Figure()
    for i, model in enumerate(models):
        name = MODEL_TITLES.get(model, esc(model)) + (" (recommended)" if model == run.recommended else "")
        predicted = pd.to_numeric(shown[model], errors="coerce")
        if run.task == "classification":
            for label, color in ((1, GOLD_COLOR), (0, SILVER_COLOR)):
                fig.add_histogram(
                    x=predicted[gold == label],
                    name=f"{name}: gold {label}",
                    opacity=0.6,
                    marker_color=color if i == 0 else RUN_COLORS[(2 * i + label) % len(RUN_COLORS)],
                    xbins=dict(start=-1.0, end=1.0001, size=0.05),
                )
        else:
            low, high = (run.config.get("data") or {}).get("scale") or (0.0, 1.0)
            fig.add_scatter(
                x=low + gold * (high - low),
                y=predicted,
                mode="markers",
                name=name,
                marker=dict(size=5, opacity=0.55, color=RUN_COLORS[i % len(RUN_COLORS)]),
            )
    if run.task == "classification":
        fig.update_layout(barmode="overlay", title=dict(text="Predicted scores by gold class (test)", x=0))
        fig.update_xaxes(title="predicted score")
        fig.update_yaxes(title="pairs")
    else:
        low, high = (run.config.get("data") or {}).get("scale") or (0.0, 1.0)
        fig.update_layout(title=dict(text="Predicted vs gold (test)", x=0))
        fig.update_xaxes(title=f"gold score ({float(low):g}–{float(high):g})")
        fig.update_yaxes(title="predicted similarity")
    fig.update_layout(height=400)
    return fig, note


def _silver_histogram(run: _RunView):
    """The kept silver labels against the gold labels, each as a share of its pairs (bins computed here: a
    million silver pairs stay a few numbers in the file). None (and why) when one of them is missing."""
    import plotly.graph_objects as go  # noqa: PLC0415 - plotly is an app extra; the core imports without it

    silver, silver_what = _silver_labels(run)
    gold, gold_what = _gold_labels(run)
    if silver is None or not len(silver):
        return None, f"No silver-label histogram: {silver_what if silver is None else 'no kept silver pairs'}."
    if gold is None:
        return None, f"No silver-label histogram: {gold_what}."
    edges = np.array([-0.5, 0.5, 1.5]) if run.task == "classification" else np.linspace(0.0, 1.0, 21)
    centers = ["0 · not similar", "1 · similar"] if run.task == "classification" else (edges[:-1] + edges[1:]) / 2
    fig = go.Figure()
    for values, what, color in ((gold, gold_what, GOLD_COLOR), (silver, silver_what, SILVER_COLOR)):
        counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
        share = 100 * counts / max(1, len(values))
        fig.add_bar(x=centers, y=np.round(share, 2), name=f"{what} ({len(values):,})", marker_color=color)
    ks = (run.silver_summary or {}).get("ks_kept_vs_gold")
    title = "Silver labels vs gold" + (f" (KS distance {ks:.2f})" if isinstance(ks, (int, float)) else "")
    fig.update_layout(
        title=dict(text=title, x=0),
        barmode="group",
        bargap=0.12,
        height=360,
    )
    fig.update_xaxes(title="label" if run.task == "classification" else "label (normalised 0–1)")
    fig.update_yaxes(title="% of pairs", rangemode="tozero")
    return fig, ""


def _run_section(run: _RunView, plot) -> list[str]:
    r = run.record
    seconds = worked_seconds(r) if r.finished_at and r.started_at else None  # every attempt of a resumed run
    duration = f" · {seconds / 60:.1f} min" if seconds is not None else ""
    out = [
        f"<h2>{esc(run.label)}</h2>",
        f'<p class="muted">run {esc(r.id)} · scenario {esc(r.scenario)} · sampler {esc(r.sampler or "–")} · '
        f"task {esc(run.task)} · finished {esc(_when(r))}{esc(duration)} · "
        f"device {esc(run.device or 'not recorded')}</p>",
        "<h3>Metrics</h3>",
        _metrics_table(run),
    ]
    gain = _gain(run)
    if gain is not None:
        base = MODEL_TITLES.get(run.baseline, run.baseline)
        out.append(f"<p>AugSBERT vs {esc(base)} on test: <b>{_fmt(gain, signed=True)}</b> points.</p>")
    out.extend(_speed_block(run))
    out.append("<h3>Teacher readiness</h3>")
    out.append(_gate_block(run))
    for fig_and_note in (_scatter(run), _silver_histogram(run)):
        fig, note = fig_and_note
        if fig is not None:
            out.append(plot(fig))
        if note:
            out.append(f'<p class="note">{esc(note)}</p>')
    out.append("<h3>Datasets</h3>")
    out.append(_datasets_table(run))
    out.append(
        "<details><summary>Appendix: the run's config</summary>"
        f"<pre>{esc(dumps_json(run.config, indent=2, ensure_ascii=False))}</pre></details>"
    )
    return out
