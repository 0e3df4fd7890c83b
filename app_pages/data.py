"""Data: upload gold and unlabeled files (or load a demo), map columns, pick the score scale, name the dataset,
see validation errors and summaries."""

import pandas as pd
import streamlit as st

from augsbert_core.errors import AugsbertError
from augsbert_core.io import data as core_data
from studio import charts, goldreview, scenario, ui, workspace

TAB_KEY = "data_role"  # the selected role tab: a keyed, stateful st.tabs keeps it across reruns
NAME_KEY = "dataset_name"
NAME_SHOWN = "dataset_name_shown"  # the name the box was last filled with (to follow renames made elsewhere)
SCALE_USE = "Training targets, charts, tables and exports use it; to change it, upload the file again and pick another."
TWICE = "The same column is picked for two targets below: pick a different column for one of them."

st.title("Data")
st.caption(
    "Gold pairs (train, dev, test) and unlabeled text. Files are checked by the core's validator before "
    "they are kept: a file with problems is not saved, and the problems name the row and column."
)

manifest = workspace.read_manifest()

flash = st.session_state.pop("data_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

with st.expander("Built-in demo data", expanded=not manifest["files"], icon=":material/rocket_launch:"):
    cols = st.columns(len(workspace.DEMOS))
    for col, (key, demo) in zip(cols, workspace.DEMOS.items()):
        with col.container(border=True, height="stretch"):
            st.markdown(f"**{demo['title']}**")
            st.caption(demo["blurb"])
            if st.button("Load", key=f"load_demo_{key}", type="primary" if key == "stsb-quick" else "secondary"):
                scenario.load_demo(key)
                st.session_state["data_flash"] = f"Loaded the {demo['title']}. It replaces the previous dataset."
                st.rerun()


# --------------------------------------------------------------------------------------------- overview
def _renamed() -> None:
    workspace.set_title(st.session_state[NAME_KEY])
    title = workspace.dataset_title()
    st.session_state[NAME_KEY] = title
    st.session_state[NAME_SHOWN] = title


def name_box() -> None:
    """The dataset's name, editable (taken from the uploaded files, or the demo's while a demo is loaded)."""
    title = workspace.dataset_title(manifest)
    if NAME_KEY not in st.session_state or st.session_state.get(NAME_SHOWN) != title:
        st.session_state[NAME_KEY] = title
        st.session_state[NAME_SHOWN] = title
    st.text_input(
        "Active dataset",
        key=NAME_KEY,
        max_chars=120,
        on_change=_renamed,
        help="Taken from the uploaded files' names; type another name to rename the dataset (empty: back to the "
        "files' name).",
    )


def scale_line() -> None:
    """The task and score scale of the gold pairs, and where the scale comes from."""
    role = "train" if "train" in files else "test" if "test" in files else None
    if role is None:
        return
    loaded, _ = ui.load_role(role)
    if not loaded or loaded.get("kind") != "pairs":
        return
    if loaded["task"] == "positive_pairs":
        st.markdown("**Task:** positive pairs only: hard negatives will be mined (scenario 2)")
        return
    if loaded["task"] != "regression":
        st.markdown("**Task:** classification · labels 0/1")
        return
    scale = loaded["scale"]
    detected = files[role].get("detected_scale")
    if workspace.recorded_scale(manifest) is None or detected == list(scale):
        st.markdown(
            f"**Task:** regression · **score scale {scale[0]:g}–{scale[1]:g}**, detected from "
            f"{ui.md_escape(loaded['name'])}. {SCALE_USE}"
        )
    else:
        st.markdown(
            f"**Task:** regression · **score scale {scale[0]:g}–{scale[1]:g}**, chosen when "
            f"{ui.md_escape(loaded['name'])} was saved"
            + (f" (its scores suggest {detected[0]:g}–{detected[1]:g})" if detected else "")
            + f". {SCALE_USE}"
        )


files = manifest["files"]
if files:
    name_box()
    scale_line()
    rows = []
    for role, info in files.items():
        rows.append(
            {
                "role": workspace.ROLES[role][0],
                "rows": info.get("rows"),
                "from": info.get("original"),
                "saved": ui.fmt_time(info.get("saved_at")),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if st.button(
        "Start over",
        key="reset_dataset",
        icon=":material/restart_alt:",
        type="tertiary",
        help="Remove every saved file of this dataset (its name and score scale too); finished runs are kept.",
    ):
        workspace.reset_dataset()
        st.rerun()
    demo_roles = [r for r, info in files.items() if workspace.is_demo_entry(info)]
    if demo_roles and manifest.get("source") not in workspace.DEMOS:
        st.caption(
            ":material/info: Still from the demo: "
            + ", ".join(workspace.ROLES[r][0].lower() for r in workspace.ROLES if r in demo_roles)
            + ". Upload your own file for each, or remove them."
        )
else:
    st.info("No data yet: load a demo above or upload files below.", icon=":material/info:")


# ----------------------------------------------------------------------------------------------- upload
show_error = ui.data_error


def mapping_note(missing: list[str], twice: bool, clicked: bool, name: str) -> None:
    """What is wrong with the mapping, in the page's words: the controls it names are right below."""
    if missing and clicked:
        st.error(
            f"**{ui.md_escape(name)} was not saved.** Not recognised: {', '.join(missing)}. "
            f"Pick {' and '.join(workspace.PICK[m] for m in missing)} below"
            f"{''.join(workspace.PICK_ALSO.get(m, '') for m in missing)}.",
            icon=":material/alt_route:",
        )
    elif missing:
        st.warning(
            f"Not recognised: {', '.join(missing)}. Pick {' and '.join(workspace.PICK[m] for m in missing)} below"
            f"{''.join(workspace.PICK_ALSO.get(m, '') for m in missing)}.",
            icon=":material/alt_route:",
        )
    elif twice and clicked:
        st.error(f"**{ui.md_escape(name)} was not saved.** {TWICE}", icon=":material/alt_route:")
    elif twice:
        st.warning(TWICE, icon=":material/alt_route:")


def scale_box(role: str, found: core_data.ScoreRange | None, payload: bytes, file_id: str):
    """Scores of the waiting file: a scale control for gold pairs (the source domain's have their own). Returns the
    scale to save with (None: 0/1 labels) and whether it can be saved."""
    if found is None:
        return None, True
    if found.binary and found.low == found.high == 1:
        st.caption("Every label is 1: positive pairs only, hard negatives will be mined (no score scale).")
        return None, True
    if found.binary:
        st.caption("Labels 0/1: a classification task (no score scale).")
        return None, True
    if role not in workspace.PAIR_ROLES:
        return None, True
    default, why = workspace.upload_scale(role, found, payload)
    st.markdown(
        f"**Score scale** · scores in column '{ui.md_escape(found.column)}' run {found.low:g} to {found.high:g}; "
        f"{ui.md_escape(why)}: {default[0]:g}–{default[1]:g}. Change it here if the scale is another."
    )
    scale = ui.scale_picker(f"scale_{role}_{file_id}", default, found)
    return scale, scale is not None


def upload_box(role: str) -> str | None:
    """Upload, map, pick the scale, validate and save. Returns the name of a file waiting to be saved."""
    title, _ = workspace.ROLES[role]
    uploaded = st.file_uploader(
        f"Upload {title.lower()}",
        type=workspace.UPLOAD_TYPES,
        key=f"upload_{role}",
        help="CSV, TSV, JSONL/JSON, Parquet or TXT (one sentence per line). UTF-8 text, with a header row for CSV/TSV.",
    )
    err_key = f"upload_error_{role}"
    if uploaded is None:
        st.session_state.pop(err_key, None)
        return None
    name = workspace.display_name(uploaded.name)
    payload = uploaded.getvalue()
    frame, read_error = workspace.read_upload(uploaded.name, payload)
    if read_error is not None:
        show_error(read_error, name)
        return None  # nothing that can be saved
    columns = [str(c) for c in frame.columns]
    remembered = workspace.remembered_mapping(columns, role)  # an earlier file with this header was mapped
    guess = remembered or workspace.guess_mapping(columns, role)
    if remembered is not None and remembered != workspace.guess_mapping(columns, role):
        st.caption(":material/history: The mapping of an earlier file with the same columns; change it if needed.")
    st.markdown(f"**Column mapping** · which column of {ui.md_escape(name)} holds what")
    mapping_slot = st.container()  # filled once the choices below are known
    mapping = {}
    for col, target in zip(st.columns(len(guess)), guess):
        options = ["(none)"] + columns
        default = options.index(guess[target]) if guess[target] in columns else 0
        choice = col.selectbox(target, options, index=default, key=f"map_{role}_{target}_{uploaded.file_id}")
        mapping[target] = None if choice == "(none)" else choice
    missing = workspace.missing_targets(mapping, role)
    chosen = [c for c in mapping.values() if c]
    twice = len(chosen) != len(set(chosen))
    found = workspace.upload_scores(frame, mapping) if role in workspace.PAIR_ROLES and not missing else None
    scale, scale_ok = scale_box(role, found, payload, uploaded.file_id)
    signature = (uploaded.file_id, tuple(mapping.items()), scale)
    saved = not missing and not twice and workspace.is_saved(role, payload, mapping, scale)
    clicked = st.button("Validate and save", key=f"save_{role}", type="primary", icon=":material/task_alt:")
    with mapping_slot:
        mapping_note(missing, twice, clicked, name)
    if clicked and not missing and not twice and scale_ok:
        result = workspace.save_upload(role, uploaded.name, payload, mapping, scale=scale)
        if result.ok:
            st.session_state.pop(err_key, None)
            count = len(result.warnings)
            note = f" ({count} warning{'s' if count != 1 else ''})" if count else ""
            st.session_state["data_flash"] = (
                f"Saved {ui.md_escape(name)} as {title.lower()}: {result.entry['rows']:,} rows{note}."
            )
            st.rerun()
        st.session_state[err_key] = (result.error, name, signature)
    stored = st.session_state.get(err_key)
    if stored is not None and stored[2] == signature:  # a changed mapping or scale makes it stale
        show_error(stored[0], stored[1])
    return None if saved else name


def stats_heading(role: str, loaded: dict, pending: str | None) -> None:
    """Say which file the numbers below describe: the saved one (and that an upload above is not saved)."""
    info = files.get(role) or {}
    if pending:
        st.info(
            f"**The numbers below describe the saved file, {ui.md_escape(loaded['name'])}** (saved "
            f"{ui.fmt_time(info.get('saved_at'))}), not {ui.md_escape(pending)}, which is waiting to be saved.",
            icon=":material/info:",
        )
    else:
        st.markdown(
            f"**Saved file:** {ui.md_escape(loaded['name'])} · saved {ui.fmt_time(info.get('saved_at'))}. "
            "The numbers below describe it."
        )


def summary(role: str, pending: str | None) -> None:
    loaded, error = ui.load_role(role)
    if error is not None:
        show_error(error, (files.get(role) or {}).get("original") or workspace.ROLES[role][0], saved=True)
        return
    if loaded is None:
        st.caption(
            "Nothing saved for this role yet."
            + (f" {ui.md_escape(pending)} is waiting to be saved: press Validate and save." if pending else "")
        )
        return
    stats_heading(role, loaded, pending)
    s = loaded["summary"]
    if loaded["kind"] == "pairs":
        frame = loaded["frame"]
        m = st.columns([1, 1.6, 1, 1, 1.3])  # room for "classification" and "Duplicates dropped" (no ellipsis)
        m[0].metric("Pairs", f"{s['rows']:,}")
        m[1].metric("Task", s["task"])
        m[2].metric("Scale", f"{s['scale'][0]:g}–{s['scale'][1]:g}" if s.get("scale") else "0/1")
        if s["task"] == "regression":
            low, high = s.get("scale") or (0, 1)
            m[3].metric("Mean score", f"{low + (high - low) * (s['label_mean'] or 0):.2f}")
        else:
            m[3].metric("Positives", f"{100 * (s['positive_share'] or 0):.0f}%")
        m[4].metric("Duplicates dropped", s["duplicates_dropped"])
        left, right = st.columns(2)
        left.plotly_chart(
            charts.label_histogram(frame["label"], s["task"], s.get("scale"), "Label histogram"), key=f"labels_{role}"
        )
        right.plotly_chart(
            charts.length_histogram(
                pd.concat([frame["sentence1"], frame["sentence2"]]), "Sentence length distribution"
            ),
            key=f"lengths_{role}",
        )
    else:
        m = st.columns(4)
        m[0].metric("Unique sentences", f"{s['sentences']:,}")
        m[1].metric("Pairs", f"{s['pairs']:,}" if s.get("pairs") is not None else "–")
        m[2].metric("Mean words", f"{s['mean_words']:.1f}" if s.get("mean_words") else "–")
        m[3].metric("Duplicates merged", s["duplicates_dropped"])
        st.plotly_chart(
            charts.length_histogram(pd.Series(loaded["sentences"]), "Sentence length distribution"),
            key=f"lengths_{role}",
        )
    for warning in loaded.get("warnings", []):
        st.caption(f":material/warning: {ui.md_escape(warning)}")
    path = workspace.role_path(role)
    with st.expander("Preview (first 200 rows)", expanded=False):
        preview = core_data.read_table(path).head(200)
        preview.index = pd.RangeIndex(1, len(preview) + 1, name="row")  # numbered as the messages number rows
        st.dataframe(preview, width="stretch")
    if st.button("Remove this file", key=f"remove_{role}", icon=":material/delete:", type="tertiary"):
        workspace.remove_role(role)
        st.rerun()


st.subheader("Files")
tabs = st.tabs([workspace.ROLES[role][0] for role in workspace.ROLES], key=TAB_KEY, on_change="rerun")
for tab, role in zip(tabs, workspace.ROLES):
    with tab:
        st.caption(workspace.ROLES[role][1])
        waiting = upload_box(role)
        summary(role, waiting)


# ----------------------------------------------------------------------------------------- suspect gold labels
SUSPECT_HELP = (
    "Each pair is scored by a cross-encoder teacher trained on the other folds of the train file (5 folds), so no "
    "teacher sees the pair it scores, combined with the zero-shot bi-encoder's similarity by a fit on the other "
    "folds; the suspicion is how far the label is from that out-of-fold prediction "
    "(regression: after an isotonic calibration, in units of the typical residual; 0/1 labels: 1 minus the "
    "teacher's probability of the given label, cleanlab's self-confidence). High = worth a second look, not "
    "proof of an error."
)


def ranking_job(fingerprint: str, table) -> None:
    """The background ranking job: its progress and Stop, or Rank (again), or why the last one stopped."""
    record = goldreview.job()
    mine = record is not None and record.get("train_fingerprint") == fingerprint
    if mine and record["running"]:
        st.info(
            "Ranking the train file's labels in a background job (cross-fitted teachers)…", icon=":material/hourglass:"
        )
        if record["log_tail"]:
            st.code(record["log_tail"], language=None)
        r1, r2 = st.columns(2)
        r1.button("Refresh", key="suspects_refresh", icon=":material/refresh:")
        if r2.button("Stop ranking", key="suspects_stop", icon=":material/stop_circle:"):
            goldreview.stop_job()
            st.rerun()
    else:
        if mine and record.get("stopped_at"):
            st.info("The last ranking job was stopped; start it again when you like.", icon=":material/stop_circle:")
        elif mine and table is None and record["log_tail"]:
            st.warning("The last ranking job did not finish:", icon=":material/error:")
            st.code(record["log_tail"], language=None)
        if st.button(
            "Rank suspect labels" if table is None else "Rank again",
            key="suspects_start",
            help="Starts `augsbert label-errors` as a background job",
        ):
            try:
                goldreview.start_job(fingerprint)
            except AugsbertError as exc:
                st.error(ui.md_escape(str(exc)))
            else:
                st.rerun()


def review_editor(fingerprint: str, table, source: str) -> None:
    """The ranked pairs with exclude / corrected-score boxes, saved as the gold review the next run applies."""
    st.caption(f"{len(table):,} train pairs ranked, most suspect first, {ui.md_escape(source)}.")
    review = goldreview.load_review(fingerprint)
    shown_n = int(
        st.number_input("Pairs shown", min_value=1, max_value=len(table), value=min(20, len(table)), key="suspects_n")
    )
    shown = table.head(shown_n).copy()
    shown["exclude"] = [bool(review.get(int(r), {}).get("exclude")) for r in shown["row"]]
    shown["corrected_score"] = [review.get(int(r), {}).get("score") for r in shown["row"]]
    shown["corrected_score"] = shown["corrected_score"].astype(float)
    scale = workspace.dataset_scale() or (0.0, 1.0)
    edited = st.data_editor(
        shown,
        hide_index=True,
        width="stretch",
        key=f"gold_review_{fingerprint}_{shown_n}",
        disabled=[c for c in shown.columns if c not in ("exclude", "corrected_score")],
        column_config={
            "rank": st.column_config.NumberColumn("rank", width="small"),
            "row": st.column_config.NumberColumn("row", help="1-based data row of the train file", width="small"),
            "label": st.column_config.NumberColumn("label", format="%.2f"),
            "oof_prediction": st.column_config.NumberColumn(
                "out-of-fold prediction", format="%.2f", help="the score of a teacher that never saw this pair"
            ),
            "suspicion": st.column_config.NumberColumn("suspicion", format="%.2f", help=SUSPECT_HELP),
            "teacher_prediction": st.column_config.NumberColumn(
                "teacher alone", format="%.2f", help="the out-of-fold teacher's score before stacking"
            ),
            "exclude": st.column_config.CheckboxColumn("exclude", help="leave this pair out of the next run's gold"),
            "corrected_score": st.column_config.NumberColumn(
                "corrected score",
                min_value=float(scale[0]),
                max_value=float(scale[1]),
                help=f"the label the next run uses instead, on {scale[0]:g}–{scale[1]:g}",
            ),
        },
    )
    excluded = sum(1 for v in review.values() if v.get("exclude"))
    corrected = sum(1 for v in review.values() if v.get("score") is not None and not v.get("exclude"))
    if st.button("Save gold review", key="gold_review_save", icon=":material/save:"):
        goldreview.save_review(
            fingerprint, review, edited[["row", "sentence1", "sentence2", "exclude", "corrected_score"]]
        )
        st.session_state["data_flash"] = "Gold review saved: the next run applies it to its gold."
        st.rerun()
    st.caption(
        f"Saved review: {excluded:,} excluded, {corrected:,} re-scored, in data/gold_review.json. The next run from "
        "the Scenario page applies it to its gold (config key `data.gold_review`); a new train file starts a new "
        "review."
    )


def suspect_labels() -> None:
    """The train file's most suspect labels, with exclude / corrected-score decisions saved for the next run."""
    fingerprint = goldreview.train_fingerprint()
    if fingerprint is None:
        return
    st.subheader("Suspect gold labels", help=SUSPECT_HELP)
    table, source = goldreview.suspects(fingerprint)
    ranking_job(fingerprint, table)
    if table is None:
        st.caption(
            "No ranking for this train file yet: start one here, or run an experiment with "
            "`label_errors: {enabled: true}` (or `augsbert label-errors CONFIG`)."
        )
        return
    review_editor(fingerprint, table, source)


suspect_labels()
