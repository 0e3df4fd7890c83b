"""Plotly figures of the app (pure functions of frames: no streamlit here).

Plotly reads titles, legend entries and hover text as a subset of HTML (`<a href>`, `<b>`, `<br>`): every
text placed there goes through `html_escape` (run names, sentences and series names can be user text)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .metric_format import metric_value
from .security import html_escape

GOLD = "#F2A33A"
MODEL_COLORS = {
    "Zero-shot": "#9AA5B1",
    "Gold-only": "#4C78A8",
    "Teacher": "#E45756",
    "Teacher ensemble": "#FF9DA6",
    "Full gold (ceiling)": "#1D3557",
}
#: One colour per run (AugSBERT bars, silver series): hues at least 35 degrees apart, none a model's or gold's.
AUGSBERT_COLORS = ["#54A24B", "#8E6CCF", "#9D755D", "#17BECF", "#D62F9F", "#BCBD22"]
#: And one bar pattern per run, so runs stay apart in greyscale and for colour-blind readers.
RUN_PATTERNS = ["", "/", "x", ".", "\\", "+"]
SAMPLER_COLORS = {
    "bm25": "#4C78A8",
    "semantic": "#8E6CCF",
    "random": "#9AA5B1",
    "given": "#2CA58D",
    "augmented": "#54A24B",
}
_LAYOUT = dict(
    margin=dict(l=10, r=10, t=48, b=10),
    legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, title=None),
    bargap=0.08,
)


def _fig(title: str, **layout) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=dict(text=html_escape(title), x=0, font=dict(size=15)), **{**_LAYOUT, **layout})
    return fig


def label_histogram(
    labels: pd.Series, task: str, scale: Sequence[float] | None = None, title: str = "Labels"
) -> go.Figure:
    """Gold labels: a histogram of scores (on the file's scale) or a bar per class."""
    fig = _fig(title, height=280)
    if task == "classification":
        counts = labels.astype(int).value_counts().reindex([0, 1], fill_value=0)
        fig.add_bar(
            x=["0 · not similar", "1 · similar"],
            y=counts.to_numpy(),
            marker_color=[MODEL_COLORS["Gold-only"], GOLD],
            text=counts.to_numpy(),
            textposition="auto",
        )
        fig.update_yaxes(title="pairs")
        return fig
    low, high = scale or (0.0, 1.0)
    values = low + labels.astype(float) * (high - low)
    fig.add_histogram(
        x=values, xbins=dict(start=low, end=high + 1e-9, size=(high - low) / 20), marker_color=GOLD, name="gold"
    )
    fig.update_xaxes(title=f"score ({low:g}–{high:g})", range=[low, high])
    fig.update_yaxes(title="pairs")
    return fig


def length_histogram(sentences: pd.Series, title: str = "Sentence length") -> go.Figure:
    words = sentences.astype(str).str.count(r"\S+")
    fig = _fig(title, height=280)
    fig.add_histogram(x=words, nbinsx=40, marker_color=MODEL_COLORS["Gold-only"], name="sentences")
    fig.update_xaxes(title="words per sentence")
    fig.update_yaxes(title="sentences")
    return fig


def ks_label(ks: dict[str, float | None]) -> str:
    """'KS to gold: all candidates 0.21 · kept pairs 0.12' ('–' where unknown)."""

    def f(v: float | None) -> str:
        return "–" if v is None or v != v else f"{v:.2f}"

    return f"KS to gold: all candidates {f(ks.get('all'))} · kept pairs {f(ks.get('kept'))}"


def silver_vs_gold(
    silver: pd.DataFrame,
    gold: pd.Series | None,
    *,
    by: str = "sampler",
    title: str = "Silver labels vs gold",
    ks: dict[str, float | None] | None = None,
    scale: Sequence[float] | None = None,
) -> go.Figure:
    """Overlaid density histograms of scores stored on 0-1, drawn on the dataset's `scale` (e.g. (1, 5); 0-1
    without): gold, then one series per value of `by`.

    `ks` ({'all': ..., 'kept': ...}, Kolmogorov-Smirnov distances to gold) is written in the plot's top right corner."""
    fig = _fig(title, height=360, barmode="overlay")
    if ks:
        fig.add_annotation(
            text=ks_label(ks),
            xref="paper",
            yref="paper",
            x=0.99,
            y=0.98,
            xanchor="right",
            yanchor="top",
            showarrow=False,
            font=dict(size=12),
            bgcolor="rgba(255,255,255,0.75)",
            borderpad=3,
        )
    low, high = scale or (0.0, 1.0)
    bins = dict(start=low, end=high + 1e-9 * (high - low), size=0.05 * (high - low))
    if gold is not None and len(gold):
        fig.add_histogram(
            x=on_scale(gold, scale),
            xbins=bins,
            histnorm="percent",
            name=f"gold ({len(gold):,})",
            marker_color=GOLD,
            opacity=0.55,
        )
    for i, (name, group) in enumerate(silver.groupby(by, sort=True)):
        color = SAMPLER_COLORS.get(str(name), AUGSBERT_COLORS[i % len(AUGSBERT_COLORS)])
        fig.add_histogram(
            x=on_scale(group["score"], scale),
            xbins=bins,
            histnorm="percent",
            name=f"silver · {html_escape(name)} ({len(group):,})",
            marker_color=color,
            opacity=0.55,
        )
    fig.update_xaxes(title=f"score ({scale_text(scale)})", range=[low, high])
    fig.update_yaxes(title="% of pairs")
    return fig


def bucket_share(
    silver: pd.DataFrame,
    buckets: int = 5,
    title: str = "Share of pairs per score bucket",
    scale: Sequence[float] | None = None,
) -> tuple[go.Figure, pd.DataFrame]:
    """Share of each sampler's pairs per score bucket (scores stored on 0-1, buckets named on `scale`)."""
    edges = np.linspace(0, 1, buckets + 1)
    named = on_scale(pd.Series(edges), scale).tolist()
    labels = [f"{named[i]:.{_decimals(scale)}f}–{named[i + 1]:.{_decimals(scale)}f}" for i in range(buckets)]
    cut = pd.cut(silver["score"].astype(float).clip(0, 1), edges, labels=labels, include_lowest=True)
    table = (
        pd.DataFrame({"bucket": cut, "sampler": silver["sampler"]})
        .groupby(["bucket", "sampler"], observed=False)
        .size()
        .rename("pairs")
        .reset_index()
    )
    totals = table.groupby("sampler")["pairs"].transform("sum").replace(0, 1)
    table["share"] = table["pairs"] / totals
    fig = _fig(title, height=300, barmode="group")
    for i, (name, group) in enumerate(table.groupby("sampler", sort=True)):
        fig.add_bar(
            x=group["bucket"].astype(str),
            y=100 * group["share"],
            name=html_escape(name),
            marker_color=SAMPLER_COLORS.get(str(name), AUGSBERT_COLORS[i % len(AUGSBERT_COLORS)]),
            text=[f"{100 * v:.0f}%" for v in group["share"]],
            textposition="outside",
        )
    fig.update_yaxes(title="% of pairs", rangemode="tozero")
    fig.update_xaxes(title=f"teacher score ({scale_text(scale)})")
    return fig, table


def _decimals(scale: Sequence[float] | None) -> int:
    """Decimals for bucket edges: 1 on 0-1 or 0-5 (0.2, 1.0), 0 on wide scales such as 0-100."""
    low, high = scale or (0.0, 1.0)
    return 0 if high - low >= 20 else 1


STAGE_NAMES = {
    "teacher.train": "teacher",
    "teacher.warm": "teacher warm start",
    "gold_only.train": "gold-only student",
    "full_gold.train": "full-gold student",
    "augsbert.train": "AugSBERT student",
    "probe": "labeler probes",
}
STAGE_COLORS = {
    "teacher.train": MODEL_COLORS["Teacher"],
    "teacher.warm": MODEL_COLORS["Teacher ensemble"],
    "gold_only.train": MODEL_COLORS["Gold-only"],
    "full_gold.train": MODEL_COLORS["Full gold (ceiling)"],
    "augsbert.train": AUGSBERT_COLORS[0],
    "probe": AUGSBERT_COLORS[1],
}


def curve(frame: pd.DataFrame, y: str, title: str, y_title: str, *, percent: bool = False) -> go.Figure:
    """Lines per training stage on one axis (frame columns: stage, step, `y`): for numbers on one scale."""
    fig = _fig(title, height=300)
    for stage, group in frame.groupby("stage", sort=False):
        values = group[y].astype(float) * (100 if percent else 1)
        fig.add_scatter(
            x=group["step"],
            y=values,
            mode="lines+markers",
            name=html_escape(STAGE_NAMES.get(stage, stage)),
            line=dict(color=STAGE_COLORS.get(stage)),
            marker=dict(size=5),
        )
    fig.update_xaxes(title="training step")
    fig.update_yaxes(title=y_title)
    return fig


def loss_panels(frame: pd.DataFrame, title: str = "Training loss", columns: int = 3) -> go.Figure:
    """One panel per training stage (frame columns: stage, step, loss), each with its own y axis: a teacher's loss
    can be 50 times a student's, and on one shared axis the smaller curve would be a flat line."""
    stages = list(dict.fromkeys(frame["stage"])) or ["loss"]
    cols = max(1, min(len(stages), columns))
    rows = math.ceil(len(stages) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[html_escape(STAGE_NAMES.get(stage, stage)) for stage in stages],
        horizontal_spacing=0.07,
        vertical_spacing=min(0.3, 0.45 / rows),
    )
    for i, stage in enumerate(stages):
        group = frame[frame["stage"] == stage]
        fig.add_scatter(
            x=group["step"],
            y=group["loss"].astype(float),
            mode="lines+markers",
            name=html_escape(STAGE_NAMES.get(stage, stage)),
            line=dict(color=STAGE_COLORS.get(stage)),
            marker=dict(size=4),
            showlegend=False,
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_layout(
        title=dict(text=html_escape(title), x=0, font=dict(size=15)),
        **{**_LAYOUT, "margin": dict(l=10, r=10, t=72, b=10)},
        height=70 + 230 * rows,
    )
    fig.update_xaxes(title="training step")
    fig.update_yaxes(title="loss")
    return fig


def comparison_bars(rows: pd.DataFrame, metric_title: str) -> go.Figure:
    """Grouped bars: rows with columns series, split, value (fraction), color and (optional) pattern, one per run.
    The y axis starts at 0, so bar heights compare as the scores do."""
    n = rows["series"].nunique() if len(rows) else 0
    fig = _fig(
        f"{metric_title} by model (×100)",
        height=420 + 22 * (n // 4),
        barmode="group",
        # below the plot: a legend of many runs wraps onto rows that would cover the title above it
        legend=dict(orientation="h", yanchor="top", y=-0.1, x=0, title=None),
        margin=dict(l=10, r=10, t=48, b=10),
    )
    for series, group in rows.groupby("series", sort=False):
        pattern = str(group["pattern"].iloc[0]) if "pattern" in group and pd.notna(group["pattern"].iloc[0]) else ""
        fig.add_bar(
            x=group["split"],
            y=100 * group["value"],
            name=html_escape(series),
            marker=dict(color=group["color"].iloc[0], pattern=dict(shape=pattern, solidity=0.35)),
            text=[metric_value(v) for v in group["value"]],
            textposition="outside",
        )
    top = float(100 * rows["value"].max()) if len(rows) else 100.0
    low = float(100 * rows["value"].min()) if len(rows) else 0.0
    fig.update_yaxes(title=f"{metric_title} ×100", range=[min(0.0, low - 5), max(top + 8, 10.0)], rangemode="tozero")
    fig.update_xaxes(title=None)
    return fig


def score_vs_speed(rows: pd.DataFrame, metric_title: str) -> go.Figure:
    """Accuracy against speed: one marker per row of `runinfo.speed_rows` (series, value as a fraction,
    pairs_per_s, kind, color), pairs/s on a log x axis; cross-encoders are diamonds, bi-encoders circles."""
    fig = _fig(
        f"{metric_title} (×100) vs pairs scored per second",
        height=400,
        legend=dict(orientation="h", yanchor="top", y=-0.18, x=0, title=None),
    )
    for row in rows.itertuples(index=False):
        fig.add_scatter(
            x=[row.pairs_per_s],
            y=[100 * row.value],
            mode="markers+text",
            name=html_escape(row.series),
            text=[html_escape(row.series)],
            textposition="top center",
            marker=dict(
                color=row.color, size=14, symbol="diamond" if row.kind == "cross-encoder" else "circle", line_width=1
            ),
            hovertemplate=f"{html_escape(row.series)}<br>%{{x:,.0f}} pairs/s<br>%{{y:.2f}}<extra></extra>",
        )
    fig.update_xaxes(type="log", title="pairs/s (log scale; right is faster)")
    fig.update_yaxes(title=f"{metric_title} ×100 ({rows['split'].iloc[0] if len(rows) else 'test'})")
    return fig


def on_scale(values: pd.Series, scale: Sequence[float] | None) -> pd.Series:
    """Scores stored on 0-1 put back on the dataset's scale (e.g. 0-5); unchanged without a scale."""
    low, high = scale or (0.0, 1.0)
    return low + values.astype(float) * (high - low)


def scale_text(scale: Sequence[float] | None) -> str:
    """'0–5' for a dataset scored 0-5, '0–1' without a scale."""
    low, high = scale or (0.0, 1.0)
    return f"{low:g}–{high:g}"


def scatter_pred_gold(
    pred: pd.DataFrame, model: str, model_title: str, scale: Sequence[float] | None = None
) -> go.Figure:
    """Predicted similarity against gold, gold on the dataset's scale (`scale`, e.g. (0, 5); 0-1 without)."""
    fig = _fig(f"{model_title}: predicted vs gold (test)", height=420)
    gold = on_scale(pred["gold"], scale)
    text = [
        html_escape(str(a)[:80]) + "<br>" + html_escape(str(b)[:80])
        for a, b in zip(pred["sentence1"], pred["sentence2"])
    ]
    fig.add_scatter(
        x=gold,
        y=pred[model].astype(float),
        mode="markers",
        name=html_escape(model_title),
        marker=dict(size=6, opacity=0.6, color=AUGSBERT_COLORS[0]),
        hovertext=text,
        hoverinfo="text+x+y",
    )
    fig.update_xaxes(title=f"gold score ({scale_text(scale)})")
    fig.update_yaxes(title="predicted similarity")
    return fig


def distributions_side_by_side(
    series: dict[str, pd.Series], title: str = "Label distributions", scale: Sequence[float] | None = None
) -> go.Figure:
    """One violin per named sample (each stored on 0-1), drawn on the dataset's scale (`scale`) as gold is."""
    fig = _fig(title, height=380)
    low, high = scale or (0.0, 1.0)
    pad = 0.05 * (high - low)
    for i, (name, values) in enumerate(series.items()):
        color = GOLD if name.lower().startswith("gold") else AUGSBERT_COLORS[i % len(AUGSBERT_COLORS)]
        fig.add_violin(
            y=on_scale(values, scale),
            name=html_escape(name),
            box_visible=True,
            meanline_visible=True,
            line_color=color,
            fillcolor=color,
            opacity=0.6,
            points=False,
        )
    fig.update_yaxes(title=f"label / score ({scale_text(scale)})", range=[low - pad, high + pad])
    fig.update_layout(showlegend=False)
    return fig


def class_score_histograms(scores: pd.Series, gold: pd.Series, model_title: str, threshold: float | None) -> go.Figure:
    """A 0/1 task's predicted scores, one histogram per gold class, with the dev-chosen threshold as a line: how
    well the model separates the classes where it will be cut."""
    fig = _fig(f"{model_title}: predicted score by gold class (test)", height=380)
    for label, name, color in (
        (0, "gold 0 (not similar)", MODEL_COLORS.get("zero_shot", "#9AA5B1")),
        (1, "gold 1", GOLD),
    ):
        fig.add_histogram(
            x=scores[gold.astype(int) == label].astype(float),
            name=name,
            marker_color=color,
            opacity=0.65,
            xbins=dict(start=0, end=1.0001, size=0.025),
        )
    if threshold is not None and math.isfinite(threshold):
        fig.add_vline(x=threshold, line_dash="dash", annotation_text=f"threshold {threshold:.2f} (dev)")
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title="predicted score", range=[0, 1])
    fig.update_yaxes(title="test pairs")
    return fig


def confusion_heatmap(counts: dict[str, int], model_title: str, threshold: float) -> go.Figure:
    """The 2x2 confusion matrix at the threshold (rows: gold, columns: predicted), counts and row shares."""
    grid = [[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]]
    text = [[f"{v:,}<br>{v / max(1, sum(row)):.0%} of gold {i}" for v in row] for i, row in enumerate(grid)]
    fig = _fig(f"{model_title}: confusion at threshold {threshold:.2f} (test)", height=340)
    fig.add_heatmap(
        z=grid,
        x=["predicted 0", "predicted 1"],
        y=["gold 0", "gold 1"],
        text=text,
        texttemplate="%{text}",
        colorscale="Blues",
        showscale=False,
        hoverinfo="skip",
    )
    fig.update_yaxes(autorange="reversed")
    return fig


def pr_curves(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], recommended: str | None = None) -> go.Figure:
    """Precision-recall curves {title: (recall, precision, ap)}, the recommended model's line drawn thicker."""
    fig = _fig("Precision-recall (test)", height=380)
    for i, (name, (recall, precision, ap)) in enumerate(curves.items()):
        fig.add_scatter(
            x=recall,
            y=precision,
            mode="lines",
            name=html_escape(f"{name} (AP {metric_value(ap)})"),
            line=dict(width=4 if name == recommended else 2, color=AUGSBERT_COLORS[i % len(AUGSBERT_COLORS)]),
        )
    fig.update_xaxes(title="recall", range=[0, 1])
    fig.update_yaxes(title="precision", range=[0, 1.02])
    return fig
