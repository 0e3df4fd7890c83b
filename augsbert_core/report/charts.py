"""The stakeholder report's charts, as plotly figures embedded in its HTML: the metric bars across runs, the
predicted-against-gold scatter and the silver-against-gold label histogram."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..evaluation import MODEL_KEYS
from .view import (
    GOLD_COLOR,
    METRIC_TITLES,
    MODEL_TITLES,
    RUN_COLORS,
    SCATTER_POINTS,
    SILVER_COLOR,
    _gold_labels,
    _RunView,
    _silver_labels,
    esc,
)


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
