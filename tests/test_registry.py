"""The registries' proof (issue 24, items 1 and 6): a toy sampler, defined only here as one spec plus its search
function, is accepted by the config, sampled with the invariants, priced by `augsbert check`, offered by the Scenario
page, and runs end to end; a toy student loss, one spec plus its builder, is checked by role and task and trains the
student of that run. Nothing else in the repo names them."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
import yaml

from augsbert_core import ExperimentConfig, RunStore, registry, run_experiment
from augsbert_core.cli import main as cli_main
from augsbert_core.config import (
    MIX_SAMPLERS,
    SAMPLERS,
    SENTENCE_SAMPLERS,
    STUDENT_LOSSES,
    TEACHER_LOSSES,
    ConfigError,
    json_schema,
)
from augsbert_core.estimate import DataCounts, estimate
from augsbert_core.runs import RunFiles
from augsbert_core.sampling import sample_candidates
from augsbert_core.student import REGRESSION_LOSSES
from studio import scenario, workspace
from studio import scenario_words as words

from .test_app import app, home, texts  # noqa: F401 - home: the autouse fresh-workspace fixture

TOY = "first-word"


def _first_word(sentence: str) -> str:
    words = sentence.lower().split()
    return words[0] if words else ""


def same_first_word(sentences, queries, depth, rng):
    """Partners that start with the same word, in pool order; short rows padded with the query (a self pair, which
    the invariants drop)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, sentence in enumerate(sentences):
        groups[_first_word(sentence)].append(i)
    ranked = np.array([[int(q)] * (depth + 1) for q in queries], dtype=np.int64)
    for row, q in enumerate(queries):
        partners = [j for j in groups[_first_word(sentences[q])] if j != q][: depth + 1]
        ranked[row, : len(partners)] = partners
    return ranked


TOY_LOSS = "cosine-l1"
BUILT: list[str] = []  # the toy loss records each model it is built for: proof the trainer used it


def cosine_l1(model):
    import torch  # noqa: PLC0415 - loads torch; only a training builds a loss
    from sentence_transformers import losses  # noqa: PLC0415 - loads torch; only a training builds a loss

    BUILT.append(type(model).__name__)
    return losses.CosineSimilarityLoss(model, loss_fct=torch.nn.L1Loss())


@pytest.fixture
def toy_loss():
    spec = registry.register_loss(
        registry.LossSpec(TOY_LOSS, "student", ("regression",), cosine_l1, help="L1 of the cosine to the score.")
    )
    BUILT.clear()
    yield spec
    registry.unregister_loss(TOY_LOSS)


@pytest.fixture
def toy():
    registry.register_search(TOY, same_first_word)
    spec = registry.register_sampler(
        registry.SamplerSpec(TOY, (TOY,), help="Pairs whose sentences start with the same word (a toy).")
    )
    yield spec
    registry.unregister(TOY)


def test_the_toy_sampler_is_a_choice_everywhere_while_registered(toy):
    for names in (SAMPLERS, SENTENCE_SAMPLERS, MIX_SAMPLERS):
        assert TOY in names and names[-1] == TOY
    assert ExperimentConfig.from_dict({"sampler": TOY}, rules=False).sampler == TOY
    mix = ExperimentConfig.from_dict({"sampler": {"bm25": 0.6, TOY: 0.4}}, rules=False)
    assert mix.sampler_label == f"mix(bm25 60%, {TOY} 40%)"
    assert TOY in json_schema()["properties"]["sampler"]["anyOf"][0]["enum"]
    assert words.SAMPLER_HELP[TOY].startswith("Pairs whose sentences")
    assert not toy.needs_model and toy.mixable


def test_unregistered_the_toy_is_refused_and_the_builtins_stay():
    assert TOY not in SAMPLERS
    with pytest.raises(ConfigError, match=rf"sampler.*{TOY}"):
        ExperimentConfig.from_dict({"sampler": TOY}, rules=False)
    assert tuple(SAMPLERS) == ("random", "bm25", "semantic", "bm25+semantic", "kde")
    assert "kde" not in SENTENCE_SAMPLERS and "kde" not in MIX_SAMPLERS


def test_a_spec_is_checked_when_registered():
    with pytest.raises(ValueError, match="unknown search 'nope'"):
        registry.SamplerSpec("toy", ("nope",), help="x")
    with pytest.raises(ValueError, match="exists already"):
        registry.register_sampler(registry.SamplerSpec("bm25", ("bm25",), help="x"))
    with pytest.raises(ValueError, match="mix syntax"):
        registry.register_sampler(registry.SamplerSpec("a=b", ("bm25",), help="x"))


def test_the_toy_samples_with_the_invariants(toy, tiny_stsb):
    gold = pd.read_csv(tiny_stsb["train"])
    gold = gold.rename(columns={gold.columns[0]: "sentence1", gold.columns[1]: "sentence2"})
    sentences = list(dict.fromkeys([*gold["sentence1"], *gold["sentence2"]]))
    pairs = sample_candidates(sentences, TOY, 2, gold=gold, seed=3)
    assert len(pairs) > 0 and set(pairs["sampler"]) == {TOY}
    assert all(_first_word(a) == _first_word(b) for a, b in zip(pairs["sentence1"], pairs["sentence2"]))
    keys = [frozenset(p) for p in zip(pairs["sentence1"], pairs["sentence2"])]
    assert len(set(keys)) == len(keys) and all(len(k) == 2 for k in keys)  # no self pair, each pair once
    assert not set(keys) & {frozenset(p) for p in zip(gold["sentence1"], gold["sentence2"])}
    assert pairs["sentence1"].value_counts().max() <= 2 * 2  # top_k per query (a sentence can be a partner too)


def test_check_prices_the_toy_and_the_estimate_follows_its_spec(toy, tiny_stsb, tmp_path, capsys):
    path = tmp_path / "toy.yaml"
    data = {k: str(v) for k, v in tiny_stsb.items()} | {"scale": [0, 5]}
    path.write_text(yaml.safe_dump({"scenario": 2, "sampler": TOY, "top_k": 3, "data": data}))
    assert cli_main(["check", str(path), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["ok"] and plan["candidates"] > 0 and "sampling" in plan["parts"]
    assert cli_main(["check", str(path)]) == 0
    assert f"config ok: experiment (scenario 2, regression, scale 0-5, {TOY})" in capsys.readouterr().out
    counts = DataCounts(train_pairs=100, dev_pairs=40, test_pairs=60, unique_sentences=300, unlabeled_sentences=100)
    base = estimate(ExperimentConfig.from_dict({"sampler": TOY}, rules=False), counts)
    assert base.candidates == 3 * 300 and base.candidates_low == 3 * 300 // 2 and base.silver == base.candidates
    assert "sampling" in base.parts and base.parts["sampling"] < 5  # index-free: nothing to embed
    registry.unregister(TOY)  # the same search as a selecting sampler: labels twice the budget, keeps a share
    registry.register_sampler(
        registry.SamplerSpec(TOY, ("bm25",), help="toy", select=lambda v, g, s: np.arange(len(v) // 3), label_factor=3)
    )
    selecting = estimate(ExperimentConfig.from_dict({"sampler": TOY, "max_silver": 10}, rules=False), counts)
    assert selecting.silver == 10 and TOY not in MIX_SAMPLERS and TOY not in SENTENCE_SAMPLERS


def test_the_scenario_page_offers_the_toy_with_its_help(toy):
    workspace.load_demo("stsb-quick")
    at = app("scenario")
    assert TOY in at.pills(key="sc_samplers").options
    at.pills(key="sc_samplers").set_value([TOY]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Pairs whose sentences start with the same word" in texts(at)
    (cfg,) = scenario.build_configs(scenario.load_draft())
    assert cfg.sampler == TOY


def test_the_toy_loss_is_checked_by_role_and_task(toy_loss, tiny_stsb, tmp_path, capsys):
    assert TOY_LOSS in STUDENT_LOSSES and TOY_LOSS not in TEACHER_LOSSES and TOY_LOSS in REGRESSION_LOSSES
    data = {k: str(v) for k, v in tiny_stsb.items()} | {"scale": [0, 5]}
    cfg = ExperimentConfig.from_dict({"task": "regression", "student": {"loss": TOY_LOSS}, "data": data})
    assert cfg.student.loss == TOY_LOSS
    with pytest.raises(ConfigError, match=f"student.loss: '{TOY_LOSS}' does not fit a classification task"):
        ExperimentConfig.from_dict({"task": "classification", "student": {"loss": TOY_LOSS}, "data": data})
    with pytest.raises(ConfigError, match=f"teacher.loss: '{TOY_LOSS}' is not a teacher loss"):
        ExperimentConfig.from_dict({"teacher": {"loss": TOY_LOSS}, "data": data})
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump({"scenario": 2, "student": {"loss": TOY_LOSS}, "data": data}))
    assert cli_main(["check", str(path)]) == 0 and "config ok" in capsys.readouterr().out
    defs = json_schema()["$defs"]
    assert TOY_LOSS in defs["StudentConfig"]["properties"]["loss"]["anyOf"][0]["enum"]
    assert TOY_LOSS not in defs["TeacherConfig"]["properties"]["loss"]["anyOf"][0]["enum"]  # a student loss only


def test_unregistered_the_toy_loss_is_refused():
    with pytest.raises(ConfigError, match=f"student.loss.*{TOY_LOSS}"):
        ExperimentConfig.from_dict({"student": {"loss": TOY_LOSS}}, rules=False)
    assert tuple(STUDENT_LOSSES) == ("cosent", "cosine", "angle", "online_contrastive", "contrastive", "mnrl")


@pytest.mark.slow
def test_a_tiny_run_with_the_toy_sampler_and_the_toy_loss(toy, toy_loss, micro_stsb, tmp_path):
    fast = {"epochs": 1, "batch_size": 16, "warm_start": "off"}
    cfg = ExperimentConfig.from_dict(
        {"data": {k: str(v) for k, v in micro_stsb.items()} | {"scale": [0, 5]}}
        | {"name": "toy", "scenario": 2, "sampler": TOY, "top_k": 3, "seed": 7, "candidates": "sampled"}
        | {"student": dict(fast, loss=TOY_LOSS), "teacher": dict(fast), "live_evals": 0, "checkpoints": 0}
        | {"train_gold_only": False, "ensemble": "off", "labeler": "cross_encoder"}
    )
    result = run_experiment(cfg, store=RunStore(tmp_path / "runs"))
    assert BUILT == ["SentenceTransformer"]  # the AugSBERT student trained with the toy loss
    silver = pd.read_csv(result.run_dir / RunFiles.SILVER)
    assert len(silver) > 0 and set(silver["sampler"]) == {TOY}
    assert all(_first_word(a) == _first_word(b) for a, b in zip(silver["sentence1"], silver["sentence2"]))
    metrics = json.loads((result.run_dir / RunFiles.METRICS).read_text())
    assert "augsbert" in json.dumps(metrics)
