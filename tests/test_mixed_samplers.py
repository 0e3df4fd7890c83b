"""Mixed samplers (`sampler: {bm25: 0.7, random: 0.3}`): the schema, the draw of shares with deduplication across
samplers, the candidate stage on real data, the estimate, a tiny run's silver summary, and the single form as before."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from augsbert_core import ExperimentConfig, RunStore, run_experiment
from augsbert_core.config import ConfigError, sampler_label
from augsbert_core.estimate import DataCounts, estimate
from augsbert_core.io.inputs import load_experiment_data
from augsbert_core.runs import RunFiles
from augsbert_core.sampling import achieved_shares, mix_candidates, split_budget
from augsbert_core.silver import make_candidates
from studio import runinfo, scenario, workspace

from .test_app import app, home, seed_run, texts  # noqa: F401 - home: the autouse fresh-workspace fixture

MIX = {"bm25": 0.7, "random": 0.3}


def _data(paths: dict, **extra) -> dict:
    return {"data": {k: str(v) for k, v in paths.items()} | {"scale": [0, 5]}, **extra}


def _keys(frame: pd.DataFrame) -> list[frozenset]:
    return [frozenset(p) for p in zip(frame["sentence1"], frame["sentence2"])]


# --- schema ------------------------------------------------------------------------------------------------------


def test_a_mix_is_read_from_yaml_and_round_trips(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("scenario: 2\nsampler: {bm25: 0.7, random: 0.3}\ndata: {train: a.csv, test: b.csv}\n")
    cfg = ExperimentConfig.from_file(path)
    assert cfg.sampler == MIX and cfg.sampler_mixed
    assert cfg.sampler_shares == pytest.approx(MIX) and list(cfg.sampler_shares) == ["bm25", "random"]
    assert cfg.sampler_label == cfg.method_label == "mix(bm25 70%, random 30%)"
    again = tmp_path / "again.json"
    again.write_text(json.dumps(cfg.to_dict()))
    assert ExperimentConfig.from_file(again).sampler == MIX
    # --set takes a YAML mapping too; thirds are written with the precision they need
    thirds = ExperimentConfig.from_file(path, [f"sampler={{random: {1 / 3}, bm25: {1 / 3}, semantic: {1 / 3}}}"])
    assert thirds.sampler_label == "mix(random 33.3%, bm25 33.3%, semantic 33.3%)"
    assert sum(thirds.sampler_shares.values()) == pytest.approx(1.0, abs=1e-12)


def test_the_single_form_is_unchanged():
    cfg = ExperimentConfig.from_dict({"sampler": "bm25+semantic"}, rules=False)
    assert cfg.sampler == "bm25+semantic" and not cfg.sampler_mixed
    assert cfg.sampler_label == cfg.method_label == "bm25+semantic" == sampler_label("bm25+semantic")
    assert cfg.sampler_shares == {"bm25+semantic": 1.0} and cfg.to_dict()["sampler"] == "bm25+semantic"
    assert ExperimentConfig().sampler == "bm25"
    # a one-entry mix is its sampler, written back as the plain name
    one = ExperimentConfig.from_dict({"sampler": {"kde": 1}}, rules=False)
    assert one.sampler == "kde" and not one.sampler_mixed and one.to_dict()["sampler"] == "kde"


@pytest.mark.parametrize(
    "sampler,message",
    [
        ({}, "needs at least one entry"),
        ({"bm25": 0.7, "random": 0.2}, "must sum to 1, got 0.9"),
        ({"bm25": 70, "random": 30}, "share of 'bm25' must be a number above 0 and at most 1, got 70"),
        ({"bm25": 0, "random": 1}, "share of 'bm25' must be a number above 0"),
        ({"bm25": True}, "share of 'bm25' must be a number"),
        ({"bm25": "half", "random": 0.5}, "share of 'bm25' must be a number"),
        ({"bm25": float("nan"), "random": 0.5}, "share of 'bm25'"),
        ({"elastic": 0.5, "random": 0.5}, "unknown sampler 'elastic' in the mix; choose from random, bm25"),
        ({"kde": 0.5, "random": 0.5}, "'kde' cannot be part of a mix"),
        ({"bm25": 0.5, "bm25+semantic": 0.5}, r"'bm25' and 'bm25\+semantic' both run the bm25 search"),
        ("elastic", r"input should be 'random', 'bm25'.*or a mix"),
        (3, "a sampler's name or a mix"),
    ],
)
def test_bad_mixes_name_the_key_and_the_entry(sampler, message):
    with pytest.raises(ConfigError, match=rf"config key 'sampler': .*{message}"):
        ExperimentConfig.from_dict({"sampler": sampler, "data": {"train": "a", "test": "t"}})


# --- the draw ------------------------------------------------------------------------------------------------------


def _pool(pairs: list[tuple[str, str]], search: str) -> pd.DataFrame:
    return pd.DataFrame({"sentence1": [a for a, _ in pairs], "sentence2": [b for _, b in pairs], "sampler": search})


def test_split_budget_sums_to_the_budget_by_largest_remainders():
    assert split_budget(10, {"a": 0.7, "b": 0.3}) == {"a": 7, "b": 3}
    assert split_budget(10, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}) == {"a": 4, "b": 3, "c": 3}
    assert split_budget(7, {"a": 0.25, "b": 0.75}) == {"a": 2, "b": 5}
    assert split_budget(0, MIX) == {"bm25": 0, "random": 0}


def test_a_pair_two_samplers_find_counts_once_for_the_earlier_and_the_later_tops_up():
    shared = [(f"s{i}", f"t{i}") for i in range(10)]  # found by both (random has them in the other order)
    bm25 = _pool(shared, "bm25")
    random = _pool([(b, a) for a, b in shared] + [(f"r{i}", f"q{i}") for i in range(30)], "random")
    mixed = mix_candidates({"bm25": bm25, "random": random}, {"bm25": 0.25, "random": 0.75}, seed=3)
    keys = _keys(mixed)
    assert len(set(keys)) == len(keys) == 40  # the largest pool's size, each unordered pair once
    assert mixed["sampler"].value_counts().to_dict() == {"bm25": 10, "random": 30}
    # every shared pair went to bm25 (earlier), so random's 30 are all its own: it topped up past the duplicates
    assert set(_keys(mixed[mixed["sampler"] == "random"])) == {frozenset((f"r{i}", f"q{i}")) for i in range(30)}
    # in the other order random draws first: a shared pair it draws no longer counts for bm25
    other = mix_candidates({"random": random, "bm25": bm25}, {"random": 0.75, "bm25": 0.25}, seed=3)
    assert len(set(_keys(other))) == len(other)
    assert not set(_keys(other[other["sampler"] == "bm25"])) & set(_keys(other[other["sampler"] == "random"]))


def test_a_short_pool_shrinks_the_total_so_the_shares_hold():
    bm25 = _pool([(f"b{i}", f"c{i}") for i in range(20)], "bm25")
    random = _pool([(f"r{i}", f"q{i}") for i in range(100)], "random")
    mixed = mix_candidates({"bm25": bm25, "random": random}, {"bm25": 0.8, "random": 0.2})
    assert mixed["sampler"].value_counts().to_dict() == {"bm25": 20, "random": 5}  # not 80/20 of 100
    capped = mix_candidates({"bm25": bm25, "random": random}, {"bm25": 0.1, "random": 0.9}, cap=30)
    assert capped["sampler"].value_counts().to_dict() == {"bm25": 3, "random": 27}
    assert achieved_shares(capped["sampler"], {"bm25": 0.1, "random": 0.9}) == pytest.approx(
        {"bm25": 0.1, "random": 0.9}
    )
    assert achieved_shares(["given", "semantic", "bm25"], {"bm25+semantic": 0.5, "random": 0.5}) == {
        "bm25+semantic": 1.0,
        "random": 0.0,
    }


# --- on real data ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [None, 40])
def test_the_candidate_stage_draws_the_shares_without_gold_or_repeats(tiny_stsb, cap):
    raw = _data(tiny_stsb, scenario=2, top_k=3, max_silver=cap)
    singles = {
        s: make_candidates(cfg := ExperimentConfig.from_dict(raw | {"sampler": s}), load_experiment_data(cfg), None)
        for s in MIX
    }
    cfg = ExperimentConfig.from_dict(raw | {"sampler": MIX})
    pairs = make_candidates(cfg, load_experiment_data(cfg), None)
    full = min(max(len(p) for p in singles.values()), cap or 10**9)
    counts = pairs["sampler"].value_counts().to_dict()
    assert set(counts) == set(MIX)
    # as many candidates as the larger single sampler gives (at most max_silver), unless bm25's pool is too small
    # for its 70% of that: then bm25 gives all it has and the total shrinks so that the shares hold
    assert len(pairs) == full or (len(pairs) < full and counts["bm25"] >= len(singles["bm25"]) - 1)
    assert len(pairs) == full if cap else len(pairs) < full  # (tiny data: bm25 finds fewer pairs than random)
    for name, share in MIX.items():
        assert abs(counts[name] - share * len(pairs)) <= 1, counts
    keys = _keys(pairs)
    assert len(set(keys)) == len(keys) and all(len(k) == 2 for k in keys)  # no repeats, no self pairs
    gold = pd.read_csv(tiny_stsb["train"])
    assert not set(keys) & set(_keys(gold))
    # each pair keeps the search that found it: bm25's pairs are bm25 neighbours
    assert set(_keys(pairs[pairs["sampler"] == "bm25"])) <= set(_keys(singles["bm25"]))


def test_the_estimate_counts_a_mix():
    counts = DataCounts(train_pairs=100, dev_pairs=40, test_pairs=60, unique_sentences=300, unlabeled_sentences=100)
    mixed = estimate(ExperimentConfig.from_dict({"sampler": MIX}, rules=False), counts)
    single = estimate(ExperimentConfig.from_dict({"sampler": "random"}, rules=False), counts)
    assert mixed.candidates == single.candidates == 900  # the random pool is the largest: top_k x sentences
    assert mixed.candidates_low < mixed.candidates  # bm25's pool may fall short of its 70%
    capped = estimate(ExperimentConfig.from_dict({"sampler": MIX, "max_silver": 50}, rules=False), counts)
    assert capped.silver == 50 and capped.seconds < mixed.seconds


@pytest.mark.slow
def test_a_tiny_mixed_run_records_requested_and_achieved_shares(micro_stsb, tmp_path):
    fast = {"epochs": 1, "batch_size": 16, "warm_start": "off"}
    cfg = ExperimentConfig.from_dict(
        _data(micro_stsb, name="mix", scenario=2, sampler=MIX, top_k=2, seed=7)
        | {"student": dict(fast), "teacher": dict(fast), "live_evals": 0, "checkpoints": 0}
        | {"train_gold_only": False, "ensemble": "off", "labeler": "cross_encoder"}
    )
    store = RunStore(tmp_path / "runs")
    result = run_experiment(cfg, store=store)
    silver = pd.read_csv(result.run_dir / RunFiles.SILVER)
    counts = silver.loc[silver["kept"], "sampler"].value_counts().to_dict()
    assert set(counts) == set(MIX) and all(abs(counts[n] - s * sum(counts.values())) <= 1 for n, s in MIX.items())
    summary = json.loads((result.run_dir / RunFiles.SILVER_SUMMARY).read_text())
    assert summary["sampler_shares"]["requested"] == pytest.approx(MIX)
    achieved = summary["sampler_shares"]["achieved"]
    assert achieved == pytest.approx({n: c / sum(counts.values()) for n, c in counts.items()})
    assert store.get(result.run_id).sampler == "mix(bm25 70%, random 30%)"  # the runs index and Compare's labels
    assert json.loads((result.run_dir / RunFiles.CONFIG).read_text())["sampler"] == MIX


# --- the app ---------------------------------------------------------------------------------------------------------


def test_the_scenario_page_mixes_the_chosen_samplers_into_one_run():
    workspace.load_demo("stsb-quick")
    at = app("scenario")
    at.pills(key="sc_samplers").set_value(["bm25", "random", "kde"]).run()
    assert at.toggle(key="sc_mix").value is False and len(at.dataframe) == 1  # three runs, one estimate row each
    at.toggle(key="sc_mix").set_value(True).run()
    at.slider(key="sc_mix_bm25").set_value(70).run()
    at.slider(key="sc_mix_random").set_value(30).run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "One run: bm25 70% · random 30%" in captions and "kde is left out" in captions
    assert {m.label for m in at.metric} >= {"Candidate pairs", "Rough time on this device"}  # one run's cards
    assert any(b.label == "Launch run" for b in at.button)
    draft = scenario.load_draft()
    assert draft["mix"] and scenario.suggested_names(draft) == ["s2-mix-bm25-70-random-30"]
    (cfg,) = scenario.build_configs(draft)
    assert cfg.sampler == pytest.approx(MIX) and cfg.method_label == "mix(bm25 70%, random 30%)"
    # off again: one run per chosen sampler, as before
    assert [c.sampler for c in scenario.build_configs({**draft, "mix": False})] == ["bm25", "random", "kde"]


def test_the_silver_page_shows_the_requested_and_achieved_shares():
    run_id = seed_run(workspace.store(), sampler="mix(bm25 70%, random 30%)")
    summary = {"candidates": 40, "kept": 40}
    summary["sampler_shares"] = {"requested": MIX, "achieved": {"bm25": 0.725, "random": 0.275}}
    (Path(workspace.store().get(run_id).dir) / RunFiles.SILVER_SUMMARY).write_text(json.dumps(summary))
    assert runinfo.sampler_mix_text(summary) == "bm25 72.5% · random 27.5% (requested 70/30)"
    assert runinfo.sampler_mix_text({"candidates": 40}) is None  # a single sampler's run: no line
    at = app("silver")
    shown = re.sub(r"\\(.)", r"\1", texts(at))  # as read: md_escape's backslashes dropped
    assert "Sampler mix: bm25 72.5% · random 27.5% (requested 70/30)" in shown


def test_a_study_takes_a_mix_in_its_config_not_in_its_sampler_names(tmp_path, tiny_stsb):
    from augsbert_core.study import Study

    config = _data(tiny_stsb, scenario=2)
    path = tmp_path / "study.yaml"
    path.write_text(json.dumps({"name": "s", "experiments": [{"name": "e", "samplers": [MIX], "config": config}]}))
    with pytest.raises(ConfigError, match=r"experiments\[0\]\.samplers takes sampler names; put a sampler mix"):
        Study.from_file(path)
    path.write_text(json.dumps({"name": "s", "experiments": [{"name": "e", "config": config | {"sampler": MIX}}]}))
    study = Study.from_file(path, out=tmp_path / "out")
    cfg = study.cell_config(study.experiments[0], 42, None)
    assert cfg.sampler == MIX and cfg.name == "s.e.run.s42"


def test_a_study_reads_share_teacher_as_a_real_boolean(tmp_path, tiny_stsb):
    """`share_teacher: "false"` once meant true (bool of a non-empty string): it is refused, naming the key."""
    from augsbert_core.study import Study

    path = tmp_path / "study.yaml"
    experiments = [{"name": "e", "config": _data(tiny_stsb, scenario=2)}]
    for value, shared in ((True, True), (False, False)):
        path.write_text(json.dumps({"name": "s", "share_teacher": value, "experiments": experiments}))
        assert Study.from_file(path, out=tmp_path / "out").share_teacher is shared
    path.write_text(json.dumps({"name": "s", "share_teacher": "false", "experiments": experiments}))
    with pytest.raises(ConfigError, match="share_teacher must be true or false, got 'false'"):
        Study.from_file(path)
