"""Outputs are checked before the work (issue 25, class 4): `label`, `sample` and `label-errors` refuse an --out
they cannot write at once, naming it, instead of after labeling, sampling or training. Each case below would
otherwise fail later on something else (a teacher that does not exist, data files that do not exist), so the
message proves the order."""

from __future__ import annotations

import pytest
import yaml

from augsbert_core.cli import main as cli_main


@pytest.fixture
def pairs(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("sentence1,sentence2\nA man plays.,A man is playing.\nA dog runs.,A cat sleeps.\n")
    return path


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("silver.xlsx", "cannot write .xlsx; use one of .csv, .tsv, .jsonl, .parquet"),
        ("silver.csv.gz", "cannot write"),
        ("missing/silver.csv", "the folder"),
        (".", "is a folder"),
    ],
)
def test_label_refuses_an_out_it_cannot_write_before_loading_the_teacher(pairs, tmp_path, capsys, out, message):
    target = str(tmp_path / out) if out != "." else str(tmp_path)
    code = cli_main(["label", "--pairs", str(pairs), "--teacher", str(tmp_path / "no-teacher"), "--out", target])
    err = capsys.readouterr().err
    assert code == 2 and f"--out {target}" in err and message in err
    assert "no-teacher" not in err  # failed on the output, before the teacher was looked for


def test_sample_refuses_a_folder_as_out_before_sampling(pairs, tmp_path, capsys):
    code = cli_main(["sample", "--sentences", str(pairs), "--sampler", "bm25", "--out", str(tmp_path)])
    assert code == 2 and "is a folder; name a file such as" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["pairs.csv"]  # nothing written beside the input


def test_label_errors_refuses_its_out_before_loading_data(tmp_path, capsys):
    cfg = tmp_path / "cfg.yaml"
    data = {"train": "nowhere/train.csv", "dev": "nowhere/dev.csv", "test": "nowhere/test.csv"}
    cfg.write_text(yaml.safe_dump({"scenario": 2, "data": {**data, "unlabeled": "nowhere/pool.csv"}}))
    code = cli_main(["label-errors", str(cfg), "--out", str(tmp_path / "ranked.xlsx")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write .xlsx" in err and "nowhere" not in err
