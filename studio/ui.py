"""Streamlit glue shared by the pages: the sidebar, the current run, cached loaders and small widgets.

User text (file, column, model, run names, messages quoting them) goes into markdown only as
`ui.md_escape(text)` (studio.security.md_escape; tests/test_escaping.py checks every call site)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from augsbert_core import ConfigError
from augsbert_core.config import role_column_map
from augsbert_core.estimate import device_kind as kind
from augsbert_core.io import data as core_data
from augsbert_core.runs import ACTIVE, RunFiles, RunRecord

from . import device as device_mod
from . import pages, runinfo, scenario, workspace
from .metric_format import NUMBER_FORMAT, metric_label, metric_value
from .security import md_escape

RUN_KEY = "run_id"  # the current run (plain session state, so it survives pages that hide the sidebar picker)
PICKER_KEY = "run_picker"
PENDING_RUN_KEY = "pending_run"

PAGES = pages.PATHS  # page key -> path (the registry is studio/pages.py)


# ----------------------------------------------------------------------------------------------- caching
def device_description() -> str:
    """The compute device (waits for the background detection on first use)."""
    return device_mod.wait()


def device_kind() -> str:

    return kind(device_description())


@st.cache_data(show_spinner=False, max_entries=64)
def _load_role_cached(role: str, signature: str, scale_key: str):
    loaded = workspace.load_role(role)
    if loaded is None:
        return None
    if role in workspace.PAIR_ROLES:
        return {
            "kind": "pairs",
            "name": loaded.source,
            "frame": loaded.frame,
            "task": loaded.task,
            "scale": loaded.scale,
            "summary": loaded.summary(),
            "sentences": loaded.sentences(),
            "warnings": [str(w) for w in loaded.warnings],
        }
    return {
        "kind": "pool",
        "name": loaded.source,
        "sentences": loaded.sentences,
        "pairs": loaded.pairs,
        "summary": loaded.summary(),
        "warnings": [str(w) for w in loaded.warnings],
    }


def load_role(role: str) -> tuple[dict | None, core_data.DataError | None]:
    """The validated contents of a saved role (cached by file size and mtime, and for gold pairs by the
    dataset's scale), or the core's error naming the uploaded file."""
    manifest = workspace.read_manifest()
    if role not in manifest["files"]:
        return None, None
    path = workspace.data_dir() / manifest["files"][role]["file"]
    scale_sig = ""
    if role in workspace.TARGET_ROLES:
        train = workspace.role_path("train") if role != "train" else None
        scale_sig = f"{workspace.recorded_scale(manifest)}|{workspace.file_signature(train)}"
    try:
        return _load_role_cached(role, workspace.file_signature(path), scale_sig), None
    except core_data.DataError as exc:
        return None, exc


@st.cache_data(show_spinner=False, max_entries=32)
def _silver_cached(run_dir: str, signature: str) -> pd.DataFrame | None:
    return runinfo.load_silver(run_dir)


def load_silver(run_dir: str) -> pd.DataFrame | None:
    sig = "|".join(workspace.file_signature(Path(run_dir) / n) for n in (RunFiles.SILVER, RunFiles.AUGMENTED))
    return _silver_cached(run_dir, sig)


@st.cache_data(show_spinner=False, max_entries=16)
def _gold_cached(
    path: str, signature: str, scale: tuple | None, task: str | None = None, column_map: str | None = None
) -> pd.DataFrame | None:
    mapping = json.loads(column_map) if column_map else None  # a JSON string: hashable for the cache
    try:
        return core_data.load_pairs(path, scale=scale, task=task, column_map=mapping).frame
    except (core_data.DataError, ValueError):
        return None


def gold_for_run(record: RunRecord, role: str = "train") -> pd.DataFrame | None:
    """The run's gold pairs of `role` (labels normalised as the run saw them), or None."""
    cfg = runinfo.read_json(record.dir, RunFiles.CONFIG, {}) or {}
    data = cfg.get("data") or {}
    path = data.get(role)
    if not path:
        return None
    p = Path(path)
    if not p.is_absolute() and cfg.get("base_dir"):
        p = Path(cfg["base_dir"]) / p
    if not p.is_file():
        return None
    # as the run read it: its task (0/1 labels are not scores on a scale), its column mapping, its scale
    task = cfg.get("task") if cfg.get("task") in ("regression", "classification") else None
    source = role in ("source_train", "source_dev")
    scale = tuple(data["scale"]) if data.get("scale") and not source and task != "classification" else None
    own = role_column_map(data, role)
    mapping = json.dumps(own, sort_keys=True) if own else None
    return _gold_cached(str(p), workspace.file_signature(p), scale, None if source else task, mapping)


# ----------------------------------------------------------------------------------------------- the run
def select_run(run_id: str) -> None:
    """Make `run_id` the current run (applied before the sidebar picker is drawn on the next rerun)."""
    st.session_state[PENDING_RUN_KEY] = run_id


def launch(draft: dict[str, Any]) -> bool:
    """Launch the runs of a Scenario draft: select the first and leave a note for the Training page.
    Shows why on the page and returns False when the settings cannot run."""

    try:
        ids = scenario.launch(draft)
    except ConfigError as exc:
        st.error(f"**Cannot launch:** {md_escape(exc)}", icon=":material/block:")
        return False
    select_run(ids[0])
    st.session_state["training_flash"] = f"Launched {len(ids)} run{'s' if len(ids) != 1 else ''}."
    return True


def current_record() -> RunRecord | None:
    run_id = st.session_state.get(RUN_KEY)
    if not run_id:
        return None
    try:
        return workspace.store().get(run_id)
    except KeyError:
        return None


def _picked() -> None:
    st.session_state[RUN_KEY] = st.session_state[PICKER_KEY]


def sidebar() -> None:
    """Workspace, current run and compute device (drawn by app.py on every page)."""
    store = workspace.store()
    records = store.list()  # read-only: a run whose worker died already reads 'interrupted'

    ids = [r.id for r in records]
    pending = st.session_state.pop(PENDING_RUN_KEY, None)
    if pending in ids:
        st.session_state[RUN_KEY] = pending
    elif st.session_state.get(RUN_KEY) not in ids:
        st.session_state[RUN_KEY] = ids[0] if ids else None
    st.session_state[PICKER_KEY] = st.session_state[RUN_KEY]
    by_id = {r.id: r for r in records}
    with st.sidebar:
        st.markdown("### :material/science: AugSBERT Studio")
        st.caption("Train sentence embeddings with silver pairs labeled by a cross-encoder teacher.")
        title = workspace.dataset_title()
        if title:
            st.markdown(f"**Data** · {md_escape(title)}")
        else:
            st.markdown("**Data** · none yet")
        if ids:
            st.selectbox(
                "Current run", ids, key=PICKER_KEY, format_func=lambda i: runinfo.run_label(by_id[i]), on_change=_picked
            )
        else:
            st.markdown("**Run** · none yet")
        active = runinfo.queue(store)
        if active:
            running = sum(r.status == "running" for r in active)
            st.caption(f"Jobs: {running} running, {len(active) - running} queued")
        device_line()
        st.caption(f"Workspace: `{md_escape(workspace.home(), code=True)}`")


def device_line() -> None:
    label = device_mod.current()
    if label is None:
        st.fragment(run_every=1.0)(_device_pending)()
    else:
        st.markdown(f"**Device** · {md_escape(label)}")


def _device_pending() -> None:
    if device_mod.current() is not None:
        st.rerun(scope="app")
    st.markdown("**Device** · detecting…")


# ------------------------------------------------------------------------------------------------ widgets
def status_badge(status: str) -> None:
    colors = {
        "queued": "gray",
        "running": "blue",
        "finished": "green",
        "failed": "red",
        "cancelled": "orange",
        "interrupted": "orange",
    }
    st.badge(md_escape(status), icon=runinfo.STATUS_ICONS.get(status), color=colors.get(status, "gray"))


def gate_banner(run_dir: str) -> None:
    """The teacher-readiness verdict, prominently (scenarios 2 and 3), then how the teacher was chosen:
    the ensemble decision, the teacher search trials and the seed trials, where the run has them."""
    gate = runinfo.read_json(run_dir, RunFiles.GATE)
    if gate:
        gate_alert(gate, runinfo.Run.at(run_dir).labeler())
    teacher_choices(run_dir)


def gate_alert(gate: dict[str, Any], labeler: str | None = None) -> None:
    """gate.json's verdict: ready; weak, with what to try in the Scenario page's words (its `options`; older runs:
    the message) and a link there; or, in scenario 1 (no silver labels), that the gate does not apply."""
    text = gate.get("message", "")
    kind = runinfo.gate_teacher_note(gate, labeler)
    if gate.get("verdict") == "ready":
        st.success(f"**Teacher-readiness gate: ready{kind}.** {md_escape(text)}", icon=":material/check_circle:")
    elif gate.get("verdict") == scenario.GATE_NOT_APPLICABLE:
        st.info(f"**Teacher-readiness gate: does not apply.** {md_escape(text)}", icon=":material/info:")
    elif gate.get("verdict") == scenario.GATE_UNDEFINED:
        st.warning(f"**Teacher-readiness gate: no verdict.** {md_escape(text)}", icon=":material/help:")
    else:
        options = scenario.gate_actions(gate)
        if options:
            text = f"{gate.get('summary') or text}. What to try: " + "; ".join(
                scenario.GATE_ACTIONS[o][1] for o in options
            )
        st.warning(f"**Teacher-readiness gate: weak{kind}.** {md_escape(text)}", icon=":material/warning:")
        if options:
            st.page_link(PAGES["scenario"], label="Try these on the Scenario page", icon=":material/tune:")


def teacher_choices(run_dir: str) -> None:
    """The labeling teacher's dev score, then ensemble.json, teacher_search.json and models/*/seed_search.json of a
    run, when present."""
    teacher_line = runinfo.labeling_teacher_text(run_dir)
    if teacher_line:
        st.caption(f":material/school: {teacher_line}")
    decision = runinfo.ensemble_decision(run_dir)
    if decision is not None:
        st.info(runinfo.ensemble_text(decision), icon=":material/join_inner:")
    search = runinfo.teacher_search_table(run_dir)
    seeds = runinfo.seed_trials_table(run_dir)
    if search is None and seeds is None:
        return
    title = " and ".join(t for t, x in (("Teacher search", search), ("seed trials", seeds)) if x is not None)
    with st.expander(title[0].upper() + title[1:] + " (dev)", icon=":material/manage_search:"):
        if search is not None:
            st.markdown(f"**Teacher search** · {runinfo.teacher_search_summary(search)}")
            st.dataframe(
                search,
                hide_index=True,
                width="stretch",
                column_config={
                    "learning rate": st.column_config.NumberColumn(format="%.0e"),
                    "dev ×100": st.column_config.NumberColumn(format="%.2f"),
                    "seconds": st.column_config.NumberColumn(format="%.0f"),
                },
            )
        if seeds is not None:
            st.markdown(f"**Seed trials** · {runinfo.seed_trials_summary(seeds)}")
            st.dataframe(
                seeds,
                hide_index=True,
                width="stretch",
                column_config={
                    "dev ×100": st.column_config.NumberColumn(format="%.2f"),
                    "fraction": st.column_config.NumberColumn(format="%.2f"),
                },
            )


def run_error(record: RunRecord) -> None:
    if record.status in ("failed", "interrupted"):
        title, message, hint = runinfo.explain_failure(record)
        st.error(f"**{title}.** {md_escape(message)}\n\n{hint}", icon=":material/error:")
    elif record.status == "cancelled":
        st.info(f"**Cancelled.** {md_escape(record.error or '')}", icon=":material/stop_circle:")


def data_error(error: core_data.DataError, name: str, saved: bool = False) -> None:
    """A rejected file (`saved`: a saved file that no longer loads, e.g. on a new scale): the first problem
    prominently, then every problem in a table, rows numbered as the core numbers them (all of it shown as text:
    file names and messages quote the upload's own cells, so markdown is escaped and HTML never enabled)."""
    count = f"{error.total} problem{'s' if error.total != 1 else ''}"
    first = error.problems[0]
    where = ", ".join(
        x
        for x in (
            f"row {first.row}" if first.row is not None else "",
            f"column '{first.column}'" if first.column else "",
        )
        if x
    )
    st.error(
        f"**{md_escape(name)} {'does not load' if saved else 'was not saved'}** ({count}). "
        f"{md_escape(where + ': ' if where else '')}{md_escape(first.message)}",
        icon=":material/block:",
    )
    table = pd.DataFrame([{"row": p.row, "column": p.column, "problem": p.message} for p in error.problems])
    st.dataframe(
        table, hide_index=True, width="stretch", column_config={"row": st.column_config.NumberColumn(format="%d")}
    )
    if error.more:
        st.caption(f"… and {error.more} more problems not listed.")


def scale_picker(
    key: str, default: tuple[float, float], found: core_data.ScoreRange | None = None
) -> tuple[float, float] | None:
    """The usual score scales (and a custom low/high), starting at `default`: the scale training targets, charts,
    tables and exports use. Returns it, or None (saying why) when a custom one is not low < high."""
    options = [*workspace.SCALES, workspace.CUSTOM_SCALE]
    preset = next((k for k, v in workspace.SCALES.items() if v == tuple(default)), workspace.CUSTOM_SCALE)
    choice = st.radio(
        "Score scale",
        options,
        index=options.index(preset),
        key=f"{key}_choice",
        horizontal=True,
        help="The lowest and highest score the scale allows (not only those in the file): scores are divided by "
        "it for training, and charts, tables and exports show scores on it.",
    )
    if choice == workspace.CUSTOM_SCALE:
        left, right = st.columns(2)
        low = left.number_input("Lowest possible score", value=float(default[0]), key=f"{key}_low")
        high = right.number_input("Highest possible score", value=float(default[1]), key=f"{key}_high")
        if not low < high:
            st.error("The lowest score must be below the highest.", icon=":material/block:")
            return None
        scale = (float(low), float(high))
    else:
        scale = workspace.SCALES[choice]
    if found is not None and (found.low < scale[0] or found.high > scale[1]):
        st.warning(
            f"Scores in this file run {found.low:g} to {found.high:g}, outside {scale[0]:g}–{scale[1]:g}: saving "
            "lists the rows outside it.",
            icon=":material/warning:",
        )
    return scale


def need_run(message: str = "No run yet.") -> RunRecord | None:
    record = current_record()
    if record is None:
        st.info(f"{message} Launch one on the Scenario page.", icon=":material/info:")
        st.page_link(PAGES["scenario"], label="Go to Scenario", icon=":material/arrow_forward:")
    return record


def fmt_time(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "–"


def pct(value: Any) -> str:
    """A metric ×100 with the app's one precision ('81.2'), '–' when unknown."""
    return metric_value(value)


def runs_table(table: pd.DataFrame) -> None:
    """The Compare page's table of runs (runinfo.runs_table), narrow enough to read: the run name pinned, metric
    columns headed by model (the metric named once above the table, or in each header when runs of both tasks are
    listed; always in the help), one decimal, the least needed columns (sampler, scenario, created, id) last."""
    metric_columns = [c for c in table.columns if "(test " in c]
    metrics_named = {c.rpartition(" ")[2].rstrip(")") for c in metric_columns}
    config: dict[str, Any] = {
        "run": st.column_config.TextColumn("run", pinned=True),
        "scenario": st.column_config.NumberColumn("scenario", format="%d"),
        "recommended": st.column_config.TextColumn(
            "recommended",
            help="The model each finished run recommends: "
            + runinfo.RECOMMENDED_WHY.format(baseline="gold-only (zero-shot in scenario 3)"),
        ),
    }
    for column in metric_columns:
        config[column] = st.column_config.NumberColumn(
            runinfo.metric_column_label(column, with_metric=len(metrics_named) > 1),
            format=NUMBER_FORMAT,
            help=f"{runinfo.metric_column_label(column)} ×100",
        )
    first = ["run", "status", "recommended", *metric_columns, "review", "duration", "sampler", "scenario"]
    order = [c for c in first if c in table.columns] + [c for c in table.columns if c not in first]
    if len(metrics_named) == 1:
        st.caption(f"Model columns: {metric_label(next(iter(metrics_named)), 'test')} ×100.")
    st.dataframe(table, hide_index=True, width="stretch", column_config=config, column_order=order, placeholder="–")


def metrics_tables(run_metrics: dict, recommended: str | None) -> None:
    """Every metric of one run, a table per split (test first), headers in words ('test Spearman')."""
    for split, table in runinfo.metrics_tables(run_metrics, recommended).items():
        st.dataframe(
            table,
            width="stretch",
            column_config={
                column: st.column_config.NumberColumn(
                    metric_label(column.partition(".")[2], split),
                    format="%.3f" if column.endswith(".threshold") else NUMBER_FORMAT,
                )
                for column in table.columns
            },
        )


def is_active(record: RunRecord | None) -> bool:
    return record is not None and record.status in ACTIVE
