"""The Scenario page's model boxes (student and teacher): the offline choices, a hub name or an allowed folder, the
schedule and batch that suit the student kind, the teacher base `auto` stands for, and installing mpnet. Streamlit
widgets, like ui.py: the page stays layout."""

from __future__ import annotations

import streamlit as st

from augsbert_core import choices
from augsbert_core import estimate as est
from augsbert_core import models as core_models
from augsbert_core.config import AUTO_EPOCHS

from . import installs, scenario, security, ui
from . import scenario_words as words


def model_note(name: str) -> bool:
    """Say what the model box's value is (hub name or allowed local folder) or why it is refused."""
    try:
        choice = security.check_model(name)
    except security.ModelPathError as exc:
        st.error(f"**Not accepted:** {ui.md_escape(exc)}", icon=":material/block:")
        return False
    if choice.kind == security.OFFLINE_KIND:
        st.caption("Offline alias of all-mpnet-base-v2" + ("." if scenario.mpnet_installed() else ": not installed."))
    elif choice.kind == security.AUTO_ALIAS:
        st.caption("Auto: the teacher base chosen for this device (as the Auto option above).")
    elif choice.kind == security.LOCAL_KIND:
        st.caption(f"Local folder: `{ui.md_escape(choice.value, code=True)}`")
    elif choice.kind == security.HUB_KIND:
        st.caption("Hub name: downloaded when the job starts (needs network access).")
    return True


def mpnet_note() -> None:
    """Whether the offline mpnet is installed; if not, a button that installs it in the background, its progress
    and its result (the shell command too, for a terminal)."""
    if scenario.mpnet_installed():
        if installs.mpnet_status().state == "done":
            st.caption(":green[:material/download_done:] Installed from this page.")
        st.caption(
            ":green[:material/check_circle:] Installed. Fine-tuned on gold as a cross-encoder it beats the "
            "MiniLM student; about 6x slower on CPU."
        )
        return
    status = installs.mpnet_status()
    if status.state == "running":
        mpnet_progress()
        return
    if status.state == "failed":
        st.error(
            "**The install did not finish"
            + (f" (exit code {status.returncode:d})" if status.returncode is not None else "")
            + ".** Its last output:",
            icon=":material/error:",
        )
        st.code(status.log_tail or "(no output)", language="text")
    else:
        st.warning("**Not installed yet.** Install it once:", icon=":material/download:")
    st.button(
        f"Install the recommended teacher ({installs.MPNET_SIZE_MB:d} MB)"
        if status.state != "failed"
        else "Try the install again",
        key="sc_mpnet_install",
        icon=":material/download:",
        type="primary",
        on_click=installs.start_mpnet,
    )
    st.caption(ui.md_escape(installs.MPNET_NOTE))
    with st.expander("Or in a terminal", icon=":material/terminal:"):
        st.code(scenario.mpnet_setup_command(), language="bash")


@st.fragment(run_every=2)
def mpnet_progress() -> None:
    """The running install's step, refreshed every 2 s; the whole page reruns once it ends."""
    status = installs.mpnet_status()
    if status.state != "running":
        st.rerun()
    st.progress(
        status.fraction,
        text=f"Installing the recommended teacher: {ui.md_escape(status.what or 'starting')}"
        + (f" (step {status.step:d} of {status.total:d})" if status.total else "")
        + f", {est.fmt_duration(status.seconds)} so far",
    )
    st.caption(ui.md_escape(installs.MPNET_NOTE))


def auto_teacher_note(draft: dict) -> None:
    """Which base teacher model "auto" stands for on this device, and why (the core's own sentence)."""
    chosen = st.session_state.get("sc_device", draft.get("device") or choices.AUTO)
    device = scenario.device_for({"device": None if chosen == choices.AUTO else chosen}, ui.device_description())
    name, why = core_models.default_teacher(device)
    st.caption(f":material/auto_awesome: Auto stands for **{scenario.model_label(name)}** here. {ui.md_escape(why)}.")
    if getattr(choices.model_alias(name), "installed_by_script", False):
        mpnet_note()


def base_model(draft: dict, m: dict, role: str) -> None:
    """The base model of `role`: an offline choice, `auto`, static, or a hub name / allowed folder (into `m`)."""
    current = m.get("model") or "default"
    if role == "teacher":
        options = list(words.TEACHER_CHOICES)
        labels = dict(words.TEACHER_CHOICES)
        labels[core_models.MPNET] += " · installed" if scenario.mpnet_installed() else " · not installed"
    else:
        options = list(words.STUDENT_CHOICES)
        labels = dict(words.STUDENT_CHOICES)
    index = options.index(current) if current in options else options.index("custom")
    kind = st.radio(
        "Base model",
        options,
        index=index,
        key=f"sc_{role}_kind",
        horizontal=role != "teacher",
        format_func=labels.get,
    )
    alias = choices.model_alias(kind)
    if alias is not None:  # an offline model or auto, not a name to type
        m["model"] = kind
        if alias.installed_by_script:
            mpnet_note()
        elif alias.by_device:
            auto_teacher_note(draft)
        elif not alias.transformer:
            st.caption(ui.md_escape(words.STATIC_NOTE))
    else:
        name = st.text_input(
            "Hub name or local directory",
            "" if current in options else m["model"],
            key=f"sc_{role}_model",
            placeholder="e.g. bert-base-uncased or /models/my-model",
            help="A Hugging Face hub name, or a model folder under: "
            + ui.md_escape(", ".join(str(r) for r in security.model_roots()))
            + " (set AUGSBERT_MODEL_ROOTS to allow other folders).",
        )
        m["model"] = name.strip() or "default"
        if name.strip():
            model_note(name.strip())


def schedule(m: dict, role: str) -> None:
    """Epochs (or stop on dev), batch size, layers, learning rate and sequence length that suit the kind (into `m`)."""
    c1, c2 = st.columns(2)
    auto = role == "student" and c1.toggle(
        "Stop on dev",
        m.get("epochs") == AUTO_EPOCHS,
        key=f"sc_{role}_auto",
        help="Evaluate on dev after each epoch, keep the best and stop after 2 epochs without a gain: every "
        "student, the gold-only baseline too, gets the schedule that suits it, so AugSBERT is compared with a "
        "tuned baseline. Off: a fixed number of epochs.",
    )
    if auto:
        m["epochs"] = AUTO_EPOCHS
        m["max_epochs"] = int(
            c1.number_input("Epoch limit", 1, 100, int(m.get("max_epochs") or 10), 1, key=f"sc_{role}_max")
        )
    else:
        fixed = 1.0 if m.get("epochs") == AUTO_EPOCHS else float(m.get("epochs", 1))
        m["epochs"] = scenario.whole_epochs(
            c1.number_input("Epochs", 0.25, 50.0, fixed, 1.0, format="%g", key=f"sc_{role}_epochs")
        )
    usual_bs = scenario.usual_batch_size(m["model"]) if role == "student" else 16
    bs = int(m.get("batch_size", usual_bs))
    if role == "student" and bs != usual_bs and bs in words.USUAL_BATCHES:  # another kind's usual batch
        bs = usual_bs
    m["batch_size"] = int(
        c2.selectbox(
            "Batch size",
            words.BATCH_SIZES,
            index=words.BATCH_SIZES.index(bs) if bs in words.BATCH_SIZES else 1,
            key=f"sc_{role}_bs" + (f"_{scenario.rate_kind(m)}" if role == "student" else ""),
        )
    )
    if role == "student" and getattr(choices.model_alias(m["model"]), "transformer", True):
        cut = c2.selectbox(
            "Layers",
            words.LAYER_CHOICES,
            index=words.LAYER_CHOICES.index(m.get("layers")) if m.get("layers") in words.LAYER_CHOICES else 0,
            format_func=lambda n: "all" if n is None else f"first {n}",
            key=f"sc_{role}_layers",
            help="Keep only the first N transformer layers of the base: a faster student (about 6/N times the "
            "sentences/s of the 6-layer MiniLM), weaker before training, so it learns more from silver.",
        )
        m["layers"] = cut
        if cut is not None:
            st.caption(ui.md_escape(words.LAYERS_NOTE))
    else:
        m.pop("layers", None)
    lrs, usual = scenario.learning_rates(m["model"], m.get("layers"))
    lr = float(m.get("learning_rate", usual))
    if lr != usual and lr in words.USUAL_RATES:  # another kind's usual rate: this kind's own instead
        lr = usual
    m["learning_rate"] = float(
        c1.selectbox(
            "Learning rate",
            lrs,
            index=lrs.index(lr) if lr in lrs else lrs.index(usual),
            format_func=lambda v: f"{v:.0e}",
            key=f"sc_{role}_lr_{scenario.rate_kind(m)}",
        )
    )
    seqs = [64, 128, 256, 512]
    seq = int(m.get("max_seq_length", 128))
    m["max_seq_length"] = int(
        c2.selectbox("Max sequence length", seqs, index=seqs.index(seq) if seq in seqs else 1, key=f"sc_{role}_seq")
    )


def model_box(draft: dict, role: str, title: str, help_text: str) -> dict:
    """The box of one model (`student` or `teacher`): its base and its schedule, as the draft's settings."""
    m = dict(draft[role])
    with st.container(border=True):
        st.markdown(f"**{title}**")
        st.caption(help_text)
        base_model(draft, m, role)
        schedule(m, role)
    return m
