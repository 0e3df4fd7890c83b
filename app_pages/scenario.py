"""Scenario: pick scenario 1/2/3, the augmenter or samplers, base models and hyperparameters; see the estimate."""

import streamlit as st

from augsbert_core import choices
from augsbert_core import estimate as est
from augsbert_core.config import AUTO_SILVER, sampler_label
from augsbert_core.runs import RunFiles
from studio import modelbox, qualitybox, runinfo, scenario, ui, workspace
from studio import scenario_words as words

st.title("Scenario")
st.caption("How the silver data is made and which models learn from it. The settings are saved in the workspace.")

manifest = workspace.read_manifest()
if not manifest["files"]:
    st.info("Add data first: load the demo or upload files on the Data page.", icon=":material/info:")
    st.page_link(ui.PAGES["data"], label="Go to Data", icon=":material/arrow_forward:")
    st.stop()


def use_gate_option(option: str) -> None:
    """A gate advice button: change the saved draft as the option says and let its widgets show the change."""
    scenario.save_draft(scenario.apply_gate_option(scenario.load_draft(), option))
    for key in scenario.GATE_ACTION_WIDGETS.get(option, ()):
        st.session_state.pop(key, None)


def gate_advice(draft: dict) -> None:
    """The current run's weak readiness gate: what it suggests, as buttons that change the draft."""
    record = ui.current_record()
    gate = runinfo.read_json(record.dir, RunFiles.GATE) if record is not None else None
    options = scenario.gate_actions(gate)
    if not options or scenario.scenario_spec(draft).augments:
        return
    with st.container(border=True):
        st.markdown(
            f"**The teacher of run {ui.md_escape(record.name)} was weak.** "
            f"{ui.md_escape(gate.get('summary') or gate.get('message', ''))}. What to try:"
        )
        for option in options:
            label, words = scenario.GATE_ACTIONS[option]
            left, right = st.columns([3, 2], vertical_alignment="center")
            left.markdown(f"- {ui.md_escape(words)}")
            if label is None:
                if option == "source_gold":
                    right.page_link(ui.PAGES["data"], label="Go to Data", icon=":material/arrow_forward:")
                continue
            done = scenario.gate_option_applied(draft, option)
            right.button(
                label + (" · done" if done else ""),
                key=f"sc_gate_{option}",
                icon=":material/check:" if done else ":material/bolt:",
                disabled=done,
                on_click=use_gate_option,
                args=(option,),
            )


draft = scenario.load_draft()
gate_advice(draft)
new = dict(draft)


# ------------------------------------------------------------------------------------------------ scenario
choice = st.radio(
    "Scenario",
    list(scenario.SCENARIOS),
    index=list(scenario.SCENARIOS).index(int(draft["scenario"])),
    format_func=lambda s: scenario.SCENARIOS[s][0],
    key="sc_scenario",
    horizontal=False,
    captions=[scenario.SCENARIOS[s][1].replace("\n", "  \n") for s in scenario.SCENARIOS],
)
new["scenario"] = int(choice)
spec = scenario.scenario_spec(new)  # what this scenario reads and makes (the core's registry.ScenarioSpec)
files = manifest["files"]
absent = [workspace.ROLES[r][0] for r in spec.required_roles if r not in files]
if absent:
    st.warning(f"This scenario needs: {', '.join(absent)}. Add them on the Data page.", icon=":material/warning:")
    st.page_link(ui.PAGES["data"], label="Add them on the Data page", icon=":material/arrow_forward:")
if spec.gold_and_silver and "unlabeled" not in files:
    st.caption("No unlabeled file: the samplers recombine the gold sentences only.")
if scenario.gold_task() == "positive_pairs":
    if spec.gold_and_silver:
        st.info(
            "**Task: positive pairs only** · the gold has no negatives: hard negatives will be mined from the "
            "unlabeled and gold sentences, a binary teacher checks them and labels the sampled pairs, and the student "
            "trains with MultipleNegativesRankingLoss on (anchor, positive, negative) triplets. Metrics: retrieval "
            "(MRR@10, Recall@1/10, NDCG@10), plus AP and F1 on a split with 0/1 labels.",
            icon=":material/join:",
        )
    else:
        st.warning(
            "The gold has positive pairs only (task positive_pairs): choose scenario 2, which mines its negatives.",
            icon=":material/warning:",
        )


def target_task() -> str | None:
    """'classification' or 'regression': the task of the target gold (test, else dev), None before it loads."""
    for role in ("test", "dev"):
        loaded, _ = ui.load_role(role)
        if loaded:
            return loaded["task"]
    return None


# ----------------------------------------------------------------------------------------- silver source
def augmenter_settings(draft: dict, new: dict) -> None:
    """Scenario 1: the augmenter, copies per pair and the share of words changed (into `new`)."""
    aug = dict(draft["augment"])
    methods = list(scenario.AUGMENT_METHODS)
    c1, c2, c3 = st.columns([2, 1, 1])
    aug["method"] = c1.selectbox(
        "Augmenter",
        methods,
        index=methods.index(aug.get("method", "wordnet")),
        key="sc_aug_method",
        help="\n".join(f"- **{k}**: {v}" for k, v in words.AUGMENTERS.items()),
    )
    aug["copies"] = int(c2.number_input("Copies per pair", 1, 10, int(aug.get("copies", 1)), key="sc_aug_copies"))
    aug["aug_p"] = float(c3.slider("Words changed", 0.05, 0.5, float(aug.get("aug_p", 0.15)), 0.05, key="sc_aug_p"))
    st.caption(words.AUGMENTERS[aug["method"]])
    if aug["method"].startswith("contextual"):
        aug["model"] = (
            st.text_input(
                "Masked language model (hub name or local path)", aug.get("model") or "", key="sc_aug_model"
            ).strip()
            or None
        )
        if aug["model"]:
            modelbox.model_note(aug["model"])
    new["augment"] = aug


def given_pairs_only(draft: dict, files: dict) -> bool:
    """Whether the unlabeled file's pairs are labeled as they are (no sampling), said in a note."""
    given_only = False
    if "unlabeled" in files:
        pool, _ = ui.load_role("unlabeled")
        chosen = st.session_state.get("sc_candidates", draft["candidates"])  # set under Advanced
        if pool and pool.get("pairs") is not None:
            # what `candidates` resolves to for these settings (auto: given, or given+sampled for a student with a
            # silver budget such as the static one), as the run will resolve it
            source = scenario.draft_config({**draft, "candidates": chosen}).candidates_spec(True)
            given_only = not source.samples
            if given_only:
                st.info(
                    "The unlabeled file has pairs: the teacher labels those pairs as they are (no sampling, so the "
                    f"samplers and top-k below do not apply; candidate pairs: {ui.md_escape(chosen)}, see Advanced).",
                    icon=":material/info:",
                )
            else:
                st.info(
                    "The unlabeled file has pairs: the teacher labels them as they are, topped up with sampled pairs "
                    f"(candidate pairs: {ui.md_escape(chosen)} -> {ui.md_escape(source.name)}"
                    + (", the student's silver budget" if chosen == choices.AUTO else "")
                    + ", see Advanced).",
                    icon=":material/info:",
                )
    return given_only


def sampler_choice(draft: dict, new: dict, given_only: bool) -> None:
    """The samplers (one run each) or one mix of them with its shares (into `new`)."""
    samplers = st.pills(
        "Samplers (one run each; several runs queue on the device)",
        list(scenario.SAMPLERS),
        selection_mode="multi",
        default=[s for s in draft["samplers"] if s in scenario.SAMPLERS],
        key="sc_samplers",
        disabled=given_only,
    )
    new["samplers"] = samplers or ["bm25"]
    if not samplers:
        st.caption("Nothing selected: BM25 is used.")
    for s in new["samplers"]:
        st.markdown(f"- **{ui.md_escape(s)}**: {words.SAMPLER_HELP[s]}")
    mixable = [s for s in new["samplers"] if s in scenario.MIX_SAMPLERS]
    mix_on = st.toggle(
        "Mix samplers (one run)",
        value=bool(draft.get("mix")),
        key="sc_mix",
        disabled=len(mixable) < 2,
        help="One run whose candidates come from the chosen samplers in the shares set here (e.g. 70% BM25 "
        "neighbours, 30% random pairs), instead of one run per sampler. Choose two or more samplers; kde cannot "
        "be mixed.",
    )
    new["mix"] = bool(mix_on and len(mixable) >= 2)
    shares = dict(draft.get("mix_shares") or {})
    if new["mix"]:
        for col, s in zip(st.columns(len(mixable)), mixable):
            shares[s] = col.slider(f"{ui.md_escape(s)} share (%)", 5, 95, int(shares.get(s, 50)), 5, key=f"sc_mix_{s}")
        mix = scenario.sampler_mix({**new, "mix_shares": shares}) or {}
        st.caption(
            "One run: "
            + " · ".join(f"{ui.md_escape(s)} {100 * v:.0f}%" for s, v in mix.items())
            + " of the candidates (shares that do not sum to 100% are scaled to it)."
            + "".join(
                f" {ui.md_escape(s)} is left out: it selects after labeling and cannot be mixed."
                for s in new["samplers"]
                if s not in scenario.MIX_SAMPLERS
            )
        )
    new["mix_shares"] = shares


def sampler_sizes(draft: dict, new: dict, spec, given_only: bool) -> None:
    """Top-k, the unlabeled pool size, the silver cap and (scenario 3, 0/1) the threshold (into `new`)."""
    c1, c2, c3 = st.columns(3)
    new["top_k"] = int(
        c1.slider(
            "Top-k neighbours per sentence",
            1,
            10,
            int(draft["top_k"]),
            key="sc_top_k",
            disabled=given_only,
            help="Each sentence is paired with its k best matches (the paper uses 3).",
        )
    )
    pool_size = c2.number_input(
        "Unlabeled pool size (0 = all)",
        0,
        10_000_000,
        int(draft["data"].get("max_unlabeled") or 0),
        step=500,
        key="sc_pool",
        help="Random subset of unlabeled sentences, for a quicker run.",
    )
    new["data"] = {**draft["data"], "max_unlabeled": int(pool_size) or None}
    cap = c3.number_input(
        "Max silver pairs (0 = the student's budget)",
        0,
        10_000_000,
        draft["max_silver"] if isinstance(draft.get("max_silver"), int) else 0,  # auto: 0
        step=1000,
        key="sc_max_silver",
        help="0 = max_silver: auto: a static student learns from up to 20,000 silver pairs (the given ones topped "
        "up with sampled ones: its silver-volume curve kept rising on dev), a transformer student from the "
        "candidates as they are. A number caps the silver pairs (drawn at random before labeling).",
    )
    new["max_silver"] = int(cap) or AUTO_SILVER
    if spec.source_domain and target_task() == "classification":
        thr = st.number_input(
            "Classification threshold on teacher scores (0 = choose on dev)",
            0.0,
            1.0,
            float(draft.get("threshold") or 0.0),
            0.05,
            key="sc_threshold",
        )
        new["threshold"] = float(thr) or None
    else:
        new["threshold"] = None  # chosen on dev (classification), or no threshold at all (scores)


def sampler_settings(draft: dict, new: dict, spec, files: dict) -> None:
    """Scenarios 2, 3: the samplers (or a mix), top-k, the pool and silver caps, the threshold (into `new`)."""
    given_only = given_pairs_only(draft, files)
    sampler_choice(draft, new, given_only)
    sampler_sizes(draft, new, spec, given_only)


st.subheader("Augmenter" if spec.augments else "Sampler")
if spec.augments:
    augmenter_settings(draft, new)
else:
    sampler_settings(draft, new, spec, files)


# --------------------------------------------------------------------------------------------------- models
st.subheader("Models")
left, right = st.columns(2)
with left:
    new["student"] = modelbox.model_box(
        draft, "student", "Student · bi-encoder", "The fast model you deploy: it embeds each sentence once."
    )
with right:
    if spec.augments:
        st.info(
            "**No teacher in scenario 1:** the augmented copies keep their gold labels. A cross-encoder with the "
            "default settings is still trained on gold, as a reference row in the results.",
            icon=":material/info:",
        )
    else:
        new["teacher"] = modelbox.model_box(
            draft,
            "teacher",
            "Teacher · cross-encoder",
            "Reads both sentences together: slower, more accurate; labels the silver pairs.",
        )


def run_options(draft: dict, new: dict, has_teacher: bool) -> None:
    """The run's gate, live evaluations, seed, device, gold-only baseline and tracking (into `new`)."""
    c1, c2, c3, c4 = st.columns(4)
    gate = dict(draft["gate"])
    if has_teacher:  # scenario 1 makes no silver labels: no readiness gate
        actions = ["warn", "stop", "proceed"]
        gate["action"] = c1.selectbox(
            "When the teacher is weak",
            actions,
            index=actions.index(gate.get("action", "warn")),
            key="sc_gate",
            help="The readiness gate compares the teacher with the students on dev "
            "before labeling. warn: go on and say so; stop: end the run.",
        )
        gate["margin"] = (
            float(
                c2.number_input(
                    "Gate margin (points)",
                    0.0,
                    20.0,
                    100 * float(gate.get("margin", 0.0)),
                    0.5,
                    key="sc_gate_margin",
                )
            )
            / 100
        )
    new["gate"] = gate
    new["live_evals"] = int(
        c3.number_input(
            "Dev evaluations per training",
            0,
            20,
            int(draft["live_evals"]),
            key="sc_live_evals",
            help="Points of the live metric curve.",
        )
    )
    new["seed"] = int(c4.number_input("Seed", 0, 2**31 - 1, int(draft["seed"]), key="sc_seed"))
    devices = [choices.AUTO, "cpu", "cuda"]
    dev = c1.selectbox("Device", devices, index=devices.index(draft.get("device") or choices.AUTO), key="sc_device")
    new["device"] = None if dev == choices.AUTO else dev
    new["train_gold_only"] = c2.toggle(
        "Train the gold-only baseline",
        bool(draft["train_gold_only"]),
        key="sc_gold_only",
        disabled=not spec.gold_train,
    )
    trackers = list(scenario.TRACKERS)
    new["tracking"] = c3.selectbox(
        "Experiment tracking",
        trackers,
        index=trackers.index(draft.get("tracking", "none")),
        key="sc_tracking",
        help="Also log each run elsewhere (nothing is sent anywhere unless chosen). "
        + " ".join(f"{k}: {v}" for k, v in words.TRACKING_HELP.items()),
    )


def labeling_options(draft: dict, new: dict, files: dict) -> None:
    """Scenarios 2, 3: the teacher's warm start, the silver labeler, the candidate pairs, the engine."""
    st.markdown("**Teacher and silver labels**")
    w1, w2, w3 = st.columns(3)
    warm = list(scenario.WARM_START_MODES)
    new["teacher"]["warm_start"] = w1.selectbox(
        "Teacher warm start",
        warm,
        index=warm.index(draft["teacher"].get("warm_start", "auto")),
        key="sc_warm_start",
        help=words.WARM_START_ABOUT,
    )
    labelers = list(scenario.LABELERS)
    new["labeler"] = w2.selectbox(
        "Silver labeler",
        labelers,
        index=labelers.index(draft["labeler"]),
        key="sc_labeler",
        format_func=lambda v: v.replace("_", "-"),
        help="auto: short student probes on dev choose the labels that teach the student most. "
        "cross-encoder: the cross-encoder's scores; ensemble: the teacher ensemble's.",
    )
    sources = list(scenario.CANDIDATE_SOURCES)
    new["candidates"] = w3.selectbox(
        "Candidate pairs",
        sources,
        index=sources.index(draft["candidates"]),
        key="sc_candidates",
        help="auto: label the unlabeled pairs as they are when the unlabeled file has pairs, else sample pairs "
        "from its sentences. given: those pairs only; sampled: pairs from the sentences; given+sampled: both.",
    )
    st.caption(
        f"**Warm start {new['teacher']['warm_start']}:** "
        f"{words.WARM_START_HELP[new['teacher']['warm_start']]} "
        f"**Labeler {new['labeler'].replace('_', '-')}:** {words.LABELER_HELP[new['labeler']]} "
        f"**Candidates {new['candidates']}:** {words.CANDIDATES_HELP[new['candidates']]}"
    )
    plan = choices.labeling_plan(new["labeler"], new["ensemble"])
    if plan.forced is choices.ENSEMBLE and not plan.fit_ensemble:
        st.warning(
            "The labeler is the ensemble but the teacher ensemble is off (Teacher quality).",
            icon=":material/warning:",
        )
    e1, e2 = st.columns([1, 2])
    engines = list(scenario.ENGINES)
    new["engine"] = e1.selectbox(
        "Sampling and labeling engine",
        engines,
        index=engines.index(draft.get("engine", "local")),
        key="sc_engine",
        help=" ".join(f"{k}: {v}" for k, v in words.ENGINE_HELP.items()),
    )
    address = e2.text_input(
        "Ray cluster address",
        draft["ray"].get("address") or "",
        key="sc_ray_address",
        placeholder="empty: RAY_ADDRESS, else a local Ray cluster",
        disabled=not choices.engine(new["engine"]).cluster,
        help="e.g. ray://head-node:10001. Every worker must be able to read the run's folder (the trained "
        "teacher is loaded from it).",
    )
    new["ray"] = {**draft["ray"], "address": address.strip() or None}
    if choices.engine(new["engine"]).cluster and not scenario.ray_installed():
        st.warning(
            "Ray is not installed on this server: pip install -e '.[ray]' (or choose engine local).",
            icon=":material/warning:",
        )
    pool_pairs = "unlabeled" in files and (ui.load_role("unlabeled")[0] or {}).get("pairs") is not None
    if choices.candidate_source(new["candidates"]).given and not pool_pairs:
        st.warning(
            "Candidate pairs 'given' needs an unlabeled file with two sentence columns (pairs).",
            icon=":material/warning:",
        )


def remote_code_options(draft: dict, new: dict, has_teacher: bool) -> None:
    """Trust remote code, per model: off unless the model is not an offline one and the user trusts it."""
    st.markdown(
        "**Remote code** · some hub models ship their own Python code. It runs on this server when the "
        "model loads, so it stays off unless you trust that model's authors."
    )
    t1, t2 = st.columns(2)
    for col, role in ((t1, "student"), (t2, "teacher")) if has_teacher else ((t1, "student"),):
        custom = new[role]["model"] not in words.OFFLINE_MODELS
        new[role]["trust_remote_code"] = col.checkbox(
            f"Trust remote code of the {role} model" + (f" ({ui.md_escape(new[role]['model'])})" if custom else ""),
            value=bool(draft[role].get("trust_remote_code")) and custom,
            key=f"sc_{role}_trust",
            disabled=not custom,
            help="Runs the model's own code from the hub: only for models you trust.",
        )


def advanced(draft: dict, new: dict, spec, files: dict) -> None:
    """The Advanced expander (into `new`)."""
    with st.expander("Advanced", icon=":material/settings:"):
        run_options(draft, new, spec.labels)
        if spec.labels:  # the teacher's warm start and what labels the silver pairs (scenarios 2 and 3)
            labeling_options(draft, new, files)
        remote_code_options(draft, new, spec.labels)


qualitybox.teacher_quality(draft, new, spec, files)
advanced(draft, new, spec, files)

new["name"] = st.text_input(
    "Run name (optional)",
    draft.get("name", ""),
    key="sc_name",
    max_chars=40,
    placeholder=", ".join(scenario.suggested_names(new)),
    help="Empty: each run is named by its scenario and sampler, as suggested here. A name you type is used for "
    "this launch only.",
)
scenario.save_draft(new)

# ------------------------------------------------------------------------------------------------- estimate
st.subheader("Before launch")


def counts() -> est.DataCounts:
    c = est.DataCounts()
    sentences: set[str] = set()
    for role in ("train", "dev", "test", "source_train"):
        loaded, _ = ui.load_role(role)
        if loaded:
            n = len(loaded["frame"])
            if role == "train":
                c.train_pairs = n
                sentences.update(loaded["sentences"])
            elif role == "dev":
                c.dev_pairs = n
            elif role == "test":
                c.test_pairs = n
            else:
                c.source_pairs = n
    pool, _ = ui.load_role("unlabeled")
    if pool:
        c.unlabeled_sentences = len(pool["sentences"])
        c.unlabeled_pairs = len(pool["pairs"]) if pool.get("pairs") is not None else None
        sentences.update(pool["sentences"])
    c.unique_sentences = len(sentences)
    return c


kind = ui.device_kind()
methods = scenario.run_samplers(new)  # 'augment', the samplers, or one mix {sampler: share}
runs = len(methods)
data_counts = counts()
estimates = [est.estimate(scenario.draft_config(new, s), data_counts, kind) for s in methods]
first = estimates[0]
CANDIDATES_NOTE = "Upper bound: top-k × sentences (× samplers); neighbour lists overlap, so often about half."
with st.container(border=True):
    total = sum(e.seconds for e in estimates)
    if runs == 1:
        m = st.columns(4)
        label = "Augmented pairs" if spec.augments else "Candidate pairs"
        m[0].metric(label, first.range("candidates"), help=CANDIDATES_NOTE if spec.labels else None)
        m[1].metric("Silver pairs", first.range("silver"))
        m[2].metric("Student trains on", f"≈ {first.train_pairs:,} pairs")
    else:  # one run per sampler: each row says which sampler it counts
        m = st.columns([3, 1])
        m[0].dataframe(
            [
                {
                    "Sampler": sampler_label(method),
                    "Candidate pairs": e.range("candidates"),
                    "Silver pairs": e.range("silver"),
                    "Student trains on": f"≈ {e.train_pairs:,}",
                    "Time": est.fmt_duration(e.seconds),
                }
                for method, e in zip(methods, estimates)
            ],
            hide_index=True,
            width="stretch",
            key="sc_estimate_table",
        )
        m[0].caption(f"Candidate pairs: {CANDIDATES_NOTE}")
    # past runs in this workspace on this kind of device: their actual time against their estimate
    calibrated = est.calibration(workspace.runs_dir(), est.device_kind(ui.device_description()))
    factor, past = calibrated if calibrated else (1.0, 0)
    m[-1].metric(
        "Rough time on this device",
        f"≈ {est.fmt_duration(total * factor)}",
        help="Measured speeds of the default MiniLM models on 2 CPU cores; a GPU is taken as ~20x faster. "
        "Bigger base models are slower."
        + (
            f" Calibrated on this machine: its last {past:d} finished run(s) took {factor:.2f}x their "
            f"estimate (uncalibrated ≈ {est.fmt_duration(total)})."
            if calibrated
            else ""
        )
        + (f" All {runs} runs: they queue one after another." if runs > 1 else ""),
    )
    for method, e in zip(methods, estimates):
        st.caption(
            (f"**{ui.md_escape(sampler_label(method))}:** " if runs > 1 else "")
            + f"{ui.md_escape(e.silver_note)}. Breakdown: "
            + ", ".join(f"{ui.md_escape(k)} {est.fmt_duration(v)}" for k, v in e.parts.items())
            + "."
        )
    st.caption(f"Device: {ui.md_escape(ui.device_description())}.")
    busy = est.busy_note()
    if busy:
        st.warning(f"{ui.md_escape(busy)}.", icon=":material/speed:")

blocked = scenario.missing_models(new)
for problem in blocked:
    st.warning(f"Cannot launch yet: {problem}.", icon=":material/block:")
if st.button(
    f"Launch {'run' if runs == 1 else f'{runs} runs'}",
    type="primary",
    icon=":material/play_arrow:",
    key="sc_launch",
    disabled=bool(absent or blocked),
):
    if ui.launch(new):  # the draft's name is cleared (scenario.after_launch): the next launch is named afresh
        st.session_state.pop("sc_name", None)
        st.switch_page(ui.PAGES["training"])
