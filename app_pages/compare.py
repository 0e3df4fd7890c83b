"""Compare: every run with its metrics, the zero-shot / gold-only / AugSBERT / teacher chart, per-pair views,
downloads of trained models and silver data, and an HTML report of the selected runs (`augsbert_core.report`)."""

from pathlib import Path

import streamlit as st

from augsbert_core import choices, registry
from augsbert_core.evaluation import RETRIEVAL_METRICS, confusion, pr_curve
from augsbert_core.io.data import safe_for_spreadsheet
from augsbert_core.report import build_report
from augsbert_core.runs import RunFiles
from studio import charts, runinfo, tryit, ui, workspace
from studio.metric_format import metric_label

st.title("Compare")
store = workspace.store()
records = store.list()
by_id = {r.id: r for r in records}  # pickers label options from this, not one index query per option
if not records:
    st.info("No runs yet. Launch one on the Scenario page.", icon=":material/info:")
    st.page_link(ui.PAGES["scenario"], label="Go to Scenario", icon=":material/arrow_forward:")
    st.stop()

# ------------------------------------------------------------------------------------------------ the table
metrics_by_run = {r.id: runinfo.metrics(r.dir) for r in records}  # per model (no `recommended`)
verdicts = {r.id: runinfo.verdict(r.dir, r.task) for r in records}  # one metrics.json read per run
recommended_by_run = {run_id: v.recommended for run_id, v in verdicts.items()}  # finished runs only
st.subheader("All runs")
ui.runs_table(runinfo.runs_table(records, metrics_by_run, recommended_by_run))

finished = [r for r in records if metrics_by_run.get(r.id)]
if not finished:
    st.info("No finished run yet: the comparison appears when a run has metrics.", icon=":material/hourglass_top:")
    st.stop()


def selected_runs_charts(chosen: list, metrics_by_run: dict, metric: str) -> None:
    """The selected runs' grouped bars, quality against speed (with its table) and the report download."""
    frame = runinfo.comparison_rows(chosen, metrics_by_run, metric)
    st.plotly_chart(charts.comparison_bars(frame, metric_label(metric, title=True)), key="cmp_bars")
    st.caption(
        "Zero-shot and gold-only come from the newest selected run (the full-gold ceiling from the newest that "
        "trained one); the teacher (and the teacher ensemble, "
        "cross-encoder + gold-only or zero-shot bi-encoder, where a run fitted one) is shown once when all "
        "selected runs share it. Higher is better."
    )
    speed = runinfo.speed_rows(chosen, metrics_by_run, metric)
    if len(speed):
        st.plotly_chart(charts.score_vs_speed(speed, metric_label(metric, title=True)), key="cmp_speed")
        timed_on = f"{speed['split'].iloc[0]} ({', '.join(sorted(set(speed['device'])))})"
        st.caption(
            f"Pairs scored per second, timed while each run evaluated its models on {ui.md_escape(timed_on)}: "
            "the teacher (diamond) runs the cross-encoder on each "
            "pair in both orders; a bi-encoder (circle) encodes each sentence once and takes a cosine. A "
            "bi-encoder can also pre-compute the embeddings of a corpus (a search then costs one query encoding "
            "and dot products) while a cross-encoder must score every pair: use the student to retrieve and the "
            "teacher to rerank a short list (docs/reranker.md)."
        )
        with st.expander("Speed table", icon=":material/speed:"):
            st.dataframe(
                speed.assign(
                    model=speed["model"].map(runinfo.model_title), score=(100 * speed["value"]).round(2)
                ).rename(columns={"pairs_per_s": "pairs/s"})[["run", "model", "kind", "split", "score", "pairs/s"]],
                hide_index=True,
                width="stretch",
                column_config={"pairs/s": st.column_config.NumberColumn(format="%.0f")},
            )
    else:
        st.caption("Speed: no selected run timed its models (speed.json is written by runs of this version on).")
    reportable = [Path(r.dir) for r in chosen if (Path(r.dir) / RunFiles.METRICS).is_file()]  # finished runs only
    st.download_button(
        "Export report",
        lambda dirs=reportable: build_report(dirs, dataset=workspace.dataset_title()),
        file_name="augsbert-report.html",
        mime="text/html",
        icon=":material/summarize:",
        key="cmp_report",
        disabled=not reportable,
        help="One HTML file of the selected runs (metrics, charts, gate verdict, datasets, config) that opens in "
        "any browser with no server and no internet.",
    )


# ------------------------------------------------------------------------------------------ grouped bar chart
st.subheader("Zero-shot vs gold-only vs AugSBERT vs teacher")
tasks = sorted({r.task or "regression" for r in finished})
if len(tasks) > 1:
    c1, c2, c3 = st.columns([1, 3, 1])
    task = c1.selectbox("Task", tasks, key="cmp_task")
else:
    c2, c3 = st.columns([4, 1])
    task = tasks[0]
candidates = [r for r in finished if (r.task or "regression") == task]
current = ui.current_record()
default = [r.id for r in candidates[:4]]
chosen_ids = c2.multiselect(
    "Runs",
    [r.id for r in candidates],
    default=default,
    key="cmp_runs",
    format_func=lambda i: runinfo.run_label(by_id[i]),
)
names = {"regression": ["spearman", "pearson"], "positive_pairs": list(RETRIEVAL_METRICS)}.get(
    task, ["ap", "f1", "accuracy"]
)
metric = c3.selectbox("Metric", names, format_func=lambda n: metric_label(n, title=True), key="cmp_metric")
chosen = [r for r in candidates if r.id in chosen_ids]
if chosen:
    selected_runs_charts(chosen, metrics_by_run, metric)
else:
    st.caption("Pick at least one run.")

# ------------------------------------------------------------------------------------------- one run in detail
st.subheader("One run in detail")
ids = [r.id for r in finished]
start = ids.index(current.id) if current is not None and current.id in ids else 0
run_id = st.selectbox("Run", ids, index=start, key="cmp_detail", format_func=lambda i: runinfo.run_label(by_id[i]))
record = by_id[run_id]
run_metrics = metrics_by_run[run_id]
recommended = recommended_by_run.get(run_id)
if recommended:
    st.markdown(
        f":green-badge[:material/recommend: recommended] "
        f"**{ui.md_escape(runinfo.model_title(recommended))}** · "
        f"{ui.md_escape(verdicts[run_id].reason)}."
    )
    for note in verdicts[run_id].notes:  # how it squares with the other metrics and the gate
        st.caption(f":material/balance: {ui.md_escape(note)}.")
run_schedules = verdicts[run_id].schedules
if run_schedules:
    st.caption(
        "Schedules · " + " · ".join(f"{runinfo.model_title(k)}: {ui.md_escape(v)}" for k, v in run_schedules.items())
    )
tab_scatter, tab_dist, tab_disagree, tab_try, tab_metrics, tab_download = st.tabs(
    ["Predicted vs gold", "Label distributions", "Teacher vs student", "Try it", "All metrics", "Downloads"]
)

preds = runinfo.load_predictions(record.dir)


def predictions_needed(where: str) -> None:
    st.caption("This run has no per-pair predictions (predictions.csv is written when a run finishes).")


def binary_results(preds, model: str, run_metrics: dict, recommended: str | None) -> None:
    """A 0/1 task: the model's scores per gold class with the dev-chosen threshold, its confusion matrix there,
    the metrics at that threshold, and every model's precision-recall curve."""
    title = runinfo.model_title(model)
    test = run_metrics.get(model, {}).get("test", {})
    threshold = test.get("threshold")
    st.plotly_chart(charts.class_score_histograms(preds[model], preds["gold"], title, threshold), key="cmp_classes")
    if threshold is not None:
        st.caption(ui.md_escape(runinfo.threshold_line(test)))
        left, right = st.columns(2)
        counts = confusion(preds[model].astype(float), preds["gold"].astype(int), float(threshold))
        left.plotly_chart(charts.confusion_heatmap(counts, title, float(threshold)), key="cmp_confusion")
        curves = {
            runinfo.model_title(m): (*pr_curve(preds[m].astype(float), preds["gold"].astype(int)), ap)
            for m in runinfo.prediction_models(preds)
            if (ap := run_metrics.get(m, {}).get("test", {}).get("ap")) is not None
        }
        chosen = runinfo.model_title(recommended) if recommended else None
        right.plotly_chart(charts.pr_curves(curves, chosen), key="cmp_pr")


def disagreements(record, preds, scale) -> None:
    """Test pairs where the labeling teacher and the AugSBERT student disagree most."""
    if preds is None:
        predictions_needed("disagree")
    elif (teacher_key := runinfo.labeling_teacher(record.dir, preds)) and "augsbert" in preds:
        d = runinfo.disagreements(preds, teacher_key, scale)
        what = (choices.labeler_of_model(teacher_key) or choices.CROSS_ENCODER).title.lower()
        st.caption(
            f"Test pairs where the {what} and the AugSBERT student disagree most. "
            "Gold is on the dataset's scale, as in the scatter; the models' scores as they predict them (0–1)."
        )
        st.dataframe(
            d,
            hide_index=True,
            width="stretch",
            column_config={
                "sentence1": st.column_config.TextColumn("sentence 1", width="large"),
                "sentence2": st.column_config.TextColumn("sentence 2", width="large"),
                **{
                    c: st.column_config.NumberColumn(runinfo.model_title(c), format="%.2f", width="small")
                    for c in d.columns[2:]
                },
            },
        )
    else:
        st.caption("This run has no teacher or AugSBERT predictions.")


scale = runinfo.gold_scale(record.dir)  # gold on the dataset's scale (e.g. 0-5) in the scatter, tables and violins
with tab_scatter:
    if preds is None:
        predictions_needed("scatter")
    else:
        models = runinfo.prediction_models(preds)
        model = st.radio("Model", models, horizontal=True, format_func=runinfo.model_title, key="cmp_scatter_model")
        if model is None:
            st.caption("predictions.csv has no model columns.")
        elif record.task == "classification":
            binary_results(preds, model, run_metrics, recommended)
        else:
            st.plotly_chart(
                charts.scatter_pred_gold(preds, model, runinfo.model_title(model), scale), key="cmp_scatter"
            )
with tab_dist:
    series = {}
    role = registry.gold_role(record.scenario)
    if (gold := ui.gold_for_run(record, role)) is not None:
        series[f"Gold ({role})"] = gold["label"]
    for r in [record] + [x for x in chosen if x.id != record.id]:
        silver = ui.load_silver(r.dir)
        if silver is not None:
            series[f"Silver · {r.sampler} ({runinfo.short_id(r.id)})"] = silver.loc[silver["kept"], "score"]
    if preds is not None and "augsbert" in preds:
        series["AugSBERT predictions (test)"] = preds["augsbert"].clip(0, 1)
    if series:
        st.plotly_chart(charts.distributions_side_by_side(series, scale=scale), key="cmp_dists")
    else:
        st.caption("No label data found for this run.")
with tab_disagree:
    disagreements(record, preds, scale)
with tab_try:
    tryit.try_it(record, run_metrics, recommended, preds)  # predictions.csv read once for the page
    tryit.fixes(record, run_metrics, record.task or "regression", preds)
with tab_metrics:
    ui.metrics_tables(run_metrics, recommended)
    ui.gate_banner(record.dir)
    rv = runinfo.load_review(record.dir)
    if rv:
        s = runinfo.review_summary(rv)
        st.caption(
            f":material/rate_review: Silver review saved with this run: {s['wrong']} pairs marked wrong, "
            f"{s['corrected']} corrected."
        )
with tab_download:
    available = runinfo.order_recommended(runinfo.trained_models(record.dir), recommended)
    if recommended == "zero_shot":  # no folder: the untrained base (offered when it is a local folder)
        base = runinfo.model_download(record.dir, "zero_shot")
        st.markdown(f":green-badge[:material/recommend: recommended] {base.note}")
        if base.folder is not None:
            available = ["zero_shot", *available]
    if available:
        c1, c3, c2 = st.columns([2, 1, 1], vertical_alignment="bottom")
        name = c1.selectbox(
            "Trained model",
            available,
            key="cmp_model_zip",
            format_func=lambda k: runinfo.model_title(k) + (" · recommended" if k == recommended else ""),
        )
        target = runinfo.model_download(record.dir, name)
        formats = runinfo.export_formats(target.folder) or {"st": runinfo.EXPORT_FORMATS["st"]}
        fmt = c3.selectbox(
            "Format",
            list(formats),
            key="cmp_model_format",
            format_func=formats.get,
            help="sentence-transformers: the model folder. ONNX / ONNX int8 (a transformer student, with the onnx "
            "extra): encode on CPU with onnxruntime alone; int8 is about 2x faster and 4x smaller, at a small cost "
            "in agreement (bench/onnx_students.py). The zip's README.md says how to load it. Built on click (~20 s).",
        )
        c2.download_button(
            "Download model (zip)",
            lambda folder=target.folder, key=name, fmt=fmt: runinfo.export_zip(folder, key, fmt),
            file_name=f"{record.id}-{name}{'' if fmt == 'st' else '-' + fmt}.zip",
            mime="application/zip",
            icon=":material/download:",
            key="cmp_dl_model",
            disabled=target.folder is None,
        )
        st.caption(
            "Sentence-transformers format: `SentenceTransformer(folder)` for students, "
            "`CrossEncoder(folder)` for the teacher."
        )
    silver = ui.load_silver(record.dir)
    if silver is not None:
        export = runinfo.apply_review(silver, runinfo.load_review(record.dir)).drop(columns=["row"])
        st.download_button(
            "Download silver pairs (CSV)",
            safe_for_spreadsheet(export).to_csv(index=False).encode(),
            file_name=f"{record.id}-silver.csv",
            mime="text/csv",
            icon=":material/download:",
            key="cmp_dl_silver",
        )
