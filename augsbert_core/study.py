"""Studies: the same experiment over several seeds and samplers, summarised as mean +- std per model.

A study file (YAML) names seeds and a list of experiments; each experiment is an ordinary
ExperimentConfig (`config`) plus the samplers to compare:

    name: stsb-cpu
    seeds: [42, 43, 44]
    share_teacher: true          # the first seed's run trains the teacher (warm start included); later seeds use it
    experiments:
      - name: stsb-1k
        samplers: [random, bm25, semantic, bm25+semantic, kde]
        config: {scenario: 2, data: {...}, teacher: {model: mpnet, epochs: 3}, ...}   # or a config file: base.yaml

Per seed, the first sampler's run trains the zero-shot/gold-only/teacher stages; the other samplers reuse
them (`reuse_from`) and the label cache, so only sampling, labeling new pairs and the AugSBERT student
are paid again. Finished runs are recorded in `<out>/index.json` and skipped when the study is rerun.
Results: `<out>/results.json` (every run's metrics) and `<out>/results.md` (the table)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import dumps_json
from .choices import ENSEMBLE
from .config import ConfigError, ExperimentConfig, load_config_file
from .evaluation import PRIMARY_METRIC, RECOMMENDED, model_metrics
from .models import device_description
from .pipeline import run_experiment
from .runs import RunFiles, RunStore, atomic_write_text, silver_labeler
from .runs.progress import ProgressSink, null_sink


@dataclass
class StudyExperiment:
    name: str
    config: dict[str, Any]
    samplers: list[str] = field(default_factory=list)


@dataclass
class Study:
    name: str
    seeds: list[int]
    experiments: list[StudyExperiment]
    share_teacher: bool = False
    out: Path = Path("results")
    base_dir: Path = Path(".")
    note: str = ""

    @classmethod
    def from_file(cls, path: str | Path, out: str | Path | None = None) -> Study:
        path = Path(path)
        raw = load_config_file(path)  # the same bounded, safe reading as an experiment config
        known = {"name", "seeds", "experiments", "share_teacher", "out", "note"}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(
                f"{path}: unknown study key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})"
            )
        if not raw.get("experiments"):
            raise ConfigError(f"{path}: 'experiments' must list at least one experiment")
        experiments = []
        if not isinstance(raw["experiments"], list):
            raise ConfigError(f"{path}: 'experiments' must be a list of {{name, config}} mappings")
        for i, item in enumerate(raw["experiments"]):
            if not isinstance(item, dict) or "config" not in item:
                raise ConfigError(f"{path}: experiments[{i}] needs a 'config' mapping")
            exp = StudyExperiment(
                name=str(item.get("name", f"experiment-{i + 1}")),
                config=_experiment_config(item["config"], path, i),
                samplers=list(item.get("samplers") or []),
            )
            if any(not isinstance(s, str) for s in exp.samplers):  # names key the runs of a study
                raise ConfigError(
                    f"{path}: experiments[{i}].samplers takes sampler names; put a sampler mix in its "
                    "config instead (config: {sampler: {bm25: 0.7, random: 0.3}}) and leave samplers out"
                )
            ExperimentConfig.from_dict(dict(exp.config), base_dir=path.resolve().parent)  # validate early
            experiments.append(exp)
        seeds = raw.get("seeds", [42])
        if not isinstance(seeds, list) or not seeds or not all(type(s) is int and s >= 0 for s in seeds):
            raise ConfigError(f"{path}: seeds must be a list of integers, got {seeds!r}")
        share_teacher = raw.get("share_teacher", False)
        if not isinstance(share_teacher, bool):  # bool("false") is True: only a real boolean decides
            raise ConfigError(f"{path}: share_teacher must be true or false, got {share_teacher!r}")
        base = path.resolve().parent
        out_dir = Path(out) if out else base / str(raw.get("out", f"results/{raw.get('name', path.stem)}"))
        return cls(
            name=str(raw.get("name", path.stem)),
            seeds=list(seeds),
            experiments=experiments,
            share_teacher=share_teacher,
            out=out_dir,
            base_dir=base,
            note=str(raw.get("note", "")),
        )

    # --- running ---------------------------------------------------------------------------------
    def cell_config(self, exp: StudyExperiment, seed: int, sampler: str | None) -> ExperimentConfig:
        raw = json.loads(json.dumps(exp.config))
        raw.update(
            seed=seed, runs_dir=str(self.out / "runs"), name=f"{self.name}.{exp.name}.{sampler or 'run'}.s{seed}"
        )
        if sampler:
            raw["sampler"] = sampler
        return ExperimentConfig.from_dict(raw, base_dir=self.base_dir)

    def run(self, sink: ProgressSink = null_sink, log: Callable[[str], None] = print) -> dict[str, Any]:
        self.out.mkdir(parents=True, exist_ok=True)
        index_path = self.out / "index.json"
        index = json.loads(index_path.read_text()) if index_path.is_file() else {}
        store = RunStore(self.out / "runs")
        started = time.time()
        for exp in self.experiments:
            samplers = exp.samplers or [None]
            teacher_run: str | None = None  # share_teacher: the first seed's run, whose teacher the others use
            teacher_seed: int | None = None
            for seed in self.seeds:
                first_run: str | None = None
                for sampler in samplers:
                    cfg = self.cell_config(exp, seed, sampler)
                    shares = self.share_teacher and cfg.scenario_spec.labels and not cfg.silver_file
                    if shares and teacher_run is not None and seed != teacher_seed:  # its own seed: reuse_from
                        cfg = self._use_shared_teacher(cfg, teacher_run)
                    key = f"{exp.name}|{sampler}|{seed}|{_digest(cfg.to_dict())}"
                    done = index.get(key)
                    if done and (Path(done) / RunFiles.METRICS).is_file():
                        log(f"[study] {exp.name} {sampler or ''} seed {seed}: done before ({Path(done).name})")
                        first_run = first_run or done
                        if shares and teacher_run is None and _has_teacher(done):
                            teacher_run, teacher_seed = done, seed
                        continue
                    if first_run:
                        cfg = replace(cfg, reuse_from=first_run)  # and its teacher, shared or not
                    log(
                        f"[study] {exp.name} {sampler or ''} seed {seed}: running"
                        + (f" (reusing {Path(first_run).name})" if first_run else "")
                    )
                    t0 = time.time()
                    result = run_experiment(cfg, store=store, sink=sink)
                    index[key] = str(result.run_dir)
                    atomic_write_text(index_path, dumps_json(index, indent=2))
                    first_run = first_run or str(result.run_dir)
                    if shares and teacher_run is None and _has_teacher(result.run_dir):
                        teacher_run, teacher_seed = str(result.run_dir), seed
                    log(
                        f"[study] {exp.name} {sampler or ''} seed {seed}: {time.time() - t0:.0f} s, "
                        + ", ".join(f"{k} {100 * v:.2f}" for k, v in _primary(result.metrics, result.task).items())
                    )
        results = self.collect(index)
        results["wall_seconds"] = round(time.time() - started, 1)
        atomic_write_text(self.out / "results.json", dumps_json(results, indent=2))
        atomic_write_text(self.out / "results.md", results_markdown(results))
        return results

    def _use_shared_teacher(self, cfg: ExperimentConfig, teacher_run: str) -> ExperimentConfig:
        """A copy of `cfg` whose teacher is the one `teacher_run` (this experiment's first seed) trained with the
        run's own teacher stage, warm start included, used as it is: the seeds then vary the students and the silver
        draw, and the label cache makes relabeling by the same teacher free."""
        folder = Path(teacher_run) / "models" / "teacher"
        ready = replace(cfg.teacher, model=str(folder.resolve()), epochs=0, seed_trials=1, warm_start="off")
        no_search = replace(cfg.teacher_search, learning_rates=[], epochs=[])
        return replace(cfg, teacher=ready, teacher_search=no_search)

    # --- summarising -----------------------------------------------------------------------------
    def collect(self, index: dict[str, str]) -> dict[str, Any]:
        """Every finished run's metrics, grouped per experiment, and the mean/std table rows."""
        blocks = []
        for exp in self.experiments:
            runs = []
            for (name, sampler, seed), run_dir in latest_cells(index).items():
                if name != exp.name:
                    continue
                if sampler not in [str(s) for s in (exp.samplers or [None])] or int(seed) not in self.seeds:
                    continue
                raw_metrics = json.loads((Path(run_dir) / RunFiles.METRICS).read_text())
                metrics = model_metrics(raw_metrics)
                gate = _maybe_json(Path(run_dir) / RunFiles.GATE)
                ensemble = _maybe_json(Path(run_dir) / RunFiles.ENSEMBLE)
                summary = _maybe_json(Path(run_dir) / RunFiles.SILVER_SUMMARY)
                runs.append(
                    {
                        "sampler": sampler,
                        "seed": int(seed),
                        "run": Path(run_dir).name,
                        "metrics": metrics,
                        "gate": gate,
                        "ensemble_weight": (ensemble or {}).get("weight"),
                        "ensemble_used": (silver_labeler(run_dir) == ENSEMBLE.name) if ensemble else None,
                        "silver_kept": (summary or {}).get("kept"),
                        "silver_sources": (summary or {}).get("by_sampler"),
                        "recommended": raw_metrics.get(RECOMMENDED),
                        "labeler": (summary or {}).get("labeler"),
                        "ks_kept_vs_gold": (summary or {}).get("ks_kept_vs_gold"),
                    }
                )
            task = ExperimentConfig.from_dict(json.loads(json.dumps(exp.config)), base_dir=self.base_dir).task
            if task is None and runs:
                first = next(iter(runs[0]["metrics"].values()))
                task = "classification" if "ap" in first.get("test", {}) else "regression"
            blocks.append(
                {
                    "name": exp.name,
                    "task": task or "regression",
                    "scenario": exp.config.get("scenario", 2),
                    "runs": runs,
                    "rows": summary_rows(runs, task or "regression", [str(x) for x in (exp.samplers or [None])]),
                }
            )
        return {
            "study": self.name,
            "seeds": self.seeds,
            "share_teacher": self.share_teacher,
            "note": self.note,
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "machine": machine_description(),
            "experiments": blocks,
        }


def latest_cells(index: dict[str, str]) -> dict[tuple[str, str, str], str]:
    """One finished run per study cell (experiment, sampler, seed): the index keys a run by its config digest too,
    so a cell rerun after a config change has two entries; the later one (the index keeps the order it was written
    in) is the cell's, and a seed is never counted twice."""
    cells: dict[tuple[str, str, str], str] = {}
    for key, run_dir in index.items():
        name, sampler, seed, _ = key.split("|")
        if (Path(run_dir) / RunFiles.METRICS).is_file():
            cells.pop((name, sampler, seed), None)  # re-inserted last: the latest entry wins
            cells[(name, sampler, seed)] = run_dir
    return cells


def _maybe_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _digest(obj: Any) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _primary(metrics: dict, task: str) -> dict[str, float]:
    m = PRIMARY_METRIC[task]
    return {k: v["test"][m] for k, v in model_metrics(metrics).items() if m in v.get("test", {})}


def machine_description() -> str:

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {device_description()}"


FULL_GOLD_ROW = "full-gold student (ceiling)"


def gap_recovered(augsbert: float, gold_only: float, full_gold: float) -> float | None:
    """Share of the gap between the gold-only student and the full-gold ceiling that AugSBERT closes."""
    gap = full_gold - gold_only
    return (augsbert - gold_only) / gap if gap > 0 else None


def summary_rows(runs: list[dict], task: str, samplers: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per model: mean and std over seeds of the test metrics (x100), plus dev primary."""
    names = ["spearman", "pearson"] if task == "regression" else ["ap", "f1", "accuracy"]
    rows: dict[str, dict[str, list[float]]] = {}
    order: list[str] = []

    def add(label: str, per_split: dict) -> None:
        if label not in rows:
            rows[label] = {}
            order.append(label)
        for split in ("dev", "test"):
            for metric in names:
                value = per_split.get(split, {}).get(metric)
                if value is not None:
                    rows[label].setdefault(f"{split}.{metric}", []).append(100 * value)

    seen_shared: set[tuple[str, int]] = set()
    rank = {name: i for i, name in enumerate(samplers or [])}
    for run in sorted(runs, key=lambda r: (r["seed"], rank.get(r["sampler"], len(rank)), r["sampler"])):
        for key, label in (
            ("zero_shot", "zero-shot student"),
            ("gold_only", "gold-only student"),
            ("full_gold", FULL_GOLD_ROW),
            ("teacher", "teacher: cross-encoder"),
            ("ensemble", "teacher: ensemble (CE + bi-encoder)"),
        ):
            if key in run["metrics"] and (key, run["seed"]) not in seen_shared:
                seen_shared.add((key, run["seed"]))  # shared stages count once per seed
                add(label, run["metrics"][key])
        if "augsbert" in run["metrics"]:
            add(f"AugSBERT ({run['sampler']})" if run["sampler"] != "None" else "AugSBERT", run["metrics"]["augsbert"])
    out = []
    for label in order:
        row: dict[str, Any] = {"model": label, "n": max(len(v) for v in rows[label].values())}
        for column, values in rows[label].items():
            row[column] = {
                "mean": float(np.mean(values)),
                "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                "values": [round(v, 2) for v in values],
            }
        out.append(row)
    return out


def _sources(by_sampler: dict[str, int] | None) -> str:
    """Where a run's candidates came from, for the table ('(given 3,852 + bm25 16,148)'); '' if unknown."""
    if not isinstance(by_sampler, dict) or not by_sampler:
        return ""
    return "(" + " + ".join(f"{name} {count:,}" for name, count in sorted(by_sampler.items())) + ")"


def _has_teacher(run_dir: str | Path) -> bool:
    return (Path(run_dir) / "models" / "teacher" / "config.json").is_file()


def results_markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables (mean +- std over seeds, x100)."""
    lines = [
        f"# Results: {results['study']}",
        "",
        f"{results['date']} · {results['machine']} · seeds {', '.join(map(str, results['seeds']))}"
        + (" · teacher trained once (first seed) and shared by all seeds" if results.get("share_teacher") else ""),
        "",
    ]
    if results.get("note"):
        lines += [results["note"].strip(), ""]
    for block in results["experiments"]:
        lines += _block_table(block) + _block_gains(block) + _block_runs(block) + [""]
    return "\n".join(lines)


def _columns(task: str) -> list[str]:
    return (
        ["test.spearman", "dev.spearman"] if task == "regression" else ["test.ap", "test.f1", "test.accuracy", "dev.ap"]
    )


def _row(block: dict[str, Any], model: str) -> dict[str, Any] | None:
    return next((r for r in block["rows"] if r["model"] == model), None)


def _block_table(block: dict[str, Any]) -> list[str]:
    """One experiment's table: each model's mean ± std per metric column, and the number of seeds."""
    cols = _columns(block["task"])
    lines = [
        f"## {block['name']} (scenario {block['scenario']}, {block['task']})",
        "",
        "| model | " + " | ".join(cols) + " | n |",
        "|---|" + "---:|" * (len(cols) + 1),
    ]
    for row in block["rows"]:
        cells = ["-" if row.get(c) is None else f"{row[c]['mean']:.2f} ± {row[c]['std']:.2f}" for c in cols]
        lines.append(f"| {row['model']} | " + " | ".join(cells) + f" | {row['n']} |")
    return lines


def _block_gains(block: dict[str, Any]) -> list[str]:
    """AugSBERT minus its baseline on the primary test metric, and the share of the gap to full gold it recovers."""
    lines: list[str] = []
    primary = "test.spearman" if block["task"] == "regression" else "test.ap"
    gold = _row(block, "gold-only student")
    baseline = gold or _row(block, "zero-shot student")
    augsbert = [r for r in block["rows"] if r["model"].startswith("AugSBERT") and primary in r]
    if baseline and primary in baseline:
        deltas = [(r["model"], r[primary]["mean"] - baseline[primary]["mean"]) for r in augsbert]
        if deltas:
            lines += [
                "",
                f"AugSBERT minus {baseline['model'].removesuffix(' student')} ({primary}, mean of "
                "seeds): " + ", ".join(f"{m.removeprefix('AugSBERT ').strip('()')} {d:+.2f}" for m, d in deltas),
            ]
    full = _row(block, FULL_GOLD_ROW)
    if gold and full and primary in full and primary in gold:
        shares = [
            (r["model"], gap_recovered(r[primary]["mean"], gold[primary]["mean"], full[primary]["mean"]))
            for r in augsbert
        ]
        lines += [
            "",
            f"Share of the gap recovered, (AugSBERT - gold-only) / (full-gold - gold-only) on "
            f"{primary} (gap {full[primary]['mean'] - gold[primary]['mean']:.2f} points): "
            + ", ".join(
                f"{m.removeprefix('AugSBERT ').strip('()')} " + ("-" if v is None else f"{100 * v:.0f}%")
                for m, v in shares
            ),
        ]
    return lines


def _block_runs(block: dict[str, Any]) -> list[str]:
    """What the runs chose: the recommended model, the labeler, the ensemble's weight, the silver kept, the gate."""
    lines: list[str] = []
    runs = block["runs"]
    recommended = [r.get("recommended") for r in runs if r.get("recommended")]
    if recommended:
        lines += [
            "",
            "Recommended model per run (best on dev of the baseline and AugSBERT; ties to the "
            "baseline): "
            + ", ".join(f"{k} {recommended.count(k)}/{len(recommended)}" for k in sorted(set(recommended))),
        ]
    labelers = [r.get("labeler") for r in runs if r.get("labeler")]
    if labelers:
        lines += [
            "",
            "Silver labels chosen by the labeler probe: "
            + ", ".join(f"{k} {labelers.count(k)}/{len(labelers)}" for k in sorted(set(labelers))),
        ]
    weights = sorted(
        {(r["seed"], r["ensemble_weight"], r["ensemble_used"]) for r in runs if r.get("ensemble_weight") is not None}
    )
    if weights:
        lines += [
            "",
            "Ensemble weight on the cross-encoder (chosen on dev) and whether it labeled the silver "
            "pairs: " + ", ".join(f"seed {s} {w:.1f} ({'used' if u else 'not used'})" for s, w, u in weights),
        ]
    lines += _silver_kept(runs)
    gates = {(r["seed"]): r["gate"]["message"] for r in runs if r.get("gate")}
    if gates:
        lines += ["", "Readiness gate (first seed): " + gates[min(gates)]]
    return lines


def _silver_kept(runs: list[dict[str, Any]]) -> list[str]:
    first_seed = min((r["seed"] for r in runs), default=None)
    kept = [
        (r["sampler"], r["silver_kept"], r["ks_kept_vs_gold"], r.get("silver_sources"))
        for r in runs
        if r.get("silver_kept") is not None and r["seed"] == first_seed
    ]
    if not kept:
        return []
    return [
        "",
        "Silver pairs kept (first seed) and their KS distance to the gold labels: "
        + ", ".join(
            (f"{s} {k:,}" if s != "None" else f"{k:,} {_sources(found)}")
            + (f" (KS {ks:.2f})" if ks is not None else "")
            for s, k, ks, found in kept
        ),
    ]


def _experiment_config(value: Any, study_file: Path, index: int) -> dict[str, Any]:
    """An experiment's `config`: a mapping as it is, or a config file's path (relative to the study file) read with
    the same strict reader, its data paths relative to that file as `augsbert run` reads them; anything else is a
    ConfigError naming the study file and the experiment."""
    if isinstance(value, str):
        config_file = (study_file.resolve().parent / value).resolve()
        if not config_file.is_file():
            raise ConfigError(f"{study_file}: experiments[{index}].config: no config file {config_file}")
        raw = load_config_file(config_file)
        raw.setdefault("base_dir", str(config_file.parent))  # its data paths are relative to it, as with `run`
        return raw
    if not isinstance(value, dict):
        raise ConfigError(
            f"{study_file}: experiments[{index}].config must be a mapping or a config file's path, got {value!r}"
        )
    return value
