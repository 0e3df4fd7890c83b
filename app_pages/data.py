"""Data: upload gold and unlabeled files (or load a demo), map columns, see validation errors and summaries."""

import pandas as pd
import streamlit as st

from augsbert_core import data as core_data
from studio import charts, scenario, ui, workspace

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
files = manifest["files"]
if files:
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
    task_line = ""
    train_loaded, _ = ui.load_role("train") if "train" in files else ui.load_role("test")
    if train_loaded and train_loaded.get("kind") == "pairs":
        scale = train_loaded["scale"]
        task_line = f"**Task:** {train_loaded['task']}" + (
            f" · scores {scale[0]:g}–{scale[1]:g}" if scale else " · labels 0/1"
        )
    st.markdown(
        f"**Active dataset:** {ui.md_escape(manifest.get('title') or 'uploaded files')}  "
        f"{('· ' + task_line) if task_line else ''}"
    )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
else:
    st.info("No data yet: load a demo above or upload files below.", icon=":material/info:")


# ----------------------------------------------------------------------------------------------- upload
show_error = ui.data_error


def upload_box(role: str) -> None:
    title, help_text = workspace.ROLES[role]
    uploaded = st.file_uploader(
        f"Upload {title.lower()}",
        type=workspace.UPLOAD_TYPES,
        key=f"upload_{role}",
        help="CSV, TSV, JSONL/JSON, Parquet or TXT (one sentence per line). UTF-8 text, with a header row for CSV/TSV.",
    )
    err_key = f"upload_error_{role}"
    if uploaded is None:
        st.session_state.pop(err_key, None)
        return
    payload = uploaded.getvalue()
    columns, read_error = workspace.read_columns(uploaded.name, payload)
    if read_error is not None:
        show_error(read_error, uploaded.name)
        return
    guess = workspace.guess_mapping(columns, role)
    missing = workspace.missing_targets(guess, role)
    targets = list(guess)
    with st.expander("Column mapping", expanded=bool(missing)):
        if missing:
            st.warning(
                f"Not recognised: {', '.join(missing)}. Pick the file's column for each.", icon=":material/alt_route:"
            )
        else:
            st.caption("Recognised columns: " + ", ".join(f"{t} ← {ui.md_escape(c)}" for t, c in guess.items() if c))
        mapping = {}
        map_cols = st.columns(len(targets))
        for col, target in zip(map_cols, targets):
            options = ["(none)"] + columns
            default = options.index(guess[target]) if guess[target] in columns else 0
            choice = col.selectbox(target, options, index=default, key=f"map_{role}_{target}_{uploaded.file_id}")
            mapping[target] = None if choice == "(none)" else choice
    if st.button("Validate and save", key=f"save_{role}", type="primary", icon=":material/task_alt:"):
        chosen = [c for c in mapping.values() if c]
        if len(chosen) != len(set(chosen)):
            st.session_state[err_key] = (
                core_data.DataError(
                    [core_data.Problem(uploaded.name, None, None, "the same file column is mapped to two targets")]
                ),
                uploaded.name,
            )
        else:
            result = workspace.save_upload(role, uploaded.name, payload, mapping)
            if result.ok:
                st.session_state.pop(err_key, None)
                note = (
                    f" ({len(result.warnings)} warning{'s' if len(result.warnings) != 1 else ''})"
                    if result.warnings
                    else ""
                )
                st.session_state["data_flash"] = (
                    f"Saved {ui.md_escape(workspace.display_name(uploaded.name))} as "
                    f"{title.lower()}: {result.entry['rows']:,} rows{note}."
                )
                st.rerun()
            else:
                st.session_state[err_key] = (result.error, uploaded.name)
    if err_key in st.session_state:
        show_error(*st.session_state[err_key])


def summary(role: str) -> None:
    loaded, error = ui.load_role(role)
    if error is not None:
        show_error(error, workspace.ROLES[role][0])
        return
    if loaded is None:
        st.caption("Nothing saved for this role yet.")
        return
    s = loaded["summary"]
    if loaded["kind"] == "pairs":
        frame = loaded["frame"]
        m = st.columns(5)
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
        st.dataframe(preview, hide_index=True, width="stretch")
    if st.button("Remove this file", key=f"remove_{role}", icon=":material/delete:", type="tertiary"):
        workspace.remove_role(role)
        st.rerun()


st.subheader("Files")
tabs = st.tabs([workspace.ROLES[role][0] for role in workspace.ROLES])
for tab, role in zip(tabs, workspace.ROLES):
    with tab:
        st.caption(workspace.ROLES[role][1])
        upload_box(role)
        summary(role)
