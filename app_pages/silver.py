"""Silver labels: teacher scores vs gold, per sampler; filter, sort, search; review and export."""

import pandas as pd
import streamlit as st

from augsbert_core import registry
from augsbert_core.io.data import safe_for_spreadsheet
from augsbert_core.runs import RunFiles
from studio import charts, runinfo, scenario, ui, workspace

#: the team-review files (augsbert_core.review): tool -> file suffix -> button label
REVIEW_BUTTONS = {
    "label-studio": {".json": "Label Studio tasks (.json)", ".xml": "Label Studio labeling config (.xml)"},
    "argilla": {".json": "Argilla tasks (.json)", ".settings.json": "Argilla labeling config (.settings.json)"},
}

st.title("Silver labels")
record = ui.need_run("No run yet.")
if record is None:
    st.stop()
store = workspace.store()
scale = runinfo.gold_scale(record.dir)  # the dataset's score scale (e.g. 1-5): what scores are shown and typed on
low_end, high_end = scale or (0.0, 1.0)
span = high_end - low_end
st.caption(
    f"Pairs the samplers found and the teacher labeled. Scores are shown on the dataset's scale "
    f"({charts.scale_text(scale)}), as gold is."
)


@st.fragment(run_every=3.0)
def wait_for_silver(run_id: str) -> None:
    rec = store.get(run_id)
    prog = runinfo.progress(store.run(run_id).events(), rec)
    if ui.load_silver(rec.dir) is not None or rec.status not in ("queued", "running"):
        st.rerun(scope="app")
    st.info(
        f"Silver labels appear once the teacher has labeled the candidates. Now: **{prog.stage_title}**"
        + (f" (step {prog.step:,} of {prog.total:,})" if prog.total else "")
        + ".",
        icon=":material/hourglass_top:",
    )


silver = ui.load_silver(record.dir)
st.markdown(f"**Run:** {ui.md_escape(record.name)} · `{record.id}`")
ui.gate_banner(record.dir)
if silver is None:
    if ui.is_active(record):
        wait_for_silver(record.id)
    else:
        ui.run_error(record)
        st.info(
            "This run has no silver pairs" + (" (it stopped before labeling)." if record.status != "finished" else "."),
            icon=":material/info:",
        )
    st.stop()

summary = runinfo.read_json(record.dir, RunFiles.SILVER_SUMMARY, {}) or {}
review = runinfo.load_review(record.dir)
reviewed = runinfo.apply_review(silver, review)
gold = ui.gold_for_run(record, registry.gold_role(record.scenario))
task = record.task or "regression"

counters = st.container()  # drawn once the table's unsaved ticks are known: the counters follow them
if summary.get("threshold") is not None:
    st.caption(f"Classification threshold on teacher scores: {summary['threshold']:.3f}")
mix = runinfo.sampler_mix_text(summary)
if mix:  # a mixed run: the shares of the silver it kept, each pair counted for the sampler that found it
    st.caption(f"Sampler mix: {ui.md_escape(mix)}")
ks = runinfo.ks_distances(summary, silver, gold["label"] if gold is not None else None)


def pairs_view(reviewed, summary: dict, scale, low_end: float, high_end: float):
    """The filters over the pairs (score range, text, what to show) and their order: the rows the table shows."""
    span = high_end - low_end
    f1, f2, f3, f4 = st.columns([2, 2, 2, 1])
    low, high = f1.slider(
        f"Score range ({charts.scale_text(scale)})",
        low_end,
        high_end,
        (low_end, high_end),
        0.05 * span,
        key=f"sv_range_{low_end:g}_{high_end:g}",
    )
    low, high = (low - low_end) / span, (high - low_end) / span  # the stored scores are on 0-1
    query = f2.text_input("Search text", key="sv_query", placeholder="words in either sentence")
    suspicion, suspicion_kind = runinfo.silver_suspicion(reviewed, summary.get("threshold"))
    sort = f3.selectbox(
        "Sort by",
        ["score, high first", "score, low first", "most suspicious first", "original order", "sentence1"],
        key="sv_sort",
        help=runinfo.SUSPICION_WHY[suspicion_kind][:1].upper() + runinfo.SUSPICION_WHY[suspicion_kind][1:] + ".",
    )
    show = f4.selectbox(
        "Show", ["all", "kept", "marked wrong"], key="sv_show", help="As saved: kept = kept for training, not wrong."
    )
    view = reviewed[(reviewed["score"] >= low - 1e-9) & (reviewed["score"] <= high + 1e-9)]
    if query.strip():
        q = query.strip()
        view = view[
            view["sentence1"].str.contains(q, case=False, regex=False)
            | view["sentence2"].str.contains(q, case=False, regex=False)
        ]
    if show == "kept":
        view = view[view["used"]]
    elif show == "marked wrong":
        view = view[view["wrong"]]
    if sort == "score, high first":
        view = view.sort_values("score", ascending=False, kind="stable")
    elif sort == "score, low first":
        view = view.sort_values("score", ascending=True, kind="stable")
    elif sort == "sentence1":
        view = view.sort_values("sentence1", kind="stable")
    elif sort == "most suspicious first":
        view = view.loc[suspicion.loc[view.index].sort_values(ascending=False, kind="stable").index]
        st.caption(f":material/info: Sorted {runinfo.SUSPICION_WHY[suspicion_kind]}.")
    return view


def read_in_full(page, record, scale) -> None:
    """One pair's sentences in full (the table cuts long ones)."""
    with st.expander("Read a pair in full", icon=":material/open_in_full:"):  # the table cuts long sentences
        pick = st.selectbox("Row", page["row"].tolist(), key=f"sv_full_{record.id}", help="the table's row number")
        if pick is not None:
            full = page.loc[page["row"] == pick].iloc[0]
            st.markdown(f"**Sentence 1** · {ui.md_escape(str(full['sentence1']))}")
            st.markdown(f"**Sentence 2** · {ui.md_escape(str(full['sentence2']))}")
            st.caption(
                ui.md_escape(f"Teacher score {full['score']:.2f} ({charts.scale_text(scale)}), {full['sampler']}")
            )


def team_review(record) -> None:
    """Hand the pairs to Label Studio or Argilla, and import their export back into this run's review."""
    with st.expander("Review in Label Studio or Argilla", icon=":material/groups:"):
        st.caption(
            "Hand the pairs to your team's labeling tool: each file has the pair, its row and the teacher's score as "
            "a prediction (Label Studio) or suggestion (Argilla), and its labeling config. Bring their JSON export "
            "back here (or `augsbert review import FILE --run RUN`): pairs marked wrong and corrected scores join "
            "this review."
        )
        for column, tool in zip(st.columns(2), REVIEW_BUTTONS):
            for suffix in REVIEW_BUTTONS[tool]:  # each file is built on click: silver.csv can be large
                column.download_button(
                    REVIEW_BUTTONS[tool][suffix],
                    lambda tool=tool, suffix=suffix: runinfo.review_file(record.dir, tool, suffix).encode(),
                    file_name=f"{record.id}-{tool}{suffix}",
                    mime="application/xml" if suffix == ".xml" else "application/json",
                    key=f"sv_{tool}{suffix}",
                )
        upload = st.file_uploader(
            "A Label Studio or Argilla JSON export of these pairs", type=["json"], key="sv_import"
        )
        if upload is not None and st.button("Import the review", key="sv_import_go", icon=":material/upload:"):
            try:
                got = runinfo.import_review_text(upload.getvalue().decode("utf-8"), record.dir, name=upload.name)
            except (ValueError, UnicodeDecodeError) as exc:  # ConfigError is a ValueError: it names the item
                st.error(ui.md_escape(str(exc)), icon=":material/error:")
            else:
                st.session_state["silver_flash"] = (
                    f"Imported {got['reviewed']:,} reviewed pairs from {ui.md_escape(upload.name)} "
                    f"({ui.md_escape(got['format'])}): {got['wrong']:,} marked wrong, "
                    f"{got['corrected']:,} scores corrected."
                )
                st.rerun()


def draw_counters(silver, live, current: dict, review: dict, scale, ks: dict) -> None:
    """Candidates, kept, the mean teacher score, KS to gold, marked wrong and corrected (with unsaved ticks)."""
    m = st.columns(6)
    s = runinfo.review_summary(current)
    m[0].metric("Candidate pairs", f"{len(silver):,}")
    m[1].metric(
        "Kept for training",
        f"{int(live['used'].sum()):,}",
        help="Kept by the sampler, less the pairs marked wrong.",
    )
    m[2].metric(
        "Mean teacher score",
        f"{charts.on_scale(silver['score'], scale).mean():.2f}",
        help=f"On the dataset's scale ({charts.scale_text(scale)}).",
    )
    m[3].metric(
        "Distance to gold (KS)",
        f"{ks['kept']:.2f}" if ks["kept"] is not None else "–",
        help="Kolmogorov-Smirnov distance between the kept silver labels and the gold labels: 0 = same "
        "distribution. A large value means the silver data is skewed (try the kde sampler).",
    )
    m[4].metric("Marked wrong", f"{s['wrong']:,}", help="Excluded from student training by the reviewer.")
    m[5].metric("Scores corrected", f"{s['corrected']:,}")
    if current != review:
        st.caption(
            ":orange[:material/edit:] The counters and charts include ticks not saved yet: **Save review** keeps "
            "them (the table's **kept** column follows once saved)."
        )


# ------------------------------------------------------------------------------------------------- charts
others = [
    r
    for r in store.list()
    if r.id != record.id
    and r.status in ("finished", "running", "failed")
    and (workspace.Path(r.dir) / RunFiles.SILVER).exists()
]
c1, c2 = st.columns([1, 2])
only_kept = c1.toggle("Only pairs kept for training", value=False, key="sv_only_kept")
overlay = c2.multiselect(
    "Overlay the silver labels of other runs",
    [r.id for r in others],
    format_func=lambda i: runinfo.run_label(next(r for r in others if r.id == i)),
    key="sv_overlay",
)
chart_area = st.container()  # drawn after the table, with its unsaved ticks

# -------------------------------------------------------------------------------------------------- table
st.subheader("Pairs")
view = pairs_view(reviewed, summary, scale, low_end, high_end)
LIMIT = 500
st.caption(
    f"{len(view):,} of {len(reviewed):,} pairs match"
    + (f"; showing the first {LIMIT}" if len(view) > LIMIT else "")
    + ". Tick **wrong** to exclude a pair from student training, or type a corrected score; then save."
)
rows_shown = view["row"].head(LIMIT).tolist()
editor_key = runinfo.review_editor_key(record.id, rows_shown)
# The table shows the saved review (kept = kept for training and not marked wrong). Data that followed the unsaved
# ticks would make the browser's editor drop them (seen in Chromium with Streamlit 1.67: the next Save sent none).
# The counters, charts and exports follow those ticks (the editor's state from the last rerun) at once.
edits = (st.session_state.get(editor_key) or {}).get("edited_rows", {})
current = runinfo.pending_review(review, rows_shown, edits, scale)
live = runinfo.apply_review(silver, current)
page = reviewed.loc[view.index[:LIMIT]]
# rows are shown 1-based, as in silver.csv (data rows, the header not counted) and on the Data page
page = page.assign(
    kept=page["used"],
    row=page["row"] + 1,
    score=charts.on_scale(page["score"], scale),
    corrected_score=charts.on_scale(page["corrected_score"], scale),
)
# classification: the 0/1 silver label the student learns beside the teacher score it was thresholded from
label_column = ["label"] if task == "classification" and "label" in page else []
page = page[["row", "sentence1", "sentence2", "sampler", "score", *label_column, "kept", "wrong", "corrected_score"]]
edited = st.data_editor(
    page,
    key=editor_key,
    hide_index=True,
    width="stretch",
    height=420,
    placeholder="",
    disabled=["row", "sentence1", "sentence2", "sampler", "score", *label_column, "kept"],
    column_config={
        "row": st.column_config.NumberColumn("row", format="%d", width=55),
        "sentence1": st.column_config.TextColumn("sentence 1", width=250),
        "sentence2": st.column_config.TextColumn("sentence 2", width=250),
        "sampler": st.column_config.TextColumn("sampler", width=75),
        "score": st.column_config.ProgressColumn(
            "teacher score", min_value=low_end, max_value=high_end, format="%.2f", width=110
        ),
        "label": st.column_config.NumberColumn(
            "silver label",
            help="the 0/1 label the student learns (teacher score >= the threshold)",
            format="%d",
            width=70,
        ),
        "kept": st.column_config.CheckboxColumn(
            "kept",
            help="used for student training: kept by the sampler/KDE/cap and not marked wrong",
            width=50,
        ),
        "wrong": st.column_config.CheckboxColumn("wrong", help="exclude from student training", width=70),
        "corrected_score": st.column_config.NumberColumn(
            "corrected",
            help=f"corrected score ({charts.scale_text(scale)})",
            min_value=low_end,
            max_value=high_end,
            step=0.05 * span,
            format="%.2f",
            width=85,
        ),
    },
)
b1, b2, b3, b4 = st.columns([1.1, 2.2, 1.6, 2.6], vertical_alignment="center")
if b1.button("Save review", type="primary", icon=":material/save:", key="sv_save"):
    runinfo.save_review(record.dir, runinfo.merge_review(review, edited.assign(row=edited["row"] - 1), scale))
    s = runinfo.review_summary(runinfo.load_review(record.dir))
    st.session_state["silver_flash"] = (
        f"Review saved (review.json): {s['wrong']} pairs marked wrong, {s['corrected']} scores corrected."
    )
    st.rerun()
b2.download_button(
    f"Export what the filters show ({len(view):,})",
    lambda frame=live.loc[view.index]: (
        safe_for_spreadsheet(runinfo.silver_export(frame, scale)).to_csv(index=False).encode()
    ),
    file_name=f"{record.id}-silver-filtered.csv",
    mime="text/csv",
    icon=":material/filter_alt:",
    key="sv_export_view",
    help="The pairs that match the score range, search and 'Show' filter, in the table's order (CSV; scores on 0–1 "
    "as in silver.csv, and on the dataset's scale in the *_on_scale columns).",
)
b3.download_button(
    f"Export all pairs ({len(live):,})",
    lambda frame=live: safe_for_spreadsheet(runinfo.silver_export(frame, scale)).to_csv(index=False).encode(),
    file_name=f"{record.id}-silver.csv",
    mime="text/csv",
    icon=":material/download:",
    key="sv_export",
    help="Every silver pair of the run with its review columns (CSV; scores on 0–1 as in silver.csv, and on the "
    "dataset's scale in the *_on_scale columns).",
)
if review:
    if b4.button(
        "Retrain the student with the review applied",
        help="Launches a new run whose student trains on gold + the reviewed silver pairs (no new teacher).",
        key="sv_retrain",
    ):
        new_id = scenario.retrain_with_review(record, reviewed)
        ui.select_run(new_id)
        st.session_state["training_flash"] = "Launched a retraining run with the reviewed silver pairs."
        st.switch_page(ui.PAGES["training"])
read_in_full(page, record, scale)
team_review(record)
flash = st.session_state.pop("silver_flash", None)
if flash:
    st.success(flash, icon=":material/rate_review:")
    st.toast(flash, icon=":material/rate_review:")

# ------------------------------------------------------------------------------------- counters and charts
with counters:
    draw_counters(silver, live, current, review, scale, ks)

with chart_area:
    plot = live[live["used"]] if only_kept else live
    plot = plot.assign(series=plot["sampler"])
    frames = [plot[["score", "series"]]]
    for run_id in overlay:
        other = store.get(run_id)
        data = ui.load_silver(other.dir)
        if data is not None:
            frames.append(
                pd.DataFrame(
                    {
                        "score": data["score"],
                        "series": f"{other.name} · {data['sampler'].iloc[0] if len(data) else ''}"
                        + f" ({runinfo.short_id(other.id)})",
                    }
                )
            )
    combined = pd.concat(frames, ignore_index=True)
    left, right = st.columns([3, 2])
    left.plotly_chart(
        charts.silver_vs_gold(combined, gold["label"] if gold is not None else None, by="series", ks=ks, scale=scale),
        key="silver_hist",
    )
    left.caption(
        f"{charts.ks_label(ks)} (Kolmogorov-Smirnov distance of the silver labels to the gold labels of this "
        "run, 0 = same distribution, 1 = disjoint)."
    )
    bucket_fig, bucket_table = charts.bucket_share(plot, scale=scale)
    right.plotly_chart(bucket_fig, key="silver_buckets")

with st.expander("Score buckets (table)"):
    table = bucket_table.assign(share=(100 * bucket_table["share"]).round(1))
    st.dataframe(table.rename(columns={"share": "share %"}), hide_index=True, width="stretch")
