"""The Scenario page's settings (a 'draft', persisted in the workspace) and turning them into runs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from augsbert_core import ConfigError, ExperimentConfig
from augsbert_core import jobs
from augsbert_core.runs import atomic_write_json

from . import security, workspace


SCENARIOS: dict[int, tuple[str, str]] = {
    1: ("Scenario 1 · plenty of gold",
        "You have a large labeled training set already.\n"
        "The student trains on gold plus word-level augmented copies (synonyms or a masked LM)."),
    2: ("Scenario 2 · little gold, in-domain text",
        "You have a few hundred to a few thousand labeled pairs and unlabeled text of the same domain.\n"
        "A cross-encoder teacher learns from gold, labels sampled pairs, the student learns from gold + silver."),
    3: ("Scenario 3 · no labels in the target domain",
        "You have labeled pairs of another domain and unlabeled pairs or sentences of yours.\n"
        "A teacher trained on the source domain labels your target pairs; the student learns from that silver."),
}

SAMPLER_HELP: dict[str, str] = {
    "bm25": "BM25 lexical neighbours: fast, finds pairs that share words (the paper's best price/quality).",
    "semantic": "Nearest neighbours by the student's embeddings (faiss): finds paraphrases with other words.",
    "bm25+semantic": "Both pools together: more candidates and a more varied label distribution.",
    "kde": "BM25 + semantic pool, then keeps the subset whose silver label distribution matches gold (KDE).",
    "random": "Random sentence pairs: cheap, but almost all are dissimilar (a baseline, rarely useful).",
}
SAMPLERS = tuple(SAMPLER_HELP)

AUGMENTERS: dict[str, str] = {
    "wordnet": "WordNet synonyms (offline).",
    "contextual-substitute": "A masked language model substitutes words (needs a masked-LM model).",
    "contextual-insert": "A masked language model inserts words (needs a masked-LM model).",
}

_CORE = ExperimentConfig()
DEFAULT_DRAFT: dict[str, Any] = {
    "name": "",
    "scenario": 2,
    "samplers": ["bm25"],
    "top_k": 3,
    "max_unlabeled": None,
    "max_silver": None,
    "augment": {"method": "wordnet", "copies": 1, "aug_p": 0.15, "model": None},
    # The core's defaults, except 2 teacher epochs (the demo config's choice: 4 doubles the teacher's time).
    # trust_remote_code: off; only an explicit per-model checkbox (Advanced) turns it on, for that model.
    "student": {"model": "default", "epochs": _CORE.student.epochs, "batch_size": _CORE.student.batch_size,
                "learning_rate": _CORE.student.learning_rate, "max_seq_length": _CORE.student.max_seq_length,
                "trust_remote_code": False},
    "teacher": {"model": "default", "epochs": 2, "batch_size": _CORE.teacher.batch_size,
                "learning_rate": _CORE.teacher.learning_rate, "max_seq_length": _CORE.teacher.max_seq_length,
                "trust_remote_code": False},
    "gate": {"action": "warn", "margin": 0.0},
    "train_gold_only": True,
    "live_evals": 4,
    "seed": 42,
    "device": None,
    "threshold": None,
}


def draft_path() -> Path:
    return workspace.home() / "studio" / "scenario.json"


def load_draft() -> dict[str, Any]:
    """The saved draft merged over the defaults (unknown keys dropped)."""
    draft = copy.deepcopy(DEFAULT_DRAFT)
    try:
        saved = json.loads(draft_path().read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        saved = {}
    for key, value in saved.items():
        if key not in draft:
            continue
        if isinstance(draft[key], dict) and isinstance(value, dict):
            draft[key].update({k: v for k, v in value.items() if k in draft[key]})
        else:
            draft[key] = value
    if not draft["samplers"]:
        draft["samplers"] = ["bm25"]
    return draft


def save_draft(draft: dict[str, Any]) -> None:
    atomic_write_json(draft_path(), draft)


def build_configs(draft: dict[str, Any]) -> list[ExperimentConfig]:
    """One validated ExperimentConfig per chosen sampler (scenario 1: one per run). Raises ConfigError."""
    manifest = workspace.read_manifest()
    files = manifest["files"]
    scenario = int(draft["scenario"])
    data: dict[str, Any] = {}
    for role in ("train", "dev", "test", "unlabeled", "source_train", "source_dev"):
        if role in files:
            data[role] = str((workspace.data_dir() / files[role]["file"]).resolve())
    if scenario == 3:
        data.pop("train", None)
    if scenario == 1:
        data.pop("unlabeled", None)
    if scenario != 3:
        data.pop("source_train", None)
        data.pop("source_dev", None)
    missing = [workspace.ROLES[r][0] for r in _required_roles(scenario) if r not in data]
    if missing:
        raise ConfigError(f"scenario {scenario} needs: {', '.join(missing)} (add them on the Data page)")
    scale = workspace.dataset_scale() if scenario in (1, 2) else None
    if scale is not None:
        data["scale"] = list(scale)
    if draft.get("max_unlabeled"):
        data["max_unlabeled"] = int(draft["max_unlabeled"])
    samplers = ["augment"] if scenario == 1 else list(draft.get("samplers") or ["bm25"])
    configs = []
    for sampler in samplers:
        raw: dict[str, Any] = {
            "name": _run_name(draft, scenario, sampler),
            "scenario": scenario,
            "data": data,
            "top_k": int(draft["top_k"]),
            "student": _model(draft["student"], "student"),
            "teacher": _model(draft["teacher"], "teacher"),
            "gate": dict(draft["gate"]),
            "seed": int(draft["seed"]),
            "train_gold_only": bool(draft["train_gold_only"]),
            "live_evals": int(draft["live_evals"]),
            "runs_dir": str(workspace.runs_dir()),
        }
        if sampler != "augment":
            raw["sampler"] = sampler
        else:
            aug = {k: v for k, v in draft["augment"].items() if v not in (None, "")}
            if aug.get("model"):
                aug["model"] = checked_model(aug["model"], "augmenter")
            raw["augment"] = aug
        for key in ("device", "threshold", "max_silver"):
            if draft.get(key) not in (None, "", 0):
                raw[key] = draft[key]
        configs.append(ExperimentConfig.from_dict(raw))
    return configs


def _required_roles(scenario: int) -> tuple[str, ...]:
    return {1: ("train", "test"), 2: ("train", "test"), 3: ("source_train", "test", "unlabeled")}[scenario]


def checked_model(name: Any, role: str) -> str:
    """The model value for a config, after the app's allow-list (hub name or a folder under the model roots)."""
    try:
        return security.check_model(str(name or "default")).value
    except security.ModelPathError as exc:
        raise ConfigError(f"{role} model: {exc}") from None


def _model(m: dict[str, Any], role: str = "model") -> dict[str, Any]:
    out = {k: v for k, v in m.items() if v not in (None, "")}
    out["model"] = checked_model(out.get("model"), role)
    trust = bool(out.pop("trust_remote_code", False)) and out["model"] != "default"
    if trust:
        out["trust_remote_code"] = True
    out["batch_size"] = int(out.get("batch_size", 16))
    out["max_seq_length"] = int(out.get("max_seq_length", 128))
    return out


def _run_name(draft: dict[str, Any], scenario: int, sampler: str) -> str:
    base = (draft.get("name") or "").strip()
    label = draft["augment"]["method"] if sampler == "augment" else sampler
    auto = f"s{scenario}-{label}"
    return f"{base}-{label}" if base and len(draft.get("samplers") or []) > 1 and scenario != 1 else (base or auto)


def launch(draft: dict[str, Any]) -> list[str]:
    """Validate the draft, start one job per config and return the run ids (queued on the device)."""
    configs = build_configs(draft)
    store = workspace.store()
    save_draft(draft)
    return [jobs.launch(cfg, store) for cfg in configs]


# ------------------------------------------------------------------------------------------ silver review
def retrain_with_review(record, reviewed) -> str:
    """Write the reviewed silver pairs next to the run and launch a run that trains on them. Returns its id."""
    from augsbert_core.data import write_table

    used = reviewed[reviewed["used"]]
    silver = used.assign(label=used["final_score"])[["sentence1", "sentence2", "label"]]
    if (record.task or "regression") == "classification":
        summary = json.loads((Path(record.dir) / "silver_summary.json").read_text(encoding="utf-8"))
        threshold = summary.get("threshold") or 0.5
        silver = silver.assign(label=(used["final_score"] >= threshold).astype(int))
    target = Path(record.dir) / "silver.reviewed.csv"
    write_table(silver, target)
    raw = json.loads((Path(record.dir) / "config.json").read_text(encoding="utf-8"))
    raw["name"] = f"{raw.get('name', 'run')}-reviewed"[:60]
    raw["silver_file"] = str(target)
    cfg = ExperimentConfig.from_dict(raw)
    return jobs.launch(cfg, workspace.store())
