"""Start: what the app does, one click to load the demo, and where the workflow stands."""

import streamlit as st

from augsbert_core.runs import RunFiles
from studio import runinfo, scenario, ui, workspace

st.title("AugSBERT Studio")
st.markdown(
    "Train a fast **bi-encoder** (sentence embeddings) when you have few labeled pairs: a slower but more "
    "accurate **cross-encoder teacher** learns from your gold pairs, labels many new *silver* pairs sampled "
    "from your text, and the student learns from gold + silver "
    "([Augmented SBERT](https://arxiv.org/abs/2010.08240), Thakur et al., NAACL 2021)."
)

manifest = workspace.read_manifest()
store = workspace.store()
records = store.list()


def _load(key: str) -> None:
    scenario.load_demo(key)
    st.session_state["data_flash"] = f"Loaded the {workspace.DEMOS[key]['title']} into the workspace."


if not manifest["files"]:
    with st.container(border=True):
        st.subheader("New here? Start with the demo")
        st.markdown(
            "No files to prepare: the demo data ships with the app (STS benchmark sentence pairs, "
            "scores 0–5). Load it, pick **Scenario 2 with BM25** and launch."
        )
        c1, c2 = st.columns([1, 2], vertical_alignment="center")
        if c1.button("Load the demo data", type="primary", icon=":material/rocket_launch:", key="demo_full"):
            _load("stsb")
            st.switch_page(ui.PAGES["data"])
        if c2.button("Quick look: 64 gold pairs", icon=":material/bolt:", key="demo_quick"):
            _load("stsb-quick")
            st.switch_page(ui.PAGES["data"])
        st.caption(
            f"**Demo data:** {workspace.DEMOS['stsb']['blurb']}  \n**Quick look:** "
            f"{workspace.DEMOS['stsb-quick']['blurb']}"
        )

flash = st.session_state.pop("flash", None)
if flash:
    st.success(flash)

st.subheader("Workflow")
draft = scenario.load_draft()
not_ready = scenario.launch_problems(draft)  # the check a launch makes: the data roles and the models it needs
current = ui.current_record()
finished = [r for r in records if r.status == "finished"]
steps = [
    (
        "Data",
        ui.PAGES["data"],
        bool(manifest["files"]),
        ", ".join(f"{workspace.ROLES[r][0].lower()}: {info['rows']:,}" for r, info in manifest["files"].items())
        or "upload gold pairs and unlabeled text, or load the demo",
    ),
    (
        "Scenario",
        ui.PAGES["scenario"],
        not not_ready,
        f"{scenario.SCENARIOS[int(draft['scenario'])][0]}"
        + (
            ""
            if scenario.scenario_spec(draft).augments
            else f" · sampler: {ui.md_escape(', '.join(draft['samplers']))}"
        )
        + ("" if not not_ready else f"  \n:orange[:material/block:] not ready: {ui.md_escape('; '.join(not_ready))}"),
    ),
    (
        "Training",
        ui.PAGES["training"],
        current is not None and current.status == "finished",
        f"current run {ui.md_escape(current.name)}: {current.status}" if current else "no run yet",
    ),
    (
        "Silver labels",
        ui.PAGES["silver"],
        current is not None and (workspace.Path(current.dir) / RunFiles.SILVER).exists(),
        "inspect and review the teacher's labels",
    ),
    (
        "Compare",
        ui.PAGES["compare"],
        bool(finished),
        f"{len(finished)} finished run{'s' if len(finished) != 1 else ''}",
    ),
]
for i, (title, page, done, text) in enumerate(steps, 1):
    with st.container(border=True):
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(f"**{i}. {title}** {':green[:material/check_circle:]' if done else ''}  \n{text}")
        right.page_link(page, label="Open", icon=":material/arrow_forward:")

active = runinfo.queue(store)
if active:
    st.info(
        f"{len(active)} job{'s' if len(active) != 1 else ''} on the device right now: "
        + ", ".join(f"{ui.md_escape(r.name)} ({r.status})" for r in active),
        icon=":material/directions_run:",
    )
