"""A report of finished runs for stakeholders: one self-contained HTML file (`augsbert report`, the Compare page's
"Export report").

Per run: the headline metrics with the gain over gold-only, predicted vs gold on test, the silver labels against
the gold labels, the readiness gate's verdict, the datasets, date, device and config; across the runs a grouped
bar chart. It opens from disk with no server and no network: plotly.js is embedded once, inline, a
Content-Security-Policy forbids every fetch, and the fonts are the system's. Everything a run holds (names,
file names, messages, the config) is user text and is escaped."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .. import registry
from ..atomic import dumps_json
from ..errors import ConfigError
from ..evaluation import schedule_label
from ..runs import RunFiles, worked_seconds
from ..speed import pairs_per_s, timing_note
from ..teacher.gate import PAGE_WORDS
from .charts import (  # noqa: F401 - re-exported: importers keep their old home
    _bars,
    _scatter,
    _silver_histogram,
)
from .view import (  # noqa: F401 - re-exported: importers keep their old home
    DATA_ROLES,
    FONT,
    GOLD_COLOR,
    METRIC_TITLES,
    MODEL_TITLES,
    RUN_COLORS,
    SCATTER_POINTS,
    SILVER_COLOR,
    _data_path,
    _fmt,
    _gain,
    _models_of,
    _read_run,
    _RunView,
    _when,
    esc,
)

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
    speed = run.speed
    rate = pairs_per_s(speed, chosen) if isinstance(speed, dict) else None
    fast = f" It scores about {rate:,.0f} pairs per second on {esc(run.device or 'its device')}." if rate else ""
    who = f"<b>{esc(run.label)}</b>: " if several else ""
    data = f"<b>{esc(run.dataset or _dataset_name(run))}</b> ({esc(TASK_WORDS.get(run.task, run.task))})"
    return (
        f'<p class="summary">{who}On {data}, '
        f"the models learned from {trained}. Recommended: {verdict}.{fast} Next: {step}.</p>"
    )


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
    speed = run.speed
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
    # the silver labels' labeler is the silver stage's (silver_summary.json); runs before it wrote it into gate.json
    facts = {**gate, "labeler": gate.get("labeler") or (run.silver_summary or {}).get("labeler")}
    details = [
        (label, facts.get(key))
        for label, key in (("teacher", "teacher_model"), ("kind", "teacher_kind"), ("labeler", "labeler"))
        if facts.get(key)
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
