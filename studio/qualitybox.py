"""The Scenario page's Teacher quality expander: the teacher ensemble, seed trials and the teacher search on dev.
Streamlit widgets, like modelbox.py: the page stays layout."""

from __future__ import annotations

import streamlit as st

from . import scenario
from . import scenario_words as words


def ensemble_options(draft: dict, new: dict, spec, files: dict) -> None:
    """The teacher ensemble (scenarios 2, 3) and what it combines (into `new`)."""
    has_teacher = spec.labels
    if has_teacher:
        modes = list(scenario.ENSEMBLE_MODES)
        new["ensemble"] = st.radio(
            "Teacher ensemble",
            modes,
            index=modes.index(draft["ensemble"]),
            key="sc_ensemble",
            horizontal=True,
            help="\n".join(f"- **{k}**: {v}" for k, v in words.ENSEMBLE_HELP.items()),
        )
    if spec.labels and spec.gold_train:
        st.caption(
            words.ENSEMBLE_HELP[new["ensemble"]]
            + ("" if "dev" in files else " Needs a dev file: without one the cross-encoder labels alone.")
            + (
                ""
                if draft["train_gold_only"]
                else " Without the gold-only baseline (Advanced) the zero-shot student is the bi-encoder member."
            )
        )
    elif spec.source_domain:
        st.caption(
            words.ENSEMBLE_HELP[new["ensemble"]] + " Scenario 3 has no target gold: the zero-shot "
            "student is the bi-encoder member, and the target dev file chooses the weight"
            + ("." if "dev" in files else " (none given: the cross-encoder labels alone).")
        )


def seed_trial_options(draft: dict, new: dict, has_teacher: bool) -> None:
    """Seed trials of the teacher and the student (into `new`)."""
    st.markdown("**Seed trials** · train several seeds for a part of the schedule, finish the best on dev (1 = off).")
    s1, s2 = st.columns(2)
    for col, role in ((s1, "teacher"), (s2, "student")) if has_teacher else ((s1, "student"),):
        with col:
            trials = int(
                st.number_input(
                    f"{role.capitalize()} seed trials",
                    1,
                    20,
                    min(max(int(draft[role].get("seed_trials", 1)), 1), 20),
                    key=f"sc_{role}_seed_trials",
                    help="1 = off. Each extra seed costs about `fraction` of a training.",
                )
            )
            fraction = float(
                st.slider(
                    f"{role.capitalize()} trial fraction",
                    0.05,
                    0.95,
                    min(max(float(draft[role].get("seed_trial_fraction", 0.25)), 0.05), 0.95),
                    0.05,
                    key=f"sc_{role}_seed_fraction",
                    disabled=trials == 1,
                    help="Share of the training schedule each seed trial runs (the paper: 20-30% of an epoch).",
                )
            )
            new[role]["seed_trials"] = trials
            new[role]["seed_trial_fraction"] = round(fraction, 2)


def teacher_search_options(draft: dict, new: dict, spec, files: dict) -> None:
    """The teacher search on dev: learning rates, epochs and its time budget (into `new`)."""
    has_teacher = spec.labels
    search = dict(draft["teacher_search"])
    if has_teacher:
        search["enabled"] = st.toggle(
            "Teacher search on dev",
            bool(search.get("enabled")),
            key="sc_ts_enabled",
            help="Train the teacher with every (learning rate, epochs) pair that fits the "
            "time budget and keep the best on dev. Replaces the teacher's learning "
            "rate and epochs above.",
        )
        if search["enabled"]:
            t1, t2, t3 = st.columns([2, 2, 1])
            search["learning_rates"] = t1.multiselect(
                "Learning rates",
                list(scenario.SEARCH_LEARNING_RATES),
                default=[x for x in search.get("learning_rates", []) if x in scenario.SEARCH_LEARNING_RATES],
                format_func=lambda v: f"{v:.0e}",
                key="sc_ts_lrs",
            )
            search["epochs"] = t2.multiselect(
                "Epochs",
                list(scenario.SEARCH_EPOCHS),
                default=[float(x) for x in search.get("epochs", []) if float(x) in scenario.SEARCH_EPOCHS],
                format_func=lambda v: f"{v:g}",
                key="sc_ts_epochs",
            )
            search["budget_minutes"] = float(
                t3.number_input(
                    "Budget (minutes)",
                    1.0,
                    24 * 60.0,
                    float(search.get("budget_minutes") or 30.0),
                    5.0,
                    key="sc_ts_budget",
                )
            )
            grid = max(len(search["learning_rates"]), 1) * max(len(search["epochs"]), 1)
            st.caption(
                f"{grid} trial{'s' if grid != 1 else ''}; trials that no longer fit the budget are skipped "
                "(the first always runs)."
            )
            dev_role = "source_dev" if spec.source_domain else "dev"
            if dev_role not in files and "dev" not in files:
                st.warning(
                    "Teacher search chooses on the dev file: add one on the Data page.", icon=":material/warning:"
                )
            if not search["learning_rates"] and not search["epochs"]:
                st.warning("Pick at least one learning rate or number of epochs.", icon=":material/warning:")
    new["teacher_search"] = search


def teacher_quality(draft: dict, new: dict, spec, files: dict) -> None:
    """The teacher-quality expander: ensemble, seed trials, the teacher search (into `new`)."""
    has_teacher = spec.labels
    with st.expander(
        "Teacher quality · ensemble, seed trials, search" if has_teacher else "Seed trials",
        icon=":material/workspace_premium:",
    ):
        ensemble_options(draft, new, spec, files)
        seed_trial_options(draft, new, has_teacher)
        teacher_search_options(draft, new, spec, files)
