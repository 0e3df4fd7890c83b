"""The registries of the config's smaller choices: engine, candidate source, silver labeler and the offline model
aliases. Each is one typed spec; the config derives its Literals from them and the recipe, the estimate, the CLI
and the pages ask the spec (`engine(cfg.engine).cluster`) instead of comparing names. `auto` of the labeler and
the candidates is resolved here, once (`labeling_plan`, `resolve_candidates`); the run records the result in
resolved.json. Samplers, scenarios and losses are in registry.py.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO = "auto"  # the choice the run resolves (teacher base, labeler, candidates)
DEFAULT_MODEL = "default"  # a model value: the offline all-MiniLM-L6-v2 (models.DEFAULT_MODEL)


# --- engines -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngineSpec:
    """Where candidate search and labeling run."""

    name: str
    help: str  # the Scenario page's words for it
    cluster: bool = False  # search blocks as Ray tasks and labeling on Ray Data actors (augsbert_core/ray_engine.py)


ENGINES: dict[str, EngineSpec] = {
    spec.name: spec
    for spec in (
        EngineSpec("local", "Candidate search and teacher labeling run in the job on this server."),
        EngineSpec(
            "ray",
            "Candidate search blocks run as Ray tasks and the teacher labels on a pool of Ray actors (the Ray "
            "address below, else RAY_ADDRESS, else a local Ray cluster on this server); the same candidate pairs as "
            "local and the same labels within float tolerance. Needs: pip install -e '.[ray]'.",
            True,
        ),
    )
}


def engine(name: str | None) -> EngineSpec:
    """The spec of an engine; None or an unknown name is the local engine (what a config without the key means)."""
    return ENGINES.get(name or "", ENGINES["local"])


# --- candidate sources -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CandidateSourceSpec:
    """Where a run's candidate pairs come from: the unlabeled file's own pairs, sampled pairs, or both."""

    name: str
    help: str  # the Scenario page's words for it
    given: bool  # the unlabeled file's own pairs, as they are (they need a file of pairs)
    samples: bool  # pairs a sampler draws from the sentences


CANDIDATE_SOURCES: dict[str, CandidateSourceSpec] = {
    spec.name: spec
    for spec in (
        CandidateSourceSpec(
            AUTO,
            "Label the unlabeled pairs as they are when the unlabeled file has pairs, else sample pairs from its "
            "sentences.",
            False,
            False,
        ),
        CandidateSourceSpec(
            "given", "Label the unlabeled file's pairs as they are (the file must have pairs).", True, False
        ),
        CandidateSourceSpec("sampled", "Sample pairs from the sentences with the chosen samplers.", False, True),
        CandidateSourceSpec("given+sampled", "Both: the given pairs and sampled ones.", True, True),
    )
}
#: the name given pairs carry in the candidates' `sampler` column
GIVEN = "given"


def candidate_source(name: str) -> CandidateSourceSpec:
    """The spec of a (resolved) candidate source."""
    return CANDIDATE_SOURCES[name]


def resolve_candidates(name: str, pool_has_pairs: bool, topped_up: bool) -> CandidateSourceSpec:
    """`candidates` for this data: auto = the file's pairs as they are (topped up with sampled pairs when the
    student kind has a silver budget, `topped_up`), sampled when the file holds sentences only."""
    if name != AUTO:
        return CANDIDATE_SOURCES[name]
    if not pool_has_pairs:
        return CANDIDATE_SOURCES["sampled"]
    return CANDIDATE_SOURCES["given+sampled" if topped_up else "given"]


# --- silver labelers ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelerSpec:
    """Whose scores become the silver labels."""

    name: str
    help: str  # the Scenario page's words for it
    model_key: str | None = None  # its model in metrics.json and predictions ('teacher', 'ensemble'); None: auto
    judged: str = ""  # the gate judged it: 'the cross-encoder'
    title: str = ""  # its result card: 'Teacher (cross-encoder)'
    chosen: str = ""  # the labeler probe chose it: 'the cross-encoder alone'

    @property
    def decided_in_run(self) -> bool:
        """`auto`: the run decides (student probes on dev, else the ensemble's own dev score)."""
        return self.model_key is None


LABELERS: dict[str, LabelerSpec] = {
    spec.name: spec
    for spec in (
        LabelerSpec(AUTO, "Short student probes on dev choose the labels that teach the student most."),
        LabelerSpec(
            "cross_encoder",
            "The cross-encoder's scores become the silver labels.",
            "teacher",
            "the cross-encoder",
            "Teacher (cross-encoder)",
            "the cross-encoder alone",
        ),
        LabelerSpec(
            "ensemble",
            "The teacher ensemble's scores (cross-encoder + bi-encoder) become the silver labels.",
            "ensemble",
            "the teacher ensemble",
            "Teacher ensemble",
            "the ensemble",
        ),
    )
}
CROSS_ENCODER = LABELERS["cross_encoder"]
ENSEMBLE = LABELERS["ensemble"]


def labeler(name: str | None) -> LabelerSpec | None:
    """The spec of a labeler name (a config's, or one a run recorded); None for an unknown or missing one."""
    return LABELERS.get(name or "")


def labeler_of_model(key: str) -> LabelerSpec | None:
    """The labeler whose scores are model `key`'s ('teacher' -> cross_encoder, 'ensemble' -> ensemble)."""
    return next((s for s in LABELERS.values() if s.model_key == key), None)


@dataclass(frozen=True)
class LabelingPlan:
    """How a run picks its silver labels, resolved once from `labeler` and `ensemble`."""

    fit_ensemble: bool  # fit the teacher ensemble on dev (it may label)
    probes: bool  # short student probes on dev choose between the cross-encoder and the ensemble
    forced: LabelerSpec | None  # the labeler the config forces; None: decided in the run
    why: str  # the config's words for the choice ('labeler: ensemble', 'ensemble: on', ...)

    @property
    def recorded(self) -> str:
        """resolved.json's `labeler`: 'probes', or the forced labeler's name."""
        return "probes" if self.probes else (self.forced or CROSS_ENCODER).name

    def uses_ensemble(self, beats_members: bool) -> bool:
        """Whether the fitted ensemble labels before any probe: forced, else when it beats both members on dev."""
        return self.forced is ENSEMBLE if self.forced is not None else beats_members


def labeling_plan(labeler_name: str, ensemble_switch: str) -> LabelingPlan:
    """`labeler` (auto, cross_encoder, ensemble) with `ensemble` (auto, on, off) -> the plan. `ensemble: on` forces
    the ensemble and `off` the cross-encoder; only auto with auto leaves a choice for the probes."""
    spec = LABELERS[labeler_name]
    if not spec.decided_in_run:
        return LabelingPlan(spec is ENSEMBLE and ensemble_switch != "off", False, spec, f"labeler: {spec.name}")
    if ensemble_switch == "off":
        return LabelingPlan(False, False, CROSS_ENCODER, "ensemble: off")
    if ensemble_switch == "on":
        return LabelingPlan(True, False, ENSEMBLE, "ensemble: on")
    return LabelingPlan(True, True, None, "chosen on dev by its own score")


# --- offline model aliases ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelAliasSpec:
    """A name a config's `model` can hold that is no hub name or folder: the offline models and `auto`."""

    name: str
    roles: tuple[str, ...]  # 'student', 'teacher'
    label: str  # the Scenario page's option
    by_device: bool = False  # auto: the teacher base chosen for the device (models.default_teacher)
    installed_by_script: bool = False  # mpnet: scripts/setup_mpnet.py installs it once
    transformer: bool = True  # static: a token lookup, no layers to cut, its own batch and learning rate
    large: bool = False  # a 768-d base: ~6x MiniLM's labeling time on CPU (the estimate), a stronger teacher


MODEL_ALIASES: dict[str, ModelAliasSpec] = {
    spec.name: spec
    for spec in (
        ModelAliasSpec(AUTO, ("teacher",), "Auto · the recommended base for this device", by_device=True),
        ModelAliasSpec(DEFAULT_MODEL, ("student", "teacher"), "Offline default (all-MiniLM-L6-v2)"),
        ModelAliasSpec(
            "mpnet",
            ("teacher",),
            "Offline mpnet (all-mpnet-base-v2) · recommended teacher",
            installed_by_script=True,
            large=True,
        ),
        ModelAliasSpec("static", ("student",), "Static (distilled from MiniLM) · fastest on CPU", transformer=False),
    )
}


def model_alias(name: str | None) -> ModelAliasSpec | None:
    """The spec of an alias; None for a hub name, a folder or nothing."""
    return MODEL_ALIASES.get(name or "")


def aliases_for(role: str) -> tuple[str, ...]:
    """The aliases a role's `model` accepts, in the Scenario page's order."""
    return tuple(name for name, spec in MODEL_ALIASES.items() if role in spec.roles)
