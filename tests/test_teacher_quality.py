"""Seed optimisation, teacher search on dev, the label cache, stage reuse and studies (real models, tiny data)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from augsbert_core import ExperimentConfig, RunStore, run_experiment
from augsbert_core.config import ConfigError, ModelConfig, TeacherSearchConfig
from augsbert_core.io.data import load_pairs
from augsbert_core.models import load_cross_encoder
from augsbert_core.runs.progress import ProgressEvent
from augsbert_core.student import train_student
from augsbert_core.teacher import LabelCache, label_pairs, search_teacher, train_teacher

pytestmark = pytest.mark.slow


def _pairs(paths, split):
    return load_pairs(paths[split], scale=(0, 5)).frame


def test_seed_trials_finish_the_best_seed_exactly_as_a_straight_run(tiny_stsb, tmp_path):
    train, dev = _pairs(tiny_stsb, "train"), _pairs(tiny_stsb, "dev")
    cfg = ModelConfig(epochs=1, batch_size=16, seed_trials=3, seed_trial_fraction=0.25)
    events: list[ProgressEvent] = []
    model = train_student(train, cfg, tmp_path / "searched", dev=dev, seed=5, sink=events.append)
    report = json.loads((tmp_path / "searched" / "seed_search.json").read_text())
    assert [t["seed"] for t in report["trials"]] == [5, 6, 7]
    assert all(t["steps"] == 1 for t in report["trials"])  # 25% of 4 steps
    assert report["chosen_seed"] == max(report["trials"], key=lambda t: t["dev"])["seed"]
    assert any("finishing seed" in (e.message or "") for e in events)
    assert not list((tmp_path / ".checkpoints").glob("searched.seed-*")), "trial checkpoints are cleaned up"
    # continuing from the trial checkpoint gives the same model as training that seed straight through
    straight = train_student(
        train, ModelConfig(epochs=1, batch_size=16), tmp_path / "straight", dev=dev, seed=report["chosen_seed"]
    )
    sentences = list(dev["sentence1"][:8])
    np.testing.assert_allclose(model.encode(sentences), straight.encode(sentences), atol=1e-5)


def test_teacher_search_keeps_the_best_on_dev_and_respects_the_budget(micro_stsb, tmp_path):
    gold, dev = _pairs(micro_stsb, "train"), _pairs(micro_stsb, "dev")
    search = TeacherSearchConfig(learning_rates=[1e-4, 1e-6], epochs=[1], budget_minutes=30)
    model, trials = search_teacher(gold, ModelConfig(batch_size=16), search, tmp_path / "teacher", dev=dev, seed=3)
    done = [t for t in trials if t["status"] == "done"]
    assert len(done) == 2 and sum(t["chosen"] for t in trials) == 1
    chosen = next(t for t in trials if t["chosen"])
    assert chosen["dev"] == max(t["dev"] for t in done)
    assert (tmp_path / "teacher" / "config.json").is_file() and not (tmp_path / ".teacher_search").exists()
    reloaded = load_cross_encoder(str(tmp_path / "teacher"), device="cpu")
    np.testing.assert_allclose(
        label_pairs(reloaded, dev["sentence1"], dev["sentence2"]),
        label_pairs(model, dev["sentence1"], dev["sentence2"]),
        atol=1e-5,
    )
    # a budget smaller than one trial: the first trial runs, every later one is skipped and says why
    tight = TeacherSearchConfig(learning_rates=[1e-4, 5e-5, 2e-5], epochs=[1], budget_minutes=1e-4)
    _, trials = search_teacher(gold, ModelConfig(batch_size=16), tight, tmp_path / "tight", dev=dev, seed=3)
    assert [t["status"] for t in trials][0] == "done"
    assert all(t["status"].startswith("skipped") for t in trials[1:])


def test_label_cache_scores_each_pair_once_per_teacher(micro_stsb, tmp_path):
    gold = _pairs(micro_stsb, "train")
    teacher = train_teacher(gold, ModelConfig(epochs=1, batch_size=16, learning_rate=1e-4), tmp_path / "t", seed=1)
    cache = LabelCache.for_model(tmp_path / "t", "cpu", root=tmp_path / "cache")
    s1, s2 = list(gold["sentence1"]), list(gold["sentence2"])
    first = label_pairs(teacher, s1[:10], s2[:10], cache=cache)
    assert len(cache) == 20  # both orders
    events: list[ProgressEvent] = []
    again = label_pairs(teacher, s1, s2, cache=cache, sink=events.append)
    np.testing.assert_allclose(again[:10], first, atol=1e-6)
    np.testing.assert_allclose(again, label_pairs(teacher, s1, s2), atol=1e-5)
    assert any("20 ordered pairs already scored" in (e.message or "") for e in events)
    assert next(e.total for e in events if e.total) == 2 * len(s1) - 20  # only the new pairs were scored
    # another teacher (other weights) gets another cache file
    train_teacher(gold, ModelConfig(epochs=1, batch_size=16, learning_rate=5e-5), tmp_path / "t2", seed=1)
    assert LabelCache.for_model(tmp_path / "t2", "cpu", root=tmp_path / "cache").path != cache.path


def test_study_reuses_stages_across_samplers_and_summarises_seeds(micro_stsb, tmp_path, monkeypatch):
    monkeypatch.setenv("AUGSBERT_HOME", str(tmp_path / "home"))
    data = {k: str(v) for k, v in micro_stsb.items()}
    (tmp_path / "study.yaml").write_text(
        textwrap.dedent(f"""\
        name: tiny
        seeds: [1, 2]
        share_teacher: true
        out: out
        experiments:
          - name: s2
            samplers: [bm25, random]
            config:
              scenario: 2
              task: regression
              data: {{train: {data["train"]}, dev: {data["dev"]}, test: {data["test"]},
                      unlabeled: {data["unlabeled"]}, scale: [0, 5]}}
              top_k: 2
              student: {{epochs: 1, batch_size: 16}}
              teacher: {{epochs: 1, batch_size: 16, learning_rate: 1.0e-4}}
              ensemble: on
              gate: {{action: proceed}}
              live_evals: 0
              checkpoints: 0
        """)
    )
    from augsbert_core.study import Study

    study = Study.from_file(tmp_path / "study.yaml")
    lines: list[str] = []
    results = study.run(log=lines.append)
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert len(index) == 4
    runs = {key.split("|")[1] + key.split("|")[2]: pd.Series(dict(dir=v)) for key, v in index.items()}
    first, second = (
        json.loads((tmp_path / "out" / "runs" / d.dir.split("/")[-1] / "state.json").read_text())
        for d in (runs["bm251"], runs["random1"])
    )
    assert "reused_from" not in first and second["reused_from"] == runs["bm251"].dir.split("/")[-1]
    assert second["timings"]["gold_only"] == 0.0  # not trained again
    assert second["metrics"]["gold_only"] == first["metrics"]["gold_only"]
    # one teacher for both seeds: the first seed's run trains it with the run's own stage, the second uses it
    seed2 = json.loads((tmp_path / "out" / "runs" / runs["bm252"].dir.split("/")[-1] / "config.json").read_text())
    assert seed2["teacher"]["model"] == str((Path(runs["bm251"].dir) / "models" / "teacher").resolve())
    assert seed2["teacher"]["epochs"] == 0
    # the ensemble labeled the silver pairs: each score is the calibrated mix of its members' scores
    from augsbert_core.teacher.ensemble import TeacherEnsemble

    run_dir = tmp_path / "out" / "runs" / runs["random2"].dir.split("/")[-1]
    silver = pd.read_csv(run_dir / "silver.csv")
    ens = TeacherEnsemble.from_dict(json.loads((run_dir / "ensemble.json").read_text()))
    np.testing.assert_allclose(
        silver["score"], ens(silver["score_cross_encoder"], silver["score_bi_encoder"]), atol=1e-5
    )
    assert json.loads((run_dir / "gate.json").read_text())["teacher_kind"] == "ensemble"
    # the table: one row per model, mean +- std over the two seeds
    block = results["experiments"][0]
    rows = {r["model"]: r for r in block["rows"]}
    assert {
        "zero-shot student",
        "gold-only student",
        "teacher: cross-encoder",
        "AugSBERT (bm25)",
        "AugSBERT (random)",
    } <= set(rows)
    assert rows["gold-only student"]["n"] == 2 and rows["AugSBERT (random)"]["n"] == 2
    values = rows["AugSBERT (bm25)"]["test.spearman"]["values"]
    assert rows["AugSBERT (bm25)"]["test.spearman"]["mean"] == pytest.approx(np.mean(values), abs=0.01)
    md = (tmp_path / "out" / "results.md").read_text()
    assert "| AugSBERT (bm25) |" in md and "±" in md and "Readiness gate" in md
    # rerunning skips every finished run
    lines.clear()
    study.run(log=lines.append)
    assert sum("done before" in line for line in lines) == 4 and not any("running" in line for line in lines)
    # a cell rerun after a config change (a second digest in the index) counts once: its later run is the cell's
    index[f"s2|bm25|1|{'0' * 12}"] = runs["random1"].dir
    block = study.collect(index)["experiments"][0]
    assert {r["model"]: r["n"] for r in block["rows"]}["AugSBERT (bm25)"] == 2
    bm25_seed1 = [r["run"] for r in block["runs"] if r["sampler"] == "bm25" and r["seed"] == 1]
    assert bm25_seed1 == [Path(runs["random1"].dir).name]
    # reuse_from refuses a run whose trained models do not fit
    cfg = study.cell_config(study.experiments[0], 1, "bm25")
    cfg.student.epochs = 2
    cfg.reuse_from = runs["bm251"].dir
    with pytest.raises(ConfigError, match="'student' differs"):
        run_experiment(cfg, store=RunStore(tmp_path / "other"))
    # ... and one that read the same files on another scale (issue 25, class 5): its models learned other labels
    cfg = study.cell_config(study.experiments[0], 1, "bm25")
    cfg.data.scale = [0.0, 10.0]
    cfg.reuse_from = runs["bm251"].dir
    with pytest.raises(ConfigError, match=r"'data.scale' differs \(\[0.0, 5.0\] there, \[0.0, 10.0\] here\)"):
        run_experiment(cfg, store=RunStore(tmp_path / "other"))


def test_config_rejects_bad_quality_settings():
    with pytest.raises(ConfigError, match="config key 'ensemble': input should be 'auto', 'on' or 'off'; got 'maybe'"):
        ExperimentConfig.from_dict({"data": {"train": "a", "test": "b"}, "ensemble": "maybe"})
    with pytest.raises(ConfigError, match="teacher.seed_trials"):
        ExperimentConfig.from_dict({"data": {"train": "a", "test": "b"}, "teacher": {"seed_trials": 0}})
    with pytest.raises(ConfigError, match="seed_trial_fraction"):
        ExperimentConfig.from_dict({"data": {"train": "a", "test": "b"}, "student": {"seed_trial_fraction": 1.5}})
    with pytest.raises(ConfigError, match="teacher_search needs a dev split"):
        ExperimentConfig.from_dict({"data": {"train": "a", "test": "b"}, "teacher_search": {"epochs": [1, 2]}})
    cfg = ExperimentConfig.from_dict({"data": {"train": "a", "test": "b"}, "ensemble": False})
    assert cfg.ensemble == "off"  # YAML's bare `off` is a boolean


def test_max_silver_caps_candidates_before_labeling():
    from augsbert_core.silver import cap_before_labeling as _cap_before_labeling

    candidates = pd.DataFrame(
        {"sentence1": [f"a{i}" for i in range(100)], "sentence2": [f"b{i}" for i in range(100)], "sampler": "bm25"}
    )
    cfg = ExperimentConfig.from_dict({"data": {"train": "a", "test": "b"}, "max_silver": 30, "seed": 4})
    capped = _cap_before_labeling(candidates, cfg)
    assert len(capped) == 30 and capped["sentence1"].is_unique
    assert capped.equals(_cap_before_labeling(candidates, cfg))  # deterministic for a seed
    cfg.sampler = "kde"  # KDE needs room to choose: it labels twice the cap
    assert len(_cap_before_labeling(candidates, cfg)) == 60
    cfg.max_silver = None
    assert len(_cap_before_labeling(candidates, cfg)) == 100
    # the unlabeled file's own pairs are kept first; sampled pairs top them up to the cap
    mixed = candidates.assign(sampler=["given"] * 20 + ["bm25"] * 80)
    cfg.sampler, cfg.max_silver = "bm25", 30
    counts = _cap_before_labeling(mixed, cfg)["sampler"].value_counts()
    assert counts["given"] == 20 and counts["bm25"] == 10
    cfg.max_silver = 12  # a cap below the given pairs draws among them
    assert set(_cap_before_labeling(mixed, cfg)["sampler"]) == {"given"}
