"""The teacher as a deliverable: model cards in the run's model folders, speed.json, the card's own snippet
loading the folder, the downloads holding the card, and the Compare page's accuracy-vs-speed view.

One tiny real scenario-2 run (micro STSb slice, one epoch each) serves every test here."""

from __future__ import annotations

import json
import re
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from augsbert_core import ExperimentConfig, RunStore, run_experiment
from augsbert_core.io.data import load_pairs
from augsbert_core.model_card import END, START, CardFacts, card_section, write_card
from augsbert_core.runs import RunFiles

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
FAST = {"epochs": 1, "batch_size": 16}


@pytest.fixture(scope="module")
def tiny_run(micro_stsb, tmp_path_factory):
    """A finished scenario-2 run in `<home>/runs` (the app's workspace layout): (home, result)."""
    home = tmp_path_factory.mktemp("deliverables")
    cfg = ExperimentConfig.from_dict(
        {
            "name": "deliverables",
            "scenario": 2,
            "sampler": "bm25",
            "top_k": 2,
            "student": dict(FAST),
            "teacher": dict(FAST),
            "live_evals": 0,
            "seed": 7,
            "data": {k: str(v) for k, v in micro_stsb.items()} | {"scale": [0, 5]},
        }
    )
    result = run_experiment(cfg, store=RunStore(home / "runs"))
    return home, result


def _card(run_dir: Path, key: str) -> str:
    return (run_dir / RunFiles.MODELS / key / "README.md").read_text(encoding="utf-8")


def test_speed_json_has_positive_pairs_per_second_for_the_teacher_and_students(tiny_run, micro_stsb):
    _, result = tiny_run
    speed = json.loads((result.run_dir / RunFiles.SPEED).read_text())
    n_test = len(load_pairs(micro_stsb["test"]).frame)
    assert speed["device"] == "cpu" and speed["device_name"].startswith("CPU")
    assert speed["split"] == "test" and speed["pairs"] == n_test
    models = speed["models"]
    assert {"teacher", "augsbert", "gold_only", "zero_shot"} <= set(models)
    for key, entry in models.items():
        assert entry["pairs"] == n_test and entry["seconds"] > 0, key
        assert entry["pairs_per_s"] == pytest.approx(n_test / entry["seconds"]), key
        assert entry["batch_size"] == 64
    assert models["teacher"]["kind"] == "cross-encoder" and models["teacher"]["orders"] == 2
    assert models["augsbert"]["kind"] == "bi-encoder" and 0 < models["augsbert"]["sentences"] <= 2 * n_test
    # metrics.json keeps its shape: models (and `recommended`), no speed key
    metrics = json.loads((result.run_dir / RunFiles.METRICS).read_text())
    assert set(metrics) - {"recommended", "recommendation", "schedules"} == set(result.metrics)


def test_teacher_card_states_scores_speed_and_data(tiny_run, micro_stsb):
    _, result = tiny_run
    card = _card(result.run_dir, "teacher")
    assert card.startswith("---\n")  # sentence-transformers' front matter stays first (hub metadata)
    assert card.count(START) == 1 and card.index(START) < card.index("# CrossEncoder")  # its generic card follows
    ours = card_section(card)
    teacher = result.metrics["teacher"]
    for split in ("dev", "test"):
        row = next(line for line in ours.splitlines() if line.startswith(f"| {split} |"))
        assert f"{100 * teacher[split]['spearman']:.2f}" in row and f"{100 * teacher[split]['pearson']:.2f}" in row
    speed = json.loads((result.run_dir / RunFiles.SPEED).read_text())["models"]
    assert f"**{speed['teacher']['pairs_per_s']:,.0f} pairs/s**" in ours
    assert f"AugSBERT student {speed['augsbert']['pairs_per_s']:,.0f} pairs/s" in ours
    n_gold = len(load_pairs(micro_stsb["train"]).frame)
    assert f"{n_gold:,} gold pairs, each in both orders ({2 * n_gold:,} examples)" in ours
    assert "0–5 scale" in ours and "all-MiniLM-L6-v2" in ours
    assert "CrossEncoder(" in ours and ".rank(" in ours
    assert "must run on every (query, document) pair" in ours


def test_augsbert_card_states_its_training_data(tiny_run, micro_stsb):
    _, result = tiny_run
    ours = card_section(_card(result.run_dir, "augsbert"))
    n_gold = len(load_pairs(micro_stsb["train"]).frame)
    assert f"{n_gold:,} gold + {result.n_silver:,} silver pairs labeled by the teacher" in ours
    assert f"{100 * result.metrics['augsbert']['test']['spearman']:.2f}" in ours
    assert "SentenceTransformer(" in ours and "Teacher cross-encoder" in ours  # the teacher's speed beside it


def _snippet(card: str) -> str:
    return re.search(r"```python\n(.*?)```", card_section(card), re.S).group(1)


def test_the_card_snippets_load_their_folders(tiny_run, monkeypatch):
    """The code a user copies from each card runs as written from the run's models/ folder (or an unzipped
    download): the teacher scores a pair and ranks documents, the student embeds."""
    _, result = tiny_run
    monkeypatch.chdir(result.run_dir / RunFiles.MODELS)
    scope: dict = {}
    exec(_snippet(_card(result.run_dir, "teacher")), scope)  # noqa: S102 - the card's own snippet, our text
    assert scope["model"].__class__.__name__ == "CrossEncoder"
    assert len(scope["scores"]) == 1 and 0.0 <= float(scope["scores"][0]) <= 1.0
    assert sorted(h["corpus_id"] for h in scope["hits"]) == [0, 1]
    student: dict = {}
    exec(_snippet(_card(result.run_dir, "augsbert")), student)  # noqa: S102 - the card's own snippet, our text
    assert -1.0 <= float(student["model"].similarity(student["a"], student["b"])) <= 1.0


def test_teacher_download_zip_holds_the_card(tiny_run):
    from studio import runinfo

    _, result = tiny_run
    assert "teacher" in runinfo.trained_models(result.run_dir)
    target = runinfo.model_download(result.run_dir, "teacher")
    with zipfile.ZipFile(BytesIO(runinfo.zip_folder(target.folder, "teacher"))) as archive:
        names = set(archive.namelist())
        assert {"teacher/README.md", "teacher/model.safetensors"} <= names
        assert START in archive.read("teacher/README.md").decode()


def test_timed_teacher_split_bypasses_the_label_cache(tiny_run, micro_stsb, tmp_path):
    """The timed split is scored by the model every time (a cached score would time a lookup); the other splits
    still use the cache."""
    from augsbert_core.models import load_cross_encoder
    from augsbert_core.teacher import LabelCache, evaluate_cross_encoder

    _, result = tiny_run
    model = load_cross_encoder(str(result.run_dir / RunFiles.MODELS / "teacher"), device="cpu")
    splits = {k: load_pairs(micro_stsb[k], scale=(0, 5)).frame for k in ("dev", "test")}
    cache = LabelCache(tmp_path / "labels.sqlite")
    speed: dict = {}
    metrics = evaluate_cross_encoder(model, splits, "regression", cache=cache, speed=speed)
    dev_pairs = {p for a, b in zip(splits["dev"]["sentence1"], splits["dev"]["sentence2"]) for p in ((a, b), (b, a))}
    assert len(cache) == len(dev_pairs)  # dev cached, test not
    assert speed["split"] == "test" and speed["pairs"] == len(splits["test"]) and speed["pairs_per_s"] > 0
    assert metrics["test"]["spearman"] == pytest.approx(result.metrics["teacher"]["test"]["spearman"], abs=1e-5)


def test_write_card_rewrites_its_own_section_and_keeps_the_generic_card(tmp_path):
    folder = tmp_path / "teacher"
    folder.mkdir()
    (folder / "README.md").write_text("---\ntags:\n- cross-encoder\n---\n\n# CrossEncoder\n\ngeneric text\n")
    facts = CardFacts(
        key="teacher",
        kind="cross-encoder",
        run_id="r1",
        base_model="default",
        task="classification",
        scale=None,
        trained_on="10 gold pairs",
        scores={"dev": {"ap": 0.5, "f1": 0.4, "accuracy": 0.6, "threshold": 0.42}},
        eval_sizes={"dev": 12},
    )
    write_card(folder, facts)
    facts.scores["test"] = {"ap": 0.75, "f1": 0.7, "accuracy": 0.8, "threshold": 0.42}
    facts.speed = {"pairs_per_s": 123.4, "pairs": 12, "split": "test", "seconds": 0.1, "batch_size": 64}
    write_card(folder, facts)
    text = (folder / "README.md").read_text()
    assert text.startswith("---\ntags:\n- cross-encoder\n---\n") and text.count(START) == text.count(END) == 1
    assert text.rstrip().endswith("generic text") and text.count("# CrossEncoder") == 1
    ours = card_section(text)
    assert "| test | – | 75.00 | 70.00 | 80.00 |" in ours and "≥ 0.4200 (chosen on dev" in ours
    assert "**123 pairs/s**" in ours
    with pytest.raises(ValueError, match="card kind"):
        CardFacts("x", "reranker", "r", "default", "regression", None, "")  # type: ignore[arg-type]


def test_compare_page_shows_score_against_speed(tiny_run, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    home, result = tiny_run
    monkeypatch.setenv("AUGSBERT_HOME", str(home))
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.chdir(ROOT)
    from studio import pages

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page(pages.PATHS["compare"]).run()
    assert not at.exception, [e.value for e in at.exception]
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    speed_fig = next(f for f in figures if f["layout"].get("xaxis", {}).get("type") == "log")
    speed = json.loads((result.run_dir / RunFiles.SPEED).read_text())["models"]
    points = {t["name"]: (t["x"][0], t["y"][0]) for t in speed_fig["data"]}
    assert points["Teacher"][0] == pytest.approx(speed["teacher"]["pairs_per_s"])
    assert points["Teacher"][1] == pytest.approx(100 * result.metrics["teacher"]["test"]["spearman"], abs=0.01)
    assert points["AugSBERT"][0] == pytest.approx(speed["augsbert"]["pairs_per_s"])
    captions = " ".join(str(c.value) for c in at.caption)
    assert "pre-compute" in captions
    table = next(d.value for d in at.dataframe if "pairs/s" in d.value.columns)
    assert isinstance(table, pd.DataFrame) and np.all(table["pairs/s"] > 0)


def test_training_page_offers_the_teacher_download(tiny_run, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from studio import pages

    home, result = tiny_run
    monkeypatch.setenv("AUGSBERT_HOME", str(home))
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.session_state["run_id"] = result.run_id
    at.switch_page(pages.PATHS["training"]).run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download teacher (cross-encoder reranker)" in labels, labels


def test_report_has_the_speed_table(tiny_run):
    pytest.importorskip("plotly")
    from augsbert_core.report import build_report

    _, result = tiny_run
    html = build_report([result.run_dir])
    speed = json.loads((result.run_dir / RunFiles.SPEED).read_text())["models"]
    section = html[html.index("<h3>Speed</h3>") : html.index("<h3>Teacher readiness</h3>")]
    teacher_row = section[section.index("<td>Teacher</td>") :].split("</tr>")[0]
    assert f"{speed['teacher']['pairs_per_s']:,.0f}" in teacher_row and "cross-encoder" in teacher_row
    assert f"{100 * result.metrics['teacher']['test']['spearman']:.1f}" in teacher_row
    assert "<td>AugSBERT</td>" in section and "pre-compute" in section
