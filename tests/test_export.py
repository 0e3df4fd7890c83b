"""Students that serve on CPU (issue 27, item 7): `augsbert export RUN --format st|onnx|onnx-int8 --out DIR`, the
`OnnxEncoder` that runs an export with onnxruntime alone, and the pages' format box.

Tolerances (the offline MiniLM as the student, 300 STSb test sentences): ONNX fp32 embeddings within 1e-4 of
torch's (measured ~2e-7) and cosine to torch's above 0.9999; int8 weights (dynamic, per channel) cosine above 0.95
(measured min ~0.97, mean ~0.99) and test Spearman within 2 points of torch's.
Run: HF_HUB_OFFLINE=1 python -m pytest tests/test_export.py -q   (about 40 s)"""

from __future__ import annotations

import json
import shutil
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from augsbert_core.cli import main
from augsbert_core.models import resolve_model
from augsbert_core.runs import RunStore
from augsbert_core.student.export import OnnxEncoder, check_export, export_student

from .conftest import DEMO

pytest.importorskip("onnxruntime", reason="ONNX students need the onnx extra (pip install '.[onnx]')")

PAIRS = pd.read_csv(DEMO / "stsb" / "test.csv").head(150)
SENTENCES = list(dict.fromkeys([*PAIRS["sentence1"], *PAIRS["sentence2"]]))[:300]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A finished run whose AugSBERT student is the offline MiniLM (a real sentence-transformers folder)."""
    store = RunStore(tmp_path_factory.mktemp("export") / "runs")
    run = store.create("export", 2, {"scenario": 2})
    shutil.copytree(resolve_model("default"), run.path("models") / "augsbert")
    run.write_json("metrics.json", {"augsbert": {"test": {"spearman": 0.8}}, "recommended": "augsbert"})
    run.set_status("finished")
    return Path(run.dir)


@pytest.fixture(scope="module")
def torch_embeddings() -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_model("default"), device="cpu").encode(SENTENCES, convert_to_numpy=True)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def _spearman(vectors: np.ndarray) -> float:
    index = {s: i for i, s in enumerate(SENTENCES)}
    keep = [i for i, (a, b) in enumerate(zip(PAIRS["sentence1"], PAIRS["sentence2"])) if a in index and b in index]
    a = vectors[[index[PAIRS["sentence1"][i]] for i in keep]]
    b = vectors[[index[PAIRS["sentence2"][i]] for i in keep]]
    return 100 * float(spearmanr(_cosines(a, b), PAIRS["score"].to_numpy()[keep]).statistic)


def test_the_onnx_student_matches_torch(run_dir, tmp_path, torch_embeddings, capsys):
    out = tmp_path / "onnx"
    assert main(["export", str(run_dir), "--format", "onnx", "--out", str(out)]) == 0
    assert f"augsbert of {run_dir.name} as onnx -> {out}" in capsys.readouterr().out  # the recommended one
    assert (out / "onnx" / "model.onnx").is_file() and not (out / "model.safetensors").exists()
    got = OnnxEncoder(out).encode(SENTENCES)
    assert got.shape == torch_embeddings.shape
    assert np.abs(got - torch_embeddings).max() < 1e-4
    assert _cosines(got, torch_embeddings).min() > 0.9999
    card = (out / "README.md").read_text()
    assert "Exported by `augsbert export` as onnx" in card and 'OnnxEncoder("this-folder")' in card
    assert card.startswith("---\n")  # the card's front matter stays first


def test_the_int8_student_is_close_and_keeps_its_ranking(run_dir, tmp_path, torch_embeddings):
    out = export_student(run_dir / "models" / "augsbert", "onnx-int8", tmp_path / "int8")
    files = sorted(p.name for p in (out / "onnx").iterdir())
    assert files == ["model_qint8.onnx"]
    assert (out / "onnx" / "model_qint8.onnx").stat().st_size < 35e6  # ~4x smaller than the 90 MB of fp32
    got = OnnxEncoder(out).encode(SENTENCES)
    assert _cosines(got, torch_embeddings).min() > 0.95
    assert abs(_spearman(got) - _spearman(torch_embeddings)) < 2.0


def test_st_format_is_the_folder_with_a_note(run_dir, tmp_path):
    out = export_student(run_dir / "models" / "augsbert", "st", tmp_path / "st")
    assert (out / "model.safetensors").is_file() and not (out / "onnx").exists()
    assert "Exported by `augsbert export` as st" in (out / "README.md").read_text()


def test_what_cannot_be_exported_is_refused_before_any_work(run_dir, tmp_path, capsys):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    assert main(["export", str(run_dir), "--format", "onnx", "--out", str(busy)]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err
    assert main(["export", str(run_dir), "--model", "teacher", "--out", str(tmp_path / "t")]) == 2
    assert "the teacher is a cross-encoder" in capsys.readouterr().err
    assert main(["export", str(run_dir), "--model", "full_gold", "--out", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert "no 'full_gold' student" in err and "(found: augsbert)" in err
    static = tmp_path / "static"
    static.mkdir()
    (static / "modules.json").write_text(
        json.dumps([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.StaticEmbedding"}])
    )
    with pytest.raises(ValueError, match="a StaticEmbedding student has no transformer to export to ONNX"):
        check_export(static, "onnx", tmp_path / "s")
    assert not (tmp_path / "t").exists() and not (tmp_path / "f").exists()


def test_the_pages_zip_each_format_without_touching_the_run(run_dir):
    pytest.importorskip("streamlit")
    from studio import runinfo

    folder = run_dir / "models" / "augsbert"
    assert runinfo.export_formats(folder) == {"st": "sentence-transformers", "onnx": "ONNX", "onnx-int8": "ONNX int8"}
    data = runinfo.export_zip(folder, "augsbert", "onnx-int8")
    names = zipfile.ZipFile(BytesIO(data)).namelist()
    assert "augsbert/onnx/model_qint8.onnx" in names and "augsbert/model.safetensors" not in names
    assert not any(p.name.startswith("augsbert-export-") for p in Path(run_dir).rglob("*"))  # the run is untouched
