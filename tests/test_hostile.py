"""The hostile-input suite (issue 25, item 8): what a hostile or careless user hands the CLI, as one table.

Every refusal below exits 2 with one line that names the file, key, flag or row, prints no traceback and leaves
no run directory behind; every "accepted" case is hostile-looking input that is valid and must keep working. The
suite is the union of this file and the files marked `hostile` (`pytest -m hostile`, about a minute):

| class (issue 25) | where |
|---|---|
| 1 duplicate keys (YAML, JSON, sampler mixes) | REFUSED below |
| 2 gold_review rows, flags, missing file | REFUSED below, `test_gold_review_keys_and_flags` (Hypothesis) |
| 3 undefined metrics, splits too small | REFUSED below, test_undefined_metrics.py |
| 4 check passes, run fails later (given pairs, outputs, Ray) | REFUSED below, test_preflight.py |
| 5 reuse_from across other data | test_teacher_quality.py (`reuse_from` refusals) |
| 6 formula cells in CSV | `test_every_csv_writer_is_guarded_or_exact_data`, `test_formula_cells_*` |
| 7 MLflow keys and unreachable servers | test_tracking.py, test_preflight.py |
| 8 report from today's files | test_report.py |
| 9 study files | REFUSED below |
| 10 CLI arguments outside the schema | REFUSED below, `test_out_of_range_thresholds_never_label` (Hypothesis) |
| 11 full disk, refused writes, runs dir that is a file | `test_a_full_disk_*` (a real file-size limit), REFUSED |
| 12 unbounded cells and scales | REFUSED below, test_loader_limits.py |
| 13 per-file column maps; no dev split | ACCEPTED below, `test_no_dev_split_says_test_decided` |

Issue 11's classes (bad files of every kind, boundaries, loader properties): test_bad_inputs.py,
test_boundaries.py, test_loader_properties.py, also marked `hostile`."""

from __future__ import annotations

import ast
import json
import re
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augsbert_core.cli import main
from augsbert_core.evaluation import recommendation
from augsbert_core.io.data import DataError, formula_cells
from augsbert_core.io.gold_review import read_gold_review

from .conftest import REPO

pytestmark = pytest.mark.hostile

BASE = {
    "name": "hostile",
    "scenario": 2,
    "task": "regression",
    "data": {"train": "train.csv", "dev": "dev.csv", "test": "test.csv", "unlabeled": "unlabeled.csv", "scale": [0, 5]},
}


@dataclass(frozen=True)
class Case:
    cls: int  # the class of issue 25 it belongs to
    id: str
    argv: str  # the command line, run in a folder holding train/dev/test/unlabeled.csv and base.yaml
    expect: str  # regex the one-line error must match
    files: tuple[tuple[str, str], ...] = ()  # (name, text) written first


def _yaml(**extra) -> str:
    raw = json.loads(json.dumps(BASE))
    for key, value in extra.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) and key in raw else value
    return yaml.safe_dump(raw, sort_keys=False)


REFUSED = [
    Case(
        1,
        "yaml-duplicate-block",
        "check dup.yaml",
        r"dup\.yaml: key 'student' appears twice .*lines \d+ and \d+",
        (("dup.yaml", _yaml() + "student: {epochs: 1}\nstudent: {epochs: 2}\n"),),
    ),
    Case(
        1,
        "json-duplicate-key",
        "check dup.json",
        r"dup\.json: key 'scenario' appears twice in one JSON object",
        (("dup.json", '{"name": "h", "scenario": 2, "scenario": 3}'),),
    ),
    Case(
        1,
        "sampler-mix-named-twice",
        "check mix.yaml",
        r"key 'bm25' appears twice",
        (("mix.yaml", _yaml() + "sampler: {bm25: 0.4, random: 0.3, bm25: 0.3}\n"),),
    ),
    Case(
        1,
        "cli-mix-named-twice",
        "sample --sentences unlabeled.csv --sampler bm25=0.4,random=0.3,bm25=0.3 --out p.csv",
        r"bm25.*(twice|more than once)",
    ),
    Case(
        2,
        "review-exclude-string",
        "check base.yaml --set data.gold_review=r.json",
        r"r\.json, row 3: rows\.3\.exclude: not true/false: 'false'",
        (("r.json", '{"rows": {"3": {"exclude": "false"}}}'),),
    ),
    Case(
        2,
        "review-superscript-row",
        "check base.yaml --set data.gold_review=r.json",
        r"r\.json: rows\.'²': expected a 1-based row number",
        (("r.json", '{"rows": {"²": {"exclude": true}}}'),),
    ),
    Case(
        2,
        "review-zero-padded-row",
        "check base.yaml --set data.gold_review=r.json",
        r"r\.json: rows\.'05': expected a 1-based row number",
        (("r.json", '{"rows": {"5": {"exclude": true}, "05": {"exclude": false}}}'),),
    ),
    Case(
        2,
        "review-duplicate-row",
        "check base.yaml --set data.gold_review=r.json",
        r"r\.json: .*key '5' appears twice in one JSON object",
        (("r.json", '{"rows": {"5": {"exclude": true}, "5": {"exclude": false}}}'),),
    ),
    Case(
        2,
        "review-missing-file",
        "check base.yaml --set data.gold_review=nope.json",
        r"nope\.json: gold review file not found \(data\.gold_review\)",
    ),
    Case(
        3,
        "constant-dev",
        "check base.yaml --set data.dev=const.csv",
        r"const\.csv: every score in the dev split is 3: Spearman and Pearson are undefined",
        (("const.csv", "sentence1,sentence2,score\na,b,3\nc,d,3\ne,f,3\n"),),
    ),
    Case(
        3,
        "one-row-test",
        "check base.yaml --set data.test=one.csv",
        r"one\.csv: the test split has 1 pair after loading; its metrics need at least 2",
        (("one.csv", "sentence1,sentence2,score\na,b,3\n"),),
    ),
    Case(
        4,
        "given-over-sentences",
        "run base.yaml --set candidates=given --runs-dir runs --no-progress",
        r"unlabeled\.csv.*candidates: given labels this file's pairs",
    ),
    Case(
        4,
        "label-out-xlsx",
        "label --pairs train.csv --teacher default --out s.xlsx",
        r"--out s\.xlsx: cannot write \.xlsx; use one of \.csv, \.tsv, \.jsonl, \.parquet",
    ),
    Case(
        4,
        "sample-out-folder",
        "sample --sentences unlabeled.csv --sampler bm25 --out runs",
        r"--out runs: is a folder; name a file such as runs/pairs\.csv",
    ),
    Case(4, "label-errors-out-xlsx", "label-errors base.yaml --out e.xlsx", r"--out e\.xlsx: cannot write \.xlsx"),
    Case(
        10,
        "label-with-a-bi-encoder",
        "label --pairs train.csv --teacher default --out s.csv",
        r"not a trained cross-encoder \(its weights are a BertModel with no classification head",
    ),
    Case(4, "report-out-folder", "report nope --out runs", r"--out runs: is a folder; name a file in it"),
    Case(
        4,
        "report-out-below-a-file",
        "report nope --out train.csv/r.html",
        r"--out train\.csv/r\.html: train\.csv is a file, not a folder",
    ),
    Case(
        4,
        "train-out-a-file",
        "train --role student --train train.csv --out base.yaml --epochs 1",
        r"--out base\.yaml: is a file; name a folder for the output",
    ),
    Case(
        4,
        "study-out-a-file",
        "study s.yaml",
        r"s\.yaml: out .*train\.csv: is a file; name a folder",
        (("s.yaml", "seeds: [42]\nout: train.csv\nexperiments: [{name: a, config: base.yaml}]\n"),),
    ),
    Case(
        9,
        "study-share-teacher-string",
        "study s.yaml",
        r"s\.yaml: share_teacher must be true or false, got 'false'",
        (("s.yaml", 'seeds: [42]\nshare_teacher: "false"\nexperiments: [{name: a, config: base.yaml}]\n'),),
    ),
    Case(
        9,
        "study-config-not-a-mapping",
        "study s.yaml",
        r"s\.yaml: experiments\[0\]\.config must be a mapping or a config file's path, got 5",
        (("s.yaml", "seeds: [42]\nexperiments: [{name: a, config: 5}]\n"),),
    ),
    Case(
        9,
        "study-config-file-missing",
        "study s.yaml",
        r"s\.yaml: experiments\[0\]\.config: no config file",
        (("s.yaml", "seeds: [42]\nexperiments: [{name: a, config: gone.yaml}]\n"),),
    ),
    Case(
        10,
        "threshold-nan",
        "label --pairs train.csv --teacher default --out s.csv --threshold nan",
        r"--threshold: 'nan': expected a score threshold from 0 to 1",
    ),
    Case(
        10,
        "batch-size-zero",
        "label --pairs train.csv --teacher default --out s.csv --batch-size 0",
        r"--batch-size: '0': expected a batch size from 1 to 65536",
    ),
    Case(
        10,
        "train-negative-epochs",
        "train --role student --train train.csv --out m --epochs -1",
        r"--epochs: '-1': expected a number of epochs above 0",
    ),
    Case(
        10,
        "train-nan-lr",
        "train --role student --train train.csv --out m --lr nan",
        r"--lr: 'nan': expected a learning rate above 0",
    ),
    Case(
        10,
        "train-tiny-seq-length",
        "train --role student --train train.csv --out m --max-seq-length 4",
        r"--max-seq-length: '4': expected a length from 8 to 8192 tokens",
    ),
    Case(10, "set-unknown-key", "check base.yaml --set student.epoch=3", r"student\.epoch"),
    Case(
        11,
        "runs-dir-is-a-file",
        "run base.yaml --runs-dir /dev/null --no-progress",
        r"runs folder /dev/null is not a folder",
    ),
    Case(11, "runs-listing-on-a-file", "runs --runs-dir /dev/null", r"runs folder /dev/null is not a folder"),
    Case(
        12,
        "scale-without-finite-span",
        "check base.yaml --set data.scale=[-1e308,1e308]",
        r"data\.scale: the span must be a finite number",
    ),
    Case(12, "scale-reversed", "check base.yaml --set data.scale=[5,0]", r"data\.scale"),
]


def _folder(tmp_path: Path, micro_stsb: dict[str, Path], files=()) -> Path:
    for role, path in micro_stsb.items():
        (tmp_path / f"{role}.csv").write_bytes(path.read_bytes())
    (tmp_path / "base.yaml").write_text(_yaml())
    (tmp_path / "runs").mkdir(exist_ok=True)
    for name, text in files:
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own refusals
        return int(exc.code or 0)


@pytest.mark.parametrize("case", REFUSED, ids=[f"{c.cls}-{c.id}" for c in REFUSED])
def test_refused_in_one_line_before_any_work(case, tmp_path, micro_stsb, capsys, monkeypatch):
    folder = _folder(tmp_path, micro_stsb, case.files)
    monkeypatch.chdir(folder)
    assert _cli(case.argv.split()) == 2, case.id
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert errors, err
    assert re.search(case.expect, errors[0]), errors[0]
    assert "Traceback" not in err
    assert not [p for p in (folder / "runs").iterdir() if p.is_dir()], "a refused command left a run behind"
    assert not (folder / "m").exists() and not (folder / "s.csv").exists() and not (folder / "p.csv").exists()


ACCEPTED = [
    ("exponent-shares-and-rates", _yaml(teacher={"learning_rate": "2e-5"}) + "sampler: {bm25: 7e-1, random: 3e-1}\n"),
    ("formula-cells-in-data", None),  # train.csv with =, +, -, @ cells: data, loaded as text
    ("a-column-map-per-file", None),  # dev with its own headers, mapped for that file only
    ("a-valid-gold-review", _yaml(data={"gold_review": "ok.json"})),
]


@pytest.mark.parametrize("name,text", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_hostile_looking_but_valid_input_is_accepted(name, text, tmp_path, micro_stsb, capsys, monkeypatch):
    folder = _folder(tmp_path, micro_stsb)
    monkeypatch.chdir(folder)
    if name == "formula-cells-in-data":
        train = pd.read_csv("train.csv")
        train.loc[0, "sentence1"], train.loc[1, "sentence2"] = '=HYPERLINK("http://x")', "@SUM(A1)"
        train.loc[2, "sentence1"] = "-2+3 is one"
        train.to_csv("train.csv", index=False)
        text = _yaml()
    elif name == "a-column-map-per-file":
        dev = pd.read_csv("dev.csv").rename(columns={"sentence1": "left", "sentence2": "right", "score": "sim"})
        dev.to_csv("dev.csv", index=False)
        text = _yaml(data={"column_maps": {"dev": {"left": "sentence1", "right": "sentence2", "sim": "score"}}})
    elif name == "a-valid-gold-review":
        Path("ok.json").write_text('{"rows": {"3": {"exclude": true}, "4": {"score": 2.5}}}')
    Path("c.yaml").write_text(text)
    assert _cli(["check", "c.yaml"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("config ok")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(min_size=1, max_size=6), exclude=st.sampled_from([True, False, None, "false", "true", 0, 1, []]))
def test_gold_review_keys_and_flags(key, exclude, tmp_path):
    """Only a canonical 1-based row number and a real boolean pass; everything else is a DataError naming the file
    (never a traceback, never a string flag read as truthy)."""
    path = tmp_path / "review.json"
    path.write_text(json.dumps({"rows": {key: {"exclude": exclude}}}), encoding="utf-8")
    canonical = re.fullmatch(r"[1-9][0-9]{0,11}", key) is not None
    if canonical and (exclude is None or isinstance(exclude, bool)):
        assert read_gold_review(path)["rows"][key].get("exclude") == exclude
    else:
        with pytest.raises(DataError, match=re.escape(str(path))):
            read_gold_review(path)


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not 0 <= x <= 1), st.just(float("nan")))
)
def test_out_of_range_thresholds_never_label(value):
    """`label --threshold` outside 0..1 (nan, inf, negatives, > 1) is refused by argparse before anything loads."""
    with pytest.raises(SystemExit) as exit_:
        main(["label", "--pairs", "p.csv", "--teacher", "default", "--out", "s.csv", "--threshold", repr(value)])
    assert exit_.value.code == 2


def test_no_dev_split_says_test_decided():
    """Class 13: a run without a dev split (positive pairs often have none) says test decided, never 'best on
    dev'; an older run's reason says the same."""
    metrics = {
        "gold_only": {"test": {"mrr@10": 0.50}},
        "augsbert": {"test": {"mrr@10": 0.55}},
    }
    why = recommendation(metrics, "positive_pairs")
    assert why["model"] == "augsbert" and why["split"] == "test"
    assert "no dev split: decided on test" in why["why"] and "dev" not in why["why"].split("(")[0]
    from studio.runinfo import recommendation_reason

    assert "best on test (the run has no dev split)" in recommendation_reason(metrics)


# ------------------------------------------------------------------------------------------------ class 6
#: CSV writers that write data augsbert reads back (the run's results contract: silver.csv, candidates.csv,
#: predictions.csv, ...; the user's uploads; the pairs `sample`/`label` write for the next command) exactly.
#: A guard quote would change training sentences and the contract's contents; these are never a download
#: for people (the pages' downloads of the same tables are guarded). Every other CSV writer must go through
#: safe_for_spreadsheet. Keys: (file, function).
EXACT_DATA_WRITERS = {
    (
        "augsbert_core/cli/common.py",
        "_write_data",
    ): "sample/label --out: pairs for the next command (a note names formulas)",
    ("augsbert_core/evaluation.py", "write_predictions"): "predictions.csv: read back by report, try-it, pages",
    ("augsbert_core/silver.py", "given_silver"): "silver.csv of given pairs: the results contract, read on resume",
    ("augsbert_core/silver.py", "stream_silver"): "`augsbert silver --out`: streamed pairs for the next command",
    ("augsbert_core/recipe/silver.py", "_label"): "silver.csv: the results contract, read back on resume",
    ("augsbert_core/recipe/silver.py", "__call__"): "candidates.csv, augmented.csv: read back on resume",
    ("augsbert_core/recipe/positives.py", "__call__"): "triplets.csv: the positive-pairs student's training rows",
    ("augsbert_core/recipe/positives.py", "_mine_and_sample"): "mined.csv, candidates.csv: read back on resume",
    ("augsbert_core/recipe/positives.py", "_label"): "silver.csv of the binary teacher: read back on resume",
    ("augsbert_core/ray_engine.py", "ray_silver"): "the Ray engine's labeled pairs, merged into silver.csv",
    ("augsbert_core/io/table_write.py", "write_table"): "the writer itself",
    ("studio/scenario.py", "retrain_with_review"): "silver.reviewed.csv: a run's training input",
    ("studio/workspace.py", "save_upload"): "the user's upload, saved as given",
    ("studio/workspace.py", "load_demo"): "the demo's files, saved as the workspace's data",
}


def _csv_writers() -> dict[tuple[str, str], list[ast.Call]]:
    """Every call that writes a CSV in the product's code, by (file, enclosing function)."""
    found: dict[tuple[str, str], list[ast.Call]] = {}
    files = [
        *REPO.glob("augsbert_core/**/*.py"),
        *REPO.glob("studio/*.py"),
        *REPO.glob("app_pages/*.py"),
        REPO / "app.py",
    ]
    for path in files:
        _WriterWalk(str(path.relative_to(REPO)), found).visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


class _WriterWalk(ast.NodeVisitor):
    def __init__(self, file: str, found: dict[tuple[str, str], list[ast.Call]]):
        self.file, self.found, self.stack = file, found, ["<module>"]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # noqa: N802 - ast.NodeVisitor's naming
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("write_table", "to_csv") or (name == "writer" and _is_csv_module(func)):
            self.found.setdefault((self.file, self.stack[-1]), []).append(node)
        self.generic_visit(node)


def _is_csv_module(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "csv"


def _guarded(call: ast.Call) -> bool:
    """The written frame passes through safe_for_spreadsheet in the call itself."""
    target = call.func.value if isinstance(call.func, ast.Attribute) and call.func.attr == "to_csv" else call
    return any(
        isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", "")) == "safe_for_spreadsheet"
        for n in ast.walk(target)
    )


def test_every_csv_writer_is_guarded_or_exact_data():
    writers = _csv_writers()
    assert len(writers) >= 15, sorted(writers)  # the walk finds the writers (it is not vacuous)
    unguarded = {key for key, calls in writers.items() if not all(_guarded(c) for c in calls)}
    stray = unguarded - set(EXACT_DATA_WRITERS)
    assert not stray, f"CSV writers neither guarded nor listed as exact data: {sorted(stray)}"
    stale = set(EXACT_DATA_WRITERS) - unguarded
    assert not stale, f"listed as exact data but no unguarded CSV writer there (update the list): {sorted(stale)}"
    guarded = {key for key, calls in writers.items() if any(_guarded(c) for c in calls)}
    assert {
        ("augsbert_core/recipe/students.py", "__call__"),
        ("augsbert_core/cli/commands.py", "_cmd_label_errors"),
    } <= guarded


def test_the_writer_walk_finds_an_unguarded_export(tmp_path):
    """The walk's own check: an unguarded to_csv is found, a guarded one is not counted."""
    tree = ast.parse("def f(x):\n    x.to_csv('a.csv')\n    safe_for_spreadsheet(x).to_csv('b.csv')\n")
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "to_csv"]
    assert [_guarded(c) for c in calls] == [False, True]


def test_formula_cells_in_pairs_output_are_named(tmp_path, monkeypatch, capsys):
    """`sample --out x.csv` writes pairs exactly (they are the next command's data) and names the formula cells."""
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"sentence": ["=1+1 is two", "@home we rest", "a plain sentence", "another plain one"]}).to_csv(
        "s.csv", index=False
    )
    assert main(["sample", "--sentences", "s.csv", "--sampler", "random", "--top-k", "1", "--out", "p.csv"]) == 0
    err = capsys.readouterr().err
    written = pd.read_csv("p.csv")
    assert formula_cells(written) > 0 and "=1+1 is two" in set(written["sentence1"]) | set(written["sentence2"])
    assert re.search(r"p\.csv: \d+ cells start with = \+ - or @ .* import it as text", err), err


# ------------------------------------------------------------------------------------------------ class 11
def _with_file_size_limit(limit_bytes: int, argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run the CLI with a real file-size limit (RLIMIT_FSIZE): a write past it fails with EFBIG, as a full disk
    fails with ENOSPC (SIGXFSZ ignored, so the write returns the error instead of killing the process)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run(
        [sys.executable, "-m", "augsbert_core", *argv],
        cwd=cwd,
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_full_disk_during_report_is_one_line(tmp_path):
    from augsbert_core import RunStore

    run = RunStore(tmp_path / "runs").create("earlier", 2, {"scenario": 2})
    run.write_json("metrics.json", {"augsbert": {"test": {"spearman": 0.8}}})
    run.set_status("finished")
    done = _with_file_size_limit(2000, ["report", run.id, "--runs-dir", "runs", "--out", "r.html"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert re.search(
        r"^error: disk full or file too large .*\(writing r\.html\)\. Free space, then run the command "
        r"again\.$",
        done.stderr.strip(),
        re.M,
    ), done.stderr
    assert not (tmp_path / "r.html").exists() and not list(tmp_path.glob(".r.html*"))


def test_a_full_disk_during_a_run_names_the_run_and_how_to_resume(tmp_path, micro_stsb):
    folder = _folder(tmp_path, micro_stsb)
    (folder / "c.yaml").write_text(
        _yaml(
            sampler="random",
            top_k=1,
            live_evals=0,
            checkpoints=0,
            train_gold_only=False,
            student={"epochs": 1},
            teacher={"epochs": 1},
        )
    )
    done = _with_file_size_limit(20_000_000, ["run", "c.yaml", "--runs-dir", "runs", "--no-progress"], folder)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    (run_dir,) = [p for p in (folder / "runs").iterdir() if p.is_dir()]
    last = done.stderr.strip().splitlines()[-1]
    assert last == last.strip() and last.startswith(f"error: run {run_dir.name} failed: disk full or file too large")
    assert last.endswith(f"Free space, then resume the run: augsbert resume {run_dir.name} --runs-dir runs")
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "failed" and record["failure"]["kind"] == "disk_full"
