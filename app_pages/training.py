"""Training: launch, the device queue, live progress of the current run (loss, eval metric, logs), cancel."""

from pathlib import Path

import pandas as pd
import streamlit as st

from augsbert_core import choices, jobs
from augsbert_core.estimate import busy_note, fmt_duration
from augsbert_core.evaluation import PRIMARY_METRIC
from augsbert_core.report import build_report
from augsbert_core.runs import RunFiles
from studio import charts, runinfo, scenario, tryit, ui, workspace
from studio.metric_format import metric_delta, metric_label, metric_name, metric_value

REFRESH_S = 2.0

st.title("Training")
flash = st.session_state.pop("training_flash", None)
if flash:
    st.success(flash, icon=":material/rocket_launch:")

store = workspace.store()


def launch_box(expanded: bool) -> None:
    draft = scenario.load_draft()
    title = scenario.SCENARIOS[int(draft["scenario"])][0]
    what = (
        f"augmenter {ui.md_escape(draft['augment']['method'])}"
        if scenario.scenario_spec(draft).augments
        else f"sampler{'s' if len(draft['samplers']) > 1 else ''} {ui.md_escape(', '.join(draft['samplers']))}, "
        f"top-k {int(draft['top_k'])}"
    )
    with st.expander("Launch a run with the Scenario settings", expanded=expanded, icon=":material/play_arrow:"):
        st.markdown(
            f"**{title}** · {what} · "
            f"student `{ui.md_escape(draft['student']['model'], code=True)}` "
            f"({ui.md_escape(scenario.epochs_text(draft['student']))}) · "
            f"teacher `{ui.md_escape(draft['teacher']['model'], code=True)}` "
            f"({ui.md_escape(scenario.epochs_text(draft['teacher']))})"
        )
        c1, c2 = st.columns([1, 4], vertical_alignment="center")
        if c1.button("Launch", type="primary", key="tr_launch", disabled=not workspace.has_data()):
            if ui.launch(draft):
                st.rerun()
        c2.page_link(ui.PAGES["scenario"], label="Change the settings", icon=":material/tune:")


record = ui.current_record()
if record is None:
    st.info("No run yet. Launch one with the settings from the Scenario page.", icon=":material/info:")
    launch_box(expanded=True)
    st.stop()


def queue_table() -> None:
    active = runinfo.queue(store)
    if active:
        st.markdown("**Device queue** (one training per device at a time; the others wait)")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "position": i + 1,
                        "run": r.name,
                        "status": r.status,
                        "id": r.id,
                        "queued at": ui.fmt_time(r.created_at),
                    }
                    for i, r in enumerate(active)
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def steps_row(prog: runinfo.Progress, status: str, steps: list) -> None:
    cols = st.columns(len(steps))
    for col, (key, title, _) in zip(cols, steps):
        note = ""
        if key in prog.steps_done or (key == "done" and status == "finished"):
            icon = ":green[:material/check_circle:]"
        elif key == prog.step_current and status == "running":
            icon = ":blue[:material/pending:]"
        elif key == prog.step_current and status in ("failed", "cancelled", "interrupted"):
            icon = ":red[:material/cancel:]" if status == "failed" else ":orange[:material/stop_circle:]"
        elif status == "finished":  # a step this run never went through (e.g. an optional one): not pending
            icon, note = ":gray[:material/remove_circle_outline:]", " (skipped)"
        else:
            icon = ":gray[:material/radio_button_unchecked:]"
        col.markdown(f"{icon}  \n:small[{title}{note}]", text_alignment="center")


def results(record) -> None:
    metrics = runinfo.metrics(record.dir)
    if not metrics:
        return
    task = record.task or "regression"
    primary = PRIMARY_METRIC.get(task, "spearman")
    split = "test" if any("test" in v for v in metrics.values()) else "dev"
    decided = runinfo.verdict(record.dir, task) if record.status == "finished" else runinfo.Verdict()
    recommended, reason, trained = decided.recommended, decided.reason, decided.schedules
    st.markdown(f"**Results** · {metric_label(primary, split)} (×100)")
    # the recommended model first, then the others (+ the teacher ensemble when it labeled, the full-gold ceiling)
    keys = runinfo.order_recommended(runinfo.result_models(record.dir, metrics), recommended)
    labeler = runinfo.labeling_teacher_dev(record.dir, metrics)
    cols = st.columns(len(keys))
    base = metrics.get("gold_only", metrics.get("zero_shot", {})).get(split, {}).get(primary)
    for col, key in zip(cols, keys):
        value = metrics.get(key, {}).get(split, {}).get(primary)
        delta = None
        if key == "augsbert" and value is not None and base is not None:
            delta = f"{metric_delta(value - base)} vs {'gold-only' if 'gold_only' in metrics else 'zero-shot'}"
        mark = key == recommended
        col.metric(
            runinfo.model_title(key),
            metric_value(value),
            delta=delta,
            border=True,
            icon=":material/recommend:" if mark else None,
            help=card_help(metrics.get(key, {}), primary, key, labeler)
            + (f" Trained: {ui.md_escape(trained[key])}." if key in trained else "")
            + (f" Recommended: {ui.md_escape(reason)}." if mark else ""),
        )
    if task == "classification":  # the deployable operating point of each model, beside the threshold-free AP
        st.dataframe(
            runinfo.operating_points(metrics, keys),
            hide_index=True,
            width="stretch",
            column_config={"threshold": st.column_config.NumberColumn("threshold (dev)", format="%.2f")},
        )
    if trained:
        st.caption(
            "Schedules · " + " · ".join(f"{runinfo.model_title(k)}: {ui.md_escape(v)}" for k, v in trained.items())
        )
    if recommended:
        title = runinfo.model_title(recommended)
        st.markdown(
            f":green-badge[:material/recommend: recommended] **{ui.md_escape(title)}** · {ui.md_escape(reason)}."
        )
        for note in decided.notes:  # how it squares with the other metrics and the gate
            st.caption(f":material/balance: {ui.md_escape(note)}.")
        download_recommended(record, recommended, title)
    download_teacher(record)
    export_report(record)


def card_help(per_split: dict, primary: str, key: str, labeler: tuple | None) -> str:
    """'dev Spearman 85.8 (all of dev) · test Spearman 81.9. It labeled the silver pairs.' for a result card: the
    labeling teacher's dev number is the one the gate card's line gives (the ensemble's, cross-fitted)."""
    labeled = labeler is not None and labeler[0] == key
    parts = [
        f"{metric_label(primary, split)} {metric_value((per_split.get(split) or {}).get(primary))}"
        + (f" ({labeler[3]})" if labeled and split == "dev" else "")
        for split in ("dev", "test")
        if split in per_split
    ]
    return " · ".join(parts) + "." + (" It labeled the silver pairs." if labeled else "")


def download_recommended(record, key: str, title: str) -> None:
    """'Download recommended model (<title>)': a zip of models/<key>/ (zero-shot: the base model's folder)."""
    target = runinfo.model_download(record.dir, key)
    if target.folder is not None:
        formats = runinfo.export_formats(target.folder) or {"st": runinfo.EXPORT_FORMATS["st"]}
        c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
        fmt = c1.selectbox(
            "Format",
            list(formats),
            key=f"tr_dl_format_{record.id}",
            format_func=formats.get,
            help="ONNX / ONNX int8: encode on CPU with onnxruntime alone (int8: about 2x faster, 4x smaller). The "
            "zip's README.md says how to load it.",
        )
        c2.download_button(
            f"Download recommended model ({title})",
            lambda folder=target.folder, fmt=fmt: runinfo.export_zip(folder, key, fmt),
            file_name=f"{record.id}-{key}{'' if fmt == 'st' else '-' + fmt}.zip",
            mime="application/zip",
            icon=":material/download:",
            key=f"tr_dl_recommended_{record.id}",
        )
    if target.note:
        st.caption(target.note)


def download_teacher(record) -> None:
    """'Download teacher (reranker)': a zip of models/teacher/ with its model card, once a run that trained one
    finished."""
    target = runinfo.model_download(record.dir, "teacher")
    if record.status != "finished" or target.folder is None:
        return
    st.download_button(
        "Download teacher (cross-encoder reranker)",
        lambda folder=target.folder: runinfo.zip_folder(folder, "teacher"),
        file_name=f"{record.id}-teacher.zip",
        mime="application/zip",
        icon=":material/download:",
        key=f"tr_dl_teacher_{record.id}",
        help="The trained cross-encoder and its model card (README.md): its scores and speed in this run, and how to "
        "use it as a reranker (docs/reranker.md).",
    )


def export_report(record) -> None:
    """'Export report': the run's self-contained HTML report for stakeholders (as `augsbert report` writes it)."""
    if record.status != "finished" or not (Path(record.dir) / RunFiles.METRICS).is_file():
        return
    st.download_button(
        "Export report",
        lambda run_dir=Path(record.dir): build_report([run_dir], dataset=workspace.dataset_title()),
        file_name=f"{record.id}-report.html",
        mime="text/html",
        icon=":material/summarize:",
        key=f"tr_report_{record.id}",
        help="One HTML file of this run (metrics, charts, gate verdict, datasets) that opens in any browser with no "
        "server and no internet; Compare exports several runs in one.",
    )


def run_header(record, config: dict) -> None:
    """The run's name, status, what it is, and Cancel or Resume."""
    run_id = record.id
    head_l, head_r = st.columns([4, 1], vertical_alignment="center")
    with head_l:
        st.subheader(ui.md_escape(record.name))
        c = st.columns([1, 6])
        with c[0]:
            ui.status_badge(record.status)
        on_ray = choices.engine(config.get("engine")).cluster
        c[1].caption(
            f"Run `{record.id}` · scenario {record.scenario} · {record.sampler or ''} · "
            + ("sampling and labeling on Ray · " if on_ray else "")
            + f"created {ui.fmt_time(record.created_at)}"
        )
    if record.status in ("queued", "running"):
        if head_r.button("Cancel", icon=":material/stop_circle:", key=f"cancel_{run_id}"):
            jobs.cancel(store, run_id)
            st.toast(
                "Cancel requested: the job stops at the next step and keeps what it saved.",
                icon=":material/stop_circle:",
            )
    elif record.status in jobs.RESUMABLE:
        if head_r.button(
            "Resume",
            icon=":material/play_circle:",
            key=f"resume_{run_id}",
            help="Finished steps are kept; trainings continue from their newest checkpoint.",
        ):
            jobs.resume(store, run_id)
            st.toast("Resuming: the job continues from its last checkpoint.", icon=":material/play_circle:")
            st.rerun()


def run_metrics(record, prog, steps) -> None:
    """Steps done, the training step, elapsed time and the ETA."""
    m = st.columns(4)
    done = {k for k, _, _ in steps if k in prog.steps_done or (k == "done" and record.status == "finished")}
    m[0].metric("Steps done", f"{len(done)} / {len(steps)}")
    m[1].metric("Training step", f"{prog.step:,} / {prog.total:,}" if prog.total else "–")
    m[2].metric("Elapsed", fmt_duration(prog.elapsed))
    whole = runinfo.run_eta(record, prog)  # follows the measured step rates and the run's own estimate
    if whole is None:
        m[3].metric("ETA (this stage)", fmt_duration(prog.stage_eta))
    else:
        m[3].metric(
            "ETA (whole run)",
            fmt_duration(whole),
            help=f"This stage at its step rate: {fmt_duration(prog.stage_eta)} at most (a student early-stopped on "
            "dev ends sooner). The whole run: the run's estimate of each stage left, scaled by how long its "
            "finished stages took against theirs.",
        )


def run_curves(prog, run_id: str) -> None:
    """The training-loss panels and the dev-metric curve."""
    if len(prog.loss):  # a panel per model: a teacher's loss can be 50x a student's
        st.plotly_chart(charts.loss_panels(prog.loss, "Training loss"), key=f"loss_{run_id}")
    else:
        st.caption("The loss curve appears when training starts.")
    if len(prog.evals):
        names = {metric_name(m) for m in prog.evals["metric"]}
        y_title = f"dev {names.pop()} ×100" if len(names) == 1 else "dev metric ×100"
        st.plotly_chart(
            charts.curve(prog.evals, "value", "Dev metric during training", y_title, percent=True),
            key=f"eval_{run_id}",
        )
    else:
        st.caption("The dev-metric curve appears after the first evaluation.")


def live(run_id: str) -> None:
    queue_table()
    record = store.get(run_id)
    events = store.run(run_id).events()
    prog = runinfo.progress(events, record)
    config = runinfo.read_json(record.dir, RunFiles.CONFIG, {}) or {}
    run_header(record, config)
    steps = runinfo.run_steps(record.scenario, config)
    steps_row(prog, record.status, steps)

    if record.status == "queued":
        ahead = [r for r in runinfo.queue(store) if r.created_at < record.created_at]
        st.info(
            f"Waiting for the device: {len(ahead)} job{'s' if len(ahead) != 1 else ''} ahead"
            + (f" ({', '.join(ui.md_escape(r.name) for r in ahead)})" if ahead else "")
            + ".",
            icon=":material/hourglass_top:",
        )
    elif record.status == "running":
        label = prog.stage_title + (f" · step {prog.step:,} of {prog.total:,}" if prog.total else "")
        st.progress(prog.fraction or 0.0, text=label)
    elif record.status == "finished":
        st.progress(1.0, text="Finished")
    run_metrics(record, prog, steps)
    busy = busy_note() if record.status in ("running", "queued") else None
    if busy:
        st.caption(f":material/speed: {ui.md_escape(busy)}.")
    if prog.last_message and record.status == "running":
        st.caption(ui.md_escape(prog.last_message))
    ui.run_error(record)
    ui.gate_banner(record.dir)
    results(record)
    if record.status == "finished" and (finished := runinfo.metrics(record.dir)):  # one read of metrics.json
        with st.expander("Try it: score your own pair with every model", icon=":material/science:"):
            preds = runinfo.load_predictions(record.dir)
            tryit.try_it(record, finished, runinfo.verdict(record.dir, record.task).recommended, preds)
            tryit.fixes(record, finished, record.task or "regression", preds)

    run_curves(prog, run_id)
    review = runinfo.load_review(record.dir)
    if review:
        s = runinfo.review_summary(review)
        st.caption(
            f":material/rate_review: Silver review: {s['wrong']} pairs marked wrong, {s['corrected']} scores corrected "
            "(see the Silver labels page)."
        )
    with st.expander("Log", icon=":material/article:"):
        st.code(runinfo.read_log(record.dir, 80) or "(no log yet)", language=None, wrap_lines=True)

    # A new status: redraw the whole page once (sidebar; live refresh off when the run has ended).
    key = f"_seen_status_{run_id}"
    previous = st.session_state.get(key)
    st.session_state[key] = record.status
    if previous is not None and previous != record.status:
        st.rerun(scope="app")


is_live = ui.is_active(record)
st.fragment(run_every=REFRESH_S if is_live else None)(live)(record.id)
st.divider()
launch_box(expanded=False)
