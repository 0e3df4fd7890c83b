"""The `augsbert` CLI: help, exit codes (0 ok, 2 bad input, 1 other), validate/sample/label/runs/run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from .conftest import REPO


def cli(*args: str, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "augsbert_core", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env=env,
        timeout=timeout,
    )


def test_help_lists_every_command():
    out = cli("--help")
    assert out.returncode == 0
    for command in ("run", "validate", "sample", "label", "runs"):
        assert command in out.stdout
    sub = cli("sample", "--help")
    assert "--sampler" in sub.stdout and "--top-k" in sub.stdout


def test_console_script_is_installed():
    exe = shutil.which("augsbert")
    if exe is None:
        pytest.skip("augsbert console script not on PATH (package not installed with pip install -e .)")
    assert subprocess.run([exe, "--help"], capture_output=True).returncode == 0


def test_validate_ok_and_json(tiny_stsb):
    out = cli("validate", str(tiny_stsb["train"]))
    assert out.returncode == 0 and "OK" in out.stdout and "regression" in out.stdout
    js = json.loads(cli("validate", str(tiny_stsb["unlabeled"]), "--kind", "unlabeled", "--json").stdout)
    assert js["ok"] is True and js["summary"]


def test_validate_bad_file_exit_2_names_row_and_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence1,sentence2,score\na,b,1.0\nc,d,abc\n")
    out = cli("validate", str(bad))
    assert out.returncode == 2
    assert "bad.csv" in out.stderr and "row 2" in out.stderr and "score" in out.stderr


def test_bad_arguments_exit_2(tmp_path):
    assert cli("sample", "--sentences", "x.csv").returncode == 2  # missing --sampler/--out
    assert cli("run", str(tmp_path / "missing.yaml")).returncode == 2
    cfg = tmp_path / "c.yaml"
    cfg.write_text("scenario: 9\n")
    out = cli("run", str(cfg))
    assert out.returncode == 2 and "scenario" in out.stderr


def test_sample_bm25_writes_candidates(tiny_stsb, tmp_path):
    out_file = tmp_path / "cands.csv"
    out = cli(
        "sample",
        "--sentences",
        str(tiny_stsb["unlabeled"]),
        "--gold",
        str(tiny_stsb["train"]),
        "--sampler",
        "bm25",
        "--top-k",
        "2",
        "--out",
        str(out_file),
    )
    assert out.returncode == 0, out.stderr
    pairs = pd.read_csv(out_file)
    assert len(pairs) > 0 and set(pairs.columns) == {"sentence1", "sentence2", "sampler"}
    assert pairs.groupby("sentence1").size().max() <= 2


@pytest.mark.slow
def test_label_and_runs_and_run(tiny_stsb, tmp_path, cross_encoder_dir):
    pairs = tmp_path / "pairs.csv"
    pd.read_csv(tiny_stsb["train"]).head(10)[["sentence1", "sentence2"]].to_csv(pairs, index=False)
    labeled = tmp_path / "labeled.csv"
    out = cli("label", "--pairs", str(pairs), "--teacher", str(cross_encoder_dir), "--out", str(labeled))
    assert out.returncode == 0, out.stderr
    scores = pd.read_csv(labeled)["score"]
    assert len(scores) == 10 and scores.between(0, 1).all()
    # unreachable hub name: bad argument, readable message
    out = cli("label", "--pairs", str(pairs), "--teacher", "no-such-org/no-such-model", "--out", str(labeled))
    assert out.returncode == 2 and "could not load model" in out.stderr

    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        "name: cli-tiny\nscenario: 2\nsampler: random\ntop_k: 1\ntrain_gold_only: false\nlive_evals: 0\n"
        f"data: {{train: {tiny_stsb['train']}, dev: {tiny_stsb['dev']}, test: {tiny_stsb['test']}, "
        f"unlabeled: {tiny_stsb['unlabeled']}}}\n"
        "student: {epochs: 1}\nteacher: {epochs: 1}\n"
    )
    runs_dir = tmp_path / "runs"
    out = cli("run", str(cfg), "--runs-dir", str(runs_dir), "--set", "top_k=2", "--no-progress")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    run_dir = Path(lines[-1])
    assert run_dir.is_dir() and run_dir.parent == runs_dir.resolve()
    assert lines[0].startswith("run id: ") and "augsbert" in out.stdout and "test.spearman" in out.stdout
    assert json.loads((run_dir / "config.json").read_text())["top_k"] == 2
    listing = json.loads(cli("runs", "--runs-dir", str(runs_dir), "--json").stdout)
    assert listing[0]["status"] == "finished" and listing[0]["name"] == "cli-tiny"
    table = cli("runs", "--runs-dir", str(runs_dir))
    assert "finished" in table.stdout


def test_resume_refuses_unknown_and_finished_runs(tmp_path):
    from augsbert_core.runs import RunStore

    store = RunStore(tmp_path / "runs")
    run = store.create("done", 2, {})
    run.set_status("finished")
    out = cli("resume", "nope", "--runs-dir", str(store.root))
    assert out.returncode == 2 and "no run 'nope'" in out.stderr
    out = cli("resume", run.id, "--runs-dir", str(store.root))
    assert out.returncode == 2 and "is finished; only interrupted, cancelled, failed runs can be resumed" in out.stderr


def test_runs_keeps_its_columns_under_a_long_sampler_mix_label(tmp_path):
    from augsbert_core.runs import RunStore

    store = RunStore(tmp_path / "runs")
    store.create("plain", 2, {}, sampler="bm25")
    store.create("mixed", 2, {}, sampler="mix(bm25+semantic 70%, random 30%)")
    lines = cli("runs", "--runs-dir", str(store.root)).stdout.splitlines()
    header, rows = lines[0], lines[1:]
    assert len(rows) == 2
    assert all(row.index(" queued ") == header.index(" status ") for row in rows), lines


def test_sample_takes_a_sampler_mix_and_refuses_a_bad_one(tiny_stsb, tmp_path):
    out_file = tmp_path / "mixed.csv"
    base = ["sample", "--sentences", str(tiny_stsb["unlabeled"]), "--gold", str(tiny_stsb["train"]), "--top-k", "2"]
    out = cli(*base, "--sampler", "bm25=0.7,random=0.3", "--out", str(out_file))
    assert out.returncode == 0, out.stderr
    counts = pd.read_csv(out_file)["sampler"].value_counts()
    total = counts.sum()
    assert set(counts.index) == {"bm25", "random"}
    assert abs(counts["bm25"] - 0.7 * total) <= 1 and abs(counts["random"] - 0.3 * total) <= 1  # within one pair
    bad = cli(*base, "--sampler", "bm25=0.7,random=0.7", "--out", str(tmp_path / "x.csv"))
    assert bad.returncode == 2 and "must sum to 1" in bad.stderr and "--sampler bm25=0.7,random=0.7" in bad.stderr
    unknown = cli(*base, "--sampler", "bm26", "--out", str(tmp_path / "y.csv"))
    assert unknown.returncode == 2 and "'bm26' is not a sampler here" in unknown.stderr
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y.csv").exists()


def test_version_and_a_help_without_internal_commands(capsys):
    from augsbert_core import __version__
    from augsbert_core.cli import build_parser

    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"augsbert {__version__}"
    text = build_parser().format_help()
    assert "run" in text and "worker" not in text and "SUPPRESS" not in text
    assert build_parser().parse_args(["worker", "abc"]).run_id == "abc"  # still there for the job queue


@pytest.mark.parametrize(
    "argv, option",
    [
        (["label", "--pairs", "p", "--teacher", "t", "--out", "o", "--threshold", "nan"], "--threshold"),
        (["label", "--pairs", "p", "--teacher", "t", "--out", "o", "--threshold", "2"], "--threshold"),
        (["label", "--pairs", "p", "--teacher", "t", "--out", "o", "--batch-size", "0"], "--batch-size"),
        (["train", "--role", "student", "--train", "x", "--out", "o", "--epochs", "-1"], "--epochs"),
        (["train", "--role", "student", "--train", "x", "--out", "o", "--lr", "nan"], "--lr"),
        (["train", "--role", "student", "--train", "x", "--out", "o", "--max-seq-length", "4"], "--max-seq-length"),
        (["sample", "--sentences", "s", "--sampler", "bm25", "--out", "o", "--top-k", "0"], "--top-k"),
        (["silver", "--sentences", "s", "--teacher", "t", "--out", "o", "--chunk-size", "inf"], "--chunk-size"),
    ],
)
def test_cli_numbers_are_checked_by_the_config_types(argv, option, capsys):
    """Numbers on the command line have the config keys' ranges: one line naming the option, exit 2 (a nan
    threshold once labeled everything 0 and exited 0; --batch-size 0 raised a traceback)."""
    from augsbert_core.cli import build_parser

    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(argv)
    err = capsys.readouterr().err
    assert done.value.code == 2 and f"argument {option}: '{argv[-1]}': expected" in err and "Traceback" not in err
    ok = build_parser().parse_args([*argv[:-1], "1" if option != "--max-seq-length" else "64"])
    assert getattr(ok, option.lstrip("-").replace("-", "_")) in (1, 1.0, 64)
