"""'Try it' on the Training and Compare pages: two sentences scored by every model of a finished run, side by side
(with the 0/1 verdict at each model's dev-chosen threshold), and the test pairs where AugSBERT fixed its baseline's
mistakes, or made new ones. The scoring is the core's (augsbert_core.tryit); this module only lays it out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from augsbert_core import tryit
from augsbert_core.models import load_bi_encoder, load_cross_encoder

from . import runinfo
from .ui import md_escape

SENTENCE_COLUMNS = {
    "sentence1": st.column_config.TextColumn("sentence 1", width="large"),
    "sentence2": st.column_config.TextColumn("sentence 2", width="large"),
}


@st.cache_resource(max_entries=6, show_spinner="Loading the model…")
def _model(folder: str, cross_encoder: bool, _stamp: float):
    """One model of a run, loaded once per folder (and modification time) on CPU."""
    if cross_encoder:
        return load_cross_encoder(folder, device="cpu")
    return load_bi_encoder(folder, device="cpu")


def _models(run_dir: str, keys: list[str]) -> dict[str, Any]:
    loaded = {}
    for key in keys:
        folder = runinfo.model_download(run_dir, key).folder
        if folder is not None:
            loaded[key] = _model(str(folder), key in tryit.CROSS_ENCODERS, Path(folder).stat().st_mtime)
    return loaded


def thresholds(metrics: dict[str, Any]) -> dict[str, float]:
    """{model: the threshold chosen on dev} of a 0/1 run (empty for scores)."""
    out = {}
    for key, per in metrics.items():
        value = ((per or {}).get("test") or {}).get("threshold") if isinstance(per, dict) else None
        if isinstance(value, (int, float)):
            out[key] = float(value)
    return out


def try_it(record, metrics: dict[str, Any], recommended: str | None, preds=None) -> None:
    """Two sentences in, each model's score out, the recommended model first. `preds`: the run's test predictions
    (prefill the boxes with a test pair), as the page read them."""
    keys = runinfo.order_recommended(
        [k for k in runinfo.MODEL_TITLES if k in metrics and k != runinfo.ENSEMBLE_KEY], recommended
    )
    first = preds.iloc[0] if preds is not None and len(preds) else None
    with st.form(key=f"try_{record.id}", border=False):
        left, right = st.columns(2)
        s1 = left.text_area("Sentence 1", "" if first is None else str(first["sentence1"]), key=f"try1_{record.id}")
        s2 = right.text_area("Sentence 2", "" if first is None else str(first["sentence2"]), key=f"try2_{record.id}")
        clicked = st.form_submit_button("Score with every model", icon=":material/play_arrow:")
    if not clicked:
        return
    if not s1.strip() or not s2.strip():
        st.warning("Type a sentence in both boxes.", icon=":material/edit:")
        return
    loaded = _models(record.dir, keys)
    if not loaded:
        st.caption("This run has no saved models to score with.")
        return
    scores = tryit.score_pair(loaded, s1, s2, thresholds(metrics))
    for col, found in zip(st.columns(len(scores)), scores):
        verdict = None if found.verdict is None else ("similar (1)" if found.verdict else "not similar (0)")
        col.metric(
            runinfo.model_title(found.model),
            f"{found.score:.3f}",
            delta=None if verdict is None else f"{verdict} at {found.threshold:.2f}",
            delta_color="normal" if found.verdict else "off",
            border=True,
            help="cross-encoder score, both orders averaged" if found.model in tryit.CROSS_ENCODERS else "cosine",
        )


def fixes(record, metrics: dict[str, Any], task: str, preds=None) -> None:
    """Where AugSBERT fixed its baseline's mistakes on test, and where it made new ones (`preds`: the run's test
    predictions, as the page read them)."""
    baseline = "gold_only" if preds is not None and "gold_only" in preds else "zero_shot"
    if preds is None or "augsbert" not in preds or baseline not in preds:
        st.caption("This run has no AugSBERT and baseline predictions on test (predictions.csv).")
        return
    fixed, broken = tryit.fixes(preds, "augsbert", baseline, task, thresholds(metrics))
    base = runinfo.model_title(baseline)
    how = "right at its threshold where" if task == "classification" else "closer to gold than"
    st.caption(
        md_escape(
            f"Test pairs: AugSBERT is {how} {base} on {len(fixed):,}, and the reverse on {len(broken):,} "
            f"(of {len(preds):,}). The clearest {tryit.FIXES_SHOWN} of each; gold and scores on 0–1."
        )
    )
    for title, frame, key in (("AugSBERT fixed", fixed, "fixed"), (f"{base} was right", broken, "broken")):
        st.markdown(f"**{md_escape(title)}**")
        st.dataframe(
            frame.head(tryit.FIXES_SHOWN).rename(columns={"augsbert": "AugSBERT", baseline: base}),
            hide_index=True,
            width="stretch",
            column_config={**SENTENCE_COLUMNS, "margin": st.column_config.NumberColumn("margin", format="%.2f")},
            key=f"fixes_{key}_{record.id}",
        )
