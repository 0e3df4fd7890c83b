"""Tests for augsbert_core.io.data: reading, column mapping, validation, task/scale detection, writing."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from augsbert_core.io import data
from augsbert_core.io.data import DataError, PairSet, Problem, SentencePool

CASES = Path(__file__).resolve().parent / "data_cases"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

PAIRS_CSV = (
    "sentence1,sentence2,score\n"
    "A plane is taking off.,An air plane is taking off.,5.0\n"
    "A man plays a flute.,A man is playing a flute.,2.5\n"
    "A cat sleeps.,The stock market fell.,0\n"
    "Kids play outside.,Children are playing outdoors.,1.25\n"
)
PAIRS_LABELS = [1.0, 0.5, 0.0, 0.25]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def raises_data_error(func, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        func(*args, **kwargs)
    return info.value


def assert_names(err: DataError, path: Path, *, row: int | None = None, column: str | None = None) -> None:
    """The message names the file, and the row / column when given."""
    text = str(err)
    assert str(path) in text
    if row is not None:
        assert f"row {row}" in text
    if column is not None:
        assert f"column '{column}'" in text


def find(err: DataError, *, row: int | None, column: str | None) -> Problem:
    matches = [p for p in err.problems if p.row == row and p.column == column]
    assert matches, f"no problem at row={row} column={column}: {err.problems}"
    return matches[0]


# ------------------------------------------------------------------------------------------ Problem, DataError
def test_problem_str_omits_missing_parts():
    assert (
        str(Problem("gold.csv", 12, "score", "score is not a number: 'abc'"))
        == "gold.csv, row 12, column 'score': score is not a number: 'abc'"
    )
    assert str(Problem("gold.csv", None, "score", "x")) == "gold.csv, column 'score': x"
    assert str(Problem("gold.csv", 3, None, "x")) == "gold.csv, row 3: x"
    assert str(Problem("gold.csv", None, None, "x")) == "gold.csv: x"


def test_data_error_caps_problems_and_counts_rest(tmp_path):
    rows = "".join(f"s{i},t{i},abc\n" for i in range(120))
    path = write(tmp_path, "many.csv", "sentence1,sentence2,score\n" + rows)
    err = raises_data_error(data.load_pairs, path)
    assert err.total == 120 and len(err.problems) == data.MAX_PROBLEMS and err.more == 70
    assert str(err).startswith(f"{path}, row 1, column 'score': score is not a number: 'abc'")
    assert str(err).endswith("(and 119 more problems)")
    assert [p.row for p in err.problems] == list(range(1, 51))
    clone = pickle.loads(pickle.dumps(err))
    assert str(clone) == str(err) and clone.total == 120
    assert isinstance(err, ValueError)


# ------------------------------------------------------------------------------------------- formats
def _pair_frame() -> pd.DataFrame:
    return pd.read_csv(pd.io.common.StringIO(PAIRS_CSV), dtype=str)


@pytest.mark.parametrize(
    "name", ["p.csv", "p.tsv", "p.jsonl", "p.json", "p.parquet", "p.csv.gz", "p.tsv.gz", "p.jsonl.gz", "p.JSONL"]
)
def test_every_format_loads_the_same_pairs(tmp_path, name):
    frame = _pair_frame()
    base = name.lower().removesuffix(".gz")
    if base.endswith(".csv"):
        payload = frame.to_csv(index=False)
    elif base.endswith(".tsv"):
        payload = frame.to_csv(index=False, sep="\t")
    elif base.endswith((".jsonl", ".json")):
        payload = "".join(json.dumps(r) + "\n" for r in frame.to_dict("records"))
    else:
        frame.to_parquet(tmp_path / name, index=False)
        payload = None
    if payload is not None:
        raw = payload.encode()
        write(tmp_path, name, gzip.compress(raw) if name.endswith(".gz") else raw)
    pairs = data.load_pairs(tmp_path / name)
    assert pairs.task == "regression" and pairs.scale == (0.0, 5.0)
    assert pairs.frame["label"].tolist() == PAIRS_LABELS
    assert pairs.frame["sentence1"].tolist() == frame["sentence1"].tolist()
    assert list(pairs.frame.columns) == ["sentence1", "sentence2", "label"]
    assert pairs.frame["label"].dtype == np.float64
    assert isinstance(pairs.frame.index, pd.RangeIndex)
    assert pairs.source == str(tmp_path / name)


def test_json_array_and_numeric_json_values(tmp_path):
    records = [
        {"s1": "a b", "s2": "c d", "label": 1},
        {"s1": "e", "s2": "f", "label": 0},
        {"s1": "g", "s2": "h", "label": True},
    ]
    path = write(tmp_path, "arr.json", json.dumps(records, indent=2))
    pairs = data.load_pairs(path)
    assert pairs.task == "classification" and pairs.frame["label"].tolist() == [1, 0, 1]
    assert pairs.frame["label"].dtype == np.int64


def test_parquet_numeric_columns_are_read(tmp_path):
    frame = pd.DataFrame({"sentence1": ["a", "b"], "sentence2": ["c", "d"], "score": [0.2, 0.9]})
    frame.to_parquet(tmp_path / "num.parquet", index=False)
    pairs = data.load_pairs(tmp_path / "num.parquet")
    assert pairs.scale == (0.0, 1.0) and pairs.frame["label"].tolist() == [0.2, 0.9]


@pytest.mark.parametrize("gz", [False, True])
def test_txt_one_sentence_per_line(tmp_path, gz):
    raw = b"First sentence.\r\nSecond one.\nFirst sentence.\n\n\n"
    path = write(tmp_path, "s.txt.gz" if gz else "s.txt", gzip.compress(raw) if gz else raw)
    assert list(data.read_table(path).columns) == ["sentence"]
    pool = data.load_unlabeled(path)
    assert pool.sentences == ["First sentence.", "Second one."]
    assert pool.duplicates_dropped == 1 and pool.pairs is None and len(pool) == 2


def test_read_table_keeps_raw_text_and_applies_column_map(tmp_path):
    path = write(tmp_path, "raw.csv", "a,b,grade,extra\nx ,y,4.0,\n")
    frame = data.read_table(path, column_map={"a": "sentence1", "b": "sentence2", "grade": "score"})
    assert list(frame.columns) == ["sentence1", "sentence2", "score", "extra"]
    assert frame.iloc[0].tolist() == ["x ", "y", "4.0", ""]


def test_stsb_like_tsv_with_stray_quotes_and_extra_columns():
    pairs = data.load_pairs(CASES / "stsb_like.tsv")
    assert len(pairs) == 4 and pairs.scale == (0.0, 5.0)
    assert pairs.frame["sentence1"].tolist()[1:3] == ['He said "no comment.', "Leading and trailing spaces."]
    assert pairs.frame["sentence2"][1] == 'A "quote that never closes'
    assert pairs.frame["label"].tolist() == [1.0, 3.8 / 5.0, 0.0, 0.5]


def test_quora_like_csv_quoting_formulas_and_html_kept_verbatim():
    pairs = data.load_pairs(CASES / "quora_like.csv")
    assert pairs.task == "classification" and pairs.frame["label"].tolist() == [1, 0, 0, 1]
    s1, s2 = pairs.frame["sentence1"].tolist(), pairs.frame["sentence2"].tolist()
    assert s1[0] == "How do I learn Python, fast?"
    assert s1[1] == 'Is this a "quoted" word?'
    assert s1[2] == "A question spanning\ntwo lines?"
    assert s1[3] == '=HYPERLINK("http://evil.example")'
    assert s2[3] == "<b>bold</b> & <script>alert(1)</script>"


def test_bom_is_stripped(tmp_path):
    path = write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + PAIRS_CSV.encode())
    assert list(data.read_table(path).columns) == ["sentence1", "sentence2", "score"]
    assert len(data.load_pairs(path)) == 4


# ------------------------------------------------------------------------------------------- column mapping
@pytest.mark.parametrize(
    "header",
    [
        "s1,s2,score",
        "text_a,text_b,relatedness",
        "question1,question2,is_duplicate",
        "Premise,Hypothesis,Label",
        "anchor,positive,similarity",
        "q1,q2,gold_score",
        "Sentence 1,SENTENCE_2,sim",
        "text1,text2,target",
        "sentence_a,sentence_b,y",
        "Sentence1,Sentence2,Duplicate",
    ],
)
def test_aliases(tmp_path, header):
    path = write(tmp_path, "alias.csv", f"{header}\nhello there,general kenobi,1\nfoo bar,baz qux,0\n")
    pairs = data.load_pairs(path)
    assert pairs.frame["sentence1"].tolist() == ["hello there", "foo bar"]
    assert pairs.frame["label"].tolist() == [1, 0]


def test_explicit_column_map_and_original_names_in_errors(tmp_path):
    path = write(tmp_path, "mapped.csv", "left,right,grade\na,b,0.5\nc,,oops\n")
    mapping = {"left": "sentence1", "right": "sentence2", "grade": "score"}
    err = raises_data_error(data.load_pairs, path, column_map=mapping)
    assert find(err, row=2, column="right").message == "sentence2 is empty"
    assert find(err, row=2, column="grade").message == "score is not a number: 'oops'"
    assert err.total == 2
    ok = write(tmp_path, "mapped_ok.csv", "left,right,grade\na,b,0.5\nc,d,1\n")
    assert data.load_pairs(ok, column_map=mapping).frame["label"].tolist() == [0.5, 1.0]


def test_column_map_shadows_a_same_named_column(tmp_path):
    path = write(tmp_path, "shadow.csv", "sentence1,clean,sentence2,score\nraw,cleaned,b,0.5\n")
    pairs = data.load_pairs(path, column_map={"clean": "sentence1"})
    assert pairs.frame["sentence1"].tolist() == ["cleaned"]


def test_column_map_errors(tmp_path):
    path = write(tmp_path, "m.csv", "a,b,c\nx,y,1\n")
    err = raises_data_error(data.load_pairs, path, column_map={"nope": "sentence1"})
    assert "column_map refers to column 'nope'" in str(err) and "found: a, b, c" in str(err)
    err = raises_data_error(data.read_table, path, column_map={"a": "first_sentence"})
    assert "not one of" in str(err)
    err = raises_data_error(data.read_table, path, column_map={"a": "sentence1", "b": "sentence1"})
    assert "two columns" in str(err)


def test_missing_column_message(tmp_path):
    path = write(tmp_path, "miss.csv", "a,b,score\nx,y,1\n")
    err = raises_data_error(data.load_pairs, path)
    assert str(err).startswith(
        f"{path}: missing column 'sentence1' (found: a, b, score); map it with column_map={{'your_col': 'sentence1'}}"
    )
    assert err.total == 2 and "missing column 'sentence2'" in err.problems[1].message
    path = write(tmp_path, "nolabel.csv", "sentence1,sentence2,other\nx,y,1\n")
    assert "missing column 'score' or 'label'" in str(raises_data_error(data.load_pairs, path))


def test_score_preferred_over_label_unless_classification(tmp_path):
    path = write(tmp_path, "both.csv", "sentence1,sentence2,score,label\na,b,4,1\nc,d,1,0\n")
    pairs = data.load_pairs(path)
    assert pairs.task == "regression" and pairs.frame["label"].tolist() == [0.8, 0.2]
    pairs = data.load_pairs(path, task="classification")
    assert pairs.task == "classification" and pairs.frame["label"].tolist() == [1, 0]


# ------------------------------------------------------------------------------------------- task detection
@pytest.mark.parametrize("values", [["0", "1", "1"], ["0.0", "1.0", "0.0"], ["true", "False", "TRUE"]])
def test_binary_labels_are_classification(tmp_path, values):
    rows = "".join(f"a{i},b{i},{v}\n" for i, v in enumerate(values))
    pairs = data.load_pairs(write(tmp_path, "c.csv", "sentence1,sentence2,label\n" + rows))
    expected = [1 if v.lower() in ("1", "1.0", "true") else 0 for v in values]
    assert pairs.task == "classification" and pairs.scale is None
    assert pairs.frame["label"].tolist() == expected and pairs.frame["label"].dtype == np.int64


def test_label_column_with_graded_values_is_an_error_unless_regression(tmp_path):
    path = write(tmp_path, "graded.csv", "sentence1,sentence2,label\na,b,0\nc,d,0.7\ne,f,1\n")
    err = raises_data_error(data.load_pairs, path)
    assert_names(err, path, row=2, column="label")
    assert "labels must be 0/1, found 0.7" in str(err) and "task='regression'" in str(err)
    pairs = data.load_pairs(path, task="regression")
    assert pairs.task == "regression" and pairs.scale == (0.0, 1.0)
    assert pairs.frame["label"].tolist() == [0.0, 0.7, 1.0]


def test_score_column_mixing_binary_and_floats_is_regression(tmp_path):
    path = write(tmp_path, "mixed.csv", "sentence1,sentence2,similarity\na,b,0\nc,d,0.7\ne,f,1\n")
    pairs = data.load_pairs(path)
    assert pairs.task == "regression" and pairs.frame["label"].tolist() == [0.0, 0.7, 1.0]


def test_explicit_task_overrides_detection(tmp_path):
    path = write(tmp_path, "bin.csv", "sentence1,sentence2,score\na,b,0\nc,d,1\n")
    pairs = data.load_pairs(path, task="regression")
    assert pairs.task == "regression" and pairs.scale == (0.0, 1.0) and pairs.frame["label"].dtype == np.float64
    graded = write(tmp_path, "graded.csv", "sentence1,sentence2,score\na,b,0.5\nc,d,1\ne,f,3\n")
    err = raises_data_error(data.load_pairs, graded, task="classification")
    assert err.total == 2
    assert find(err, row=1, column="score").message == "labels must be 0/1, found 0.5"
    assert find(err, row=3, column="score").message == "labels must be 0/1, found 3"
    with pytest.raises(ValueError):
        data.load_pairs(path, task="ranking")  # type: ignore[arg-type]


def test_single_class_warns(tmp_path):
    # all 0: one class; all 1 is positive pairs only since task positive_pairs (tests/test_positive_pairs.py)
    pairs = data.load_pairs(write(tmp_path, "one.csv", "sentence1,sentence2,label\na,b,0\nc,d,0\n"))
    assert pairs.task == "classification" and any("only one class" in w.message for w in pairs.warnings)


# ------------------------------------------------------------------------------------------- scale
def test_scale_detected_0_1_values_unchanged(tmp_path):
    path = write(tmp_path, "s01.csv", "sentence1,sentence2,score\na,b,0.25\nc,d,0.5\ne,f,0.125\n")
    pairs = data.load_pairs(path)
    assert pairs.scale == (0.0, 1.0) and pairs.frame["label"].tolist() == [0.25, 0.5, 0.125]


def test_scale_detected_0_5_normalised(tmp_path):
    pairs = data.load_pairs(write(tmp_path, "s05.csv", PAIRS_CSV))
    assert pairs.scale == (0.0, 5.0) and pairs.frame["label"].tolist() == PAIRS_LABELS


def test_scale_1_5_detected_and_given(tmp_path):
    """Scores that run exactly 1..5 are on a 1-5 scale (a SICK-style relatedness file), not 0-5."""
    path = write(tmp_path, "s15.csv", "sentence1,sentence2,score\na,b,1\nc,d,2\ne,f,3\ng,h,5\n")
    assert data.load_pairs(path).scale == (1.0, 5.0)
    pairs = data.load_pairs(path, scale=(1, 5))
    assert pairs.scale == (1.0, 5.0) and pairs.frame["label"].tolist() == [0.0, 0.25, 0.5, 1.0]


def test_score_outside_given_scale(tmp_path):
    path = write(tmp_path, "out.csv", "sentence1,sentence2,score\na,b,1\nc,d,0.5\ne,f,5\n")
    err = raises_data_error(data.load_pairs, path, scale=(1, 5))
    assert_names(err, path, row=2, column="score")
    assert "score 0.5 is outside the scale 1..5" in str(err)


def test_undetectable_scale_asks_for_scale(tmp_path):
    path = write(tmp_path, "ten.csv", "sentence1,sentence2,rating\na,b,1\nc,d,9.5\n")
    err = raises_data_error(data.load_pairs, path, column_map={"rating": "score"})
    assert_names(err, path, column="rating")
    assert "scores range 1..9.5; pass scale=(lo, hi)" in str(err) and "scale=(0, 10)" in str(err)
    assert data.load_pairs(path, column_map={"rating": "score"}, scale=(0, 10)).frame["label"].tolist() == [0.1, 0.95]
    with pytest.raises(ValueError):
        data.load_pairs(path, scale=(5, 1))


# ------------------------------------------------------------------------------------------- row errors
def test_every_row_problem_is_collected(tmp_path):
    path = write(
        tmp_path,
        "gold.csv",
        (
            "sentence1,sentence2,score\n"
            "ok,fine,1\n"  # 1
            ",b,1\n"  # 2 empty sentence1
            "a,   ,1\n"  # 3 whitespace-only sentence2
            "a,b,abc\n"  # 4 not a number
            "a,b,nan\n"  # 5 nan literal
            "a,b,NaN\n"  # 6
            "a,b,inf\n"  # 7
            "a,b,\n"  # 8 empty score
            'a,b,"4,5"\n'  # 9 comma decimal
            "a,b,-inf\n"  # 10
        ),
    )
    err = raises_data_error(data.load_pairs, path)
    assert err.total == 9
    expected = {
        (2, "sentence1"): "sentence1 is empty",
        (3, "sentence2"): "sentence2 is empty (whitespace only)",
        (4, "score"): "score is not a number: 'abc'",
        (5, "score"): "score is not a finite number: 'nan'",
        (6, "score"): "score is not a finite number: 'NaN'",
        (7, "score"): "score is not a finite number: 'inf'",
        (8, "score"): "score is empty",
        (9, "score"): "score is not a number: '4,5' (use '.' as the decimal separator)",
        (10, "score"): "score is not a finite number: '-inf'",
    }
    assert {(p.row, p.column): p.message for p in err.problems} == expected
    assert [p.row for p in err.problems] == sorted(p.row for p in err.problems)
    assert str(err).startswith(f"{path}, row 2, column 'sentence1': sentence1 is empty (and 8 more problems)")


def test_sentences_are_stripped(tmp_path):
    pairs = data.load_pairs(write(tmp_path, "ws.csv", "sentence1,sentence2,label\n  a b  ,\tc d\t,1\n"))
    assert pairs.frame.iloc[0].tolist()[:2] == ["a b", "c d"]


# ------------------------------------------------------------------------------------------- duplicates
def test_duplicates_and_swapped_duplicates_dropped(tmp_path):
    path = write(
        tmp_path,
        "dup.csv",
        (
            "sentence1,sentence2,label\n"
            "a,b,1\n"  # 1 kept
            "c,d,0\n"  # 2 kept
            "a,b,1\n"  # 3 exact duplicate of 1
            "b,a,0\n"  # 4 swapped duplicate of 1, different label
            "d,c,0\n"  # 5 swapped duplicate of 2
            "e,f,1\n"  # 6 kept
        ),
    )
    pairs = data.load_pairs(path)
    assert pairs.duplicates_dropped == 3 and len(pairs) == 3
    assert pairs.frame[["sentence1", "sentence2"]].values.tolist() == [["a", "b"], ["c", "d"], ["e", "f"]]
    warning = next(w for w in pairs.warnings if "duplicate" in w.message)
    assert warning.file == str(path)
    for text in (
        "dropped 3 duplicate pairs",
        "row 3 = row 1",
        "row 4 = row 1 (swapped)",
        "row 5 = row 2 (swapped)",
        "1 of them had a different label",
    ):
        assert text in warning.message
    kept = data.load_pairs(path, drop_duplicates=False)
    assert len(kept) == 6 and kept.duplicates_dropped == 0
    assert any("kept 3 duplicate pairs" in w.message for w in kept.warnings)


def test_identical_sentences_kept_with_warning(tmp_path):
    path = write(tmp_path, "same.csv", "sentence1,sentence2,label\nx,x,1\na,b,0\ny, y,1\n")
    pairs = data.load_pairs(path)
    assert len(pairs) == 3
    warning = next(w for w in pairs.warnings if "identical" in w.message)
    assert "rows 1, 3" in warning.message
    single = data.load_pairs(write(tmp_path, "same1.csv", "sentence1,sentence2,label\nx,x,1\na,b,0\n"))
    assert [(w.row, w.message) for w in single.warnings] == [(1, "sentence1 and sentence2 are identical (kept)")]


# ------------------------------------------------------------------------------------------- file errors
@pytest.mark.parametrize("name", ["e.csv", "e.tsv", "e.txt", "e.jsonl", "e.parquet", "e.csv.gz"])
def test_empty_file(tmp_path, name):
    path = write(tmp_path, name, b"")
    err = raises_data_error(data.read_table, path)
    assert str(err) == f"{path}: file is empty (0 bytes)"


def test_empty_after_decompression(tmp_path):
    path = write(tmp_path, "e.tsv.gz", gzip.compress(b""))
    assert "empty" in str(raises_data_error(data.read_table, path))


@pytest.mark.parametrize(
    "name,content",
    [
        ("h.csv", "sentence1,sentence2,score\n"),
        ("h.tsv", "sentence1\tsentence2\tscore\r\n"),
        ("h.csv.gz", gzip.compress(b"sentence1,sentence2,score")),
    ],
)
def test_header_only(tmp_path, name, content):
    path = write(tmp_path, name, content)
    err = raises_data_error(data.load_pairs, path)
    assert str(err) == f"{path}: has a header row but no data rows"


def test_only_blank_lines(tmp_path):
    assert "no header row" in str(raises_data_error(data.read_table, write(tmp_path, "b.csv", "\n\r\n\n")))
    assert "no sentences" in str(raises_data_error(data.read_table, write(tmp_path, "b.txt", "\n  \n")))
    assert "no records" in str(raises_data_error(data.read_table, write(tmp_path, "b.jsonl", "\n \n")))
    assert "no records" in str(raises_data_error(data.read_table, write(tmp_path, "b.json", "[]")))


def test_latin1_bytes():
    path = CASES / "latin1.csv"
    err = raises_data_error(data.load_unlabeled, path)
    assert_names(err, path, row=2, column="sentence")
    assert "0xe9" in str(err) and "not valid UTF-8" in str(err) and "line 3" in str(err)


def test_latin1_in_txt_and_gzip(tmp_path):
    path = write(tmp_path, "l.txt.gz", gzip.compress("ok\nna\u00efve\n".encode("latin-1")))
    err = raises_data_error(data.load_unlabeled, path)
    assert_names(err, path, row=2)
    assert "after decompression" in str(err)


@pytest.mark.parametrize(
    "content,expected",
    [
        (bytes(range(256)) * 4, "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"PAR1\x15\x04\x15", "Parquet"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel"),
        (gzip.compress(b"sentence1,sentence2,score\na,b,1\n"), "gzip"),
        ("sentence\nhello\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_binary_or_mislabeled_csv(tmp_path, content, expected):
    path = write(tmp_path, "fake.csv", content)
    err = raises_data_error(data.load_pairs, path)
    assert str(path) in str(err) and expected in str(err)


def test_parquet_errors(tmp_path):
    path = write(tmp_path, "bad.parquet", "sentence1,sentence2,score\na,b,1\n")
    err = raises_data_error(data.read_table, path)
    assert str(path) in str(err) and "not a valid Parquet file" in str(err)
    truncated = tmp_path / "trunc.parquet"
    pd.DataFrame({"a": ["x"] * 10}).to_parquet(truncated)
    truncated.write_bytes(truncated.read_bytes()[:-20])
    assert "not a valid Parquet file" in str(raises_data_error(data.read_table, truncated))
    wrong = tmp_path / "wrong.parquet"
    pd.DataFrame({"id": [1, 2], "text": ["a", "b"]}).to_parquet(wrong)
    err = raises_data_error(data.load_pairs, wrong)
    assert "missing column 'sentence1' (found: id, text)" in str(err)
    empty = tmp_path / "empty.parquet"
    pd.DataFrame({"sentence": pd.Series([], dtype=str)}).to_parquet(empty)
    assert "no data rows" in str(raises_data_error(data.read_table, empty))


def test_gzip_errors(tmp_path):
    full = gzip.compress(("sentence1,sentence2,score\n" + "a,b,1\n" * 2000).encode())
    path = write(tmp_path, "t.csv.gz", full[: len(full) // 2])
    err = raises_data_error(data.load_pairs, path)
    assert str(path) in str(err) and "truncated" in str(err)
    path = write(tmp_path, "plain.csv.gz", "sentence1,sentence2,score\na,b,1\n")
    assert "not gzip-compressed" in str(raises_data_error(data.load_pairs, path))
    corrupt = bytearray(full)
    corrupt[20:40] = b"\xff" * 20
    path = write(tmp_path, "corrupt.csv.gz", bytes(corrupt))
    err = raises_data_error(data.load_pairs, path)
    assert str(path) in str(err) and "gzip" in str(err)


def test_invalid_json_line(tmp_path):
    path = write(tmp_path, "bad.jsonl", '{"sentence": "a"}\n\n{"sentence": "b",}\n{"sentence": "c"}\n')
    err = raises_data_error(data.load_unlabeled, path)
    assert_names(err, path)
    assert "invalid JSON on line 3" in str(err)
    path = write(tmp_path, "arr.jsonl", '{"sentence": "a"}\n["b"]\n')
    assert "line 2 is a JSON array, not an object" in str(raises_data_error(data.read_table, path))
    path = write(tmp_path, "two.jsonl", '{"sentence": "a"},{"sentence": "b"}\n')
    assert "invalid JSON on line 1" in str(raises_data_error(data.read_table, path))
    path = write(tmp_path, "bad.json", '[{"sentence": "a"},\n {"sentence": }]')
    assert "invalid JSON on line 2" in str(raises_data_error(data.read_table, path))


@pytest.mark.parametrize(
    "header,kind", [("sentence1;sentence2;score", "semicolon"), ("sentence1\tsentence2\tscore", "tab")]
)
def test_wrong_delimiter_in_csv(tmp_path, header, kind):
    sep = ";" if kind == "semicolon" else "\t"
    path = write(tmp_path, "wrong.csv", f"{header}\nhello, world{sep}b{sep}1\n")
    err = raises_data_error(data.load_pairs, path)
    assert str(path) in str(err) and f"looks {kind}-separated" in str(err)


def test_comma_separated_tsv(tmp_path):
    path = write(tmp_path, "wrong.tsv", "sentence1,sentence2,score\na,b,1\n")
    assert "looks comma-separated" in str(raises_data_error(data.read_table, path))


def test_ragged_rows(tmp_path):
    path = write(tmp_path, "extra.csv", "sentence1,sentence2,score\na,b,1\nc,d,e,2\n")
    err = raises_data_error(data.load_pairs, path)
    assert_names(err, path, row=2)
    assert "row has 4 fields but the header has 3" in str(err) and "must be quoted" in str(err)
    path = write(tmp_path, "short.tsv", "sentence1\tsentence2\tscore\na\tb\t1\nc\td\n")
    err = raises_data_error(data.load_pairs, path)
    assert_names(err, path, row=2)
    assert "row has 2 fields but the header has 3" in str(err)
    path = write(tmp_path, "quote.csv", 'sentence1,sentence2,score\na,b,1\n"c,d,1\ne,f,1\n')
    err = raises_data_error(data.load_pairs, path)
    assert_names(err, path, row=2)
    assert "unclosed quote" in str(err)


def test_duplicate_header_names(tmp_path):
    path = write(tmp_path, "dup.csv", "sentence1,sentence1,score\na,b,1\n")
    assert "duplicate column name 'sentence1'" in str(raises_data_error(data.read_table, path))


@pytest.mark.parametrize("name", ["x.xlsx", "x.doc", "x", "x.parquet.gz"])
def test_unsupported_extension(tmp_path, name):
    path = write(tmp_path, name, "a,b\n1,2\n")
    err = raises_data_error(data.read_table, path)
    assert str(path) in str(err) and "unsupported file type" in str(err)


def test_missing_file(tmp_path):
    assert "file not found" in str(raises_data_error(data.load_pairs, tmp_path / "nope.csv"))


def test_huge_single_line_does_not_hang(tmp_path):
    started = time.perf_counter()
    one_cell = write(tmp_path, "line.csv", "x" * 10_000_000)
    assert "no data rows" in str(raises_data_error(data.read_table, one_cell))
    many = write(tmp_path, "wide.csv", "x," * 5_000_000)
    assert "does not look like a CSV table" in str(raises_data_error(data.read_table, many))
    json_line = write(tmp_path, "long.jsonl", '{"sentence": "' + "y" * 10_000_000 + '"}')
    assert len(data.load_unlabeled(json_line).sentences[0]) == 10_000_000
    long_row = write(tmp_path, "long.csv", "sentence,n\n" + "z" * 10_000_000 + ",1\n")
    assert len(data.load_unlabeled(long_row, column_map={"sentence": "sentence"}).sentences[0]) == 10_000_000
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(
    "name,content",
    [
        ("a.csv", b"\xff\xfe\x00garbage"),
        ("a.csv", b'"'),
        ("a.csv", b'a,b\n"x'),
        ("a.tsv", b"\t\t\n\t\n"),
        ("a.jsonl", b"{"),
        ("a.jsonl", b"[1]"),
        ("a.json", b"[1, 2]"),
        ("a.json", b'{"a": 1}'),
        ("a.jsonl", b"null"),
        ("a.parquet", b"PAR1PAR1"),
        ("a.txt.gz", b"\x1f\x8b\x08\x00"),
        ("a.csv", b"a\n\xc3"),
        ("a.jsonl", b'{"a": [[[[[[[]]]]]]]}}'),
    ],
)
def test_no_raw_exception_escapes(tmp_path, name, content):
    path = write(tmp_path, name, content)
    for loader in (data.read_table, data.load_pairs, data.load_unlabeled):
        try:
            loader(path)
        except DataError as err:
            assert str(path) in str(err)


# ------------------------------------------------------------------------------------------- unlabeled
def test_unlabeled_pairs_ignore_labels_and_drop_duplicate_pairs(tmp_path):
    path = write(tmp_path, "u.csv", "question1,question2,is_duplicate\na,b,1\nc,a,zzz\nb,a,0\n")
    pool = data.load_unlabeled(path)
    assert isinstance(pool, SentencePool)
    assert pool.sentences == ["a", "b", "c"] and pool.duplicates_dropped == 1
    assert pool.pairs is not None and pool.pairs.values.tolist() == [["a", "b"], ["c", "a"]]
    assert list(pool.pairs.columns) == ["sentence1", "sentence2"]


@pytest.mark.parametrize("header", ["sentence", "Text", "question", "sentences", "query", "whatever_name"])
def test_unlabeled_single_column(tmp_path, header):
    pool = data.load_unlabeled(write(tmp_path, "single.csv", f"{header}\n b \na\nb\n"))
    assert pool.sentences == ["b", "a"] and pool.duplicates_dropped == 1 and pool.pairs is None


def test_unlabeled_sentence_column_among_others(tmp_path):
    pool = data.load_unlabeled(write(tmp_path, "multi.csv", "id,text,score\n1,hello,3\n2,world,4\n"))
    assert pool.sentences == ["hello", "world"]
    mapped = data.load_unlabeled(write(tmp_path, "m.csv", "id,body\n1,x\n"), column_map={"body": "sentence"})
    assert mapped.sentences == ["x"]


def test_unlabeled_errors(tmp_path):
    path = write(tmp_path, "none.csv", "id,body\n1,x\n")
    err = raises_data_error(data.load_unlabeled, path)
    assert "no sentence column found (found: id, body)" in str(err)
    path = write(tmp_path, "blank.txt", "one\n   \nthree\n")
    err = raises_data_error(data.load_unlabeled, path)
    assert str(err) == f"{path}, row 2, column 'sentence': sentence is empty (whitespace only)"
    path = write(tmp_path, "pairs.tsv", "s1\ts2\nx\t\n")
    err = raises_data_error(data.load_unlabeled, path)
    assert str(err) == f"{path}, row 1, column 's2': sentence2 is empty"


def test_summaries(tmp_path):
    pairs = data.load_pairs(write(tmp_path, "s.csv", PAIRS_CSV))
    summary = pairs.summary()
    assert summary["rows"] == 4 and summary["task"] == "regression" and summary["scale"] == (0.0, 5.0)
    assert summary["label_mean"] == pytest.approx(np.mean(PAIRS_LABELS))
    assert summary["label_std"] == pytest.approx(np.std(PAIRS_LABELS))
    assert (summary["label_min"], summary["label_max"]) == (0.0, 1.0)
    assert summary["duplicates_dropped"] == 0
    words = [len(s.split()) for s in _pair_frame()[["sentence1", "sentence2"]].values.ravel()]
    assert summary["mean_words"] == pytest.approx(np.mean(words))
    json.dumps(summary)
    clf = data.load_pairs(write(tmp_path, "c.csv", "sentence1,sentence2,label\na,b,1\nc,d,0\ne,f,1\ng,h,1\n"))
    assert clf.summary()["positive_share"] == 0.75 and clf.summary()["positives"] == 3
    pool = data.load_unlabeled(write(tmp_path, "u.txt", "one two\nthree\n"))
    assert pool.summary()["sentences"] == 2 and pool.summary()["mean_words"] == 1.5


def test_pairset_sentences_first_seen_order(tmp_path):
    pairs = data.load_pairs(write(tmp_path, "o.csv", "sentence1,sentence2,label\nb,a,1\na,c,0\nd,b,1\n"))
    assert pairs.sentences() == ["b", "a", "c", "d"]
    assert isinstance(pairs, PairSet) and len(pairs) == 3


# ------------------------------------------------------------------------------------------- writing & helpers
def test_fingerprint(tmp_path):
    a = write(tmp_path, "a.csv", "x\n1\n")
    b = write(tmp_path, "b.csv", "x\n2\n")
    assert len(data.fingerprint(a)) == 16 and int(data.fingerprint(a), 16) >= 0
    assert data.fingerprint(a) != data.fingerprint(b)
    assert data.fingerprint(a) == data.fingerprint(write(tmp_path, "c.csv", "x\n1\n"))


@pytest.mark.parametrize("ext", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_write_table_round_trip(tmp_path, ext):
    frame = pd.DataFrame(
        {
            "sentence1": ["Plain", 'He said "hi", then left', "=1+2", "Caf\u00e9 \u2603"],
            "sentence2": ["<b>x</b>", "a;b", "@user", "-dash"],
            "label": [0.1, 0.30000000000000004, 1.0, 0.0],
        }
    )
    path = tmp_path / f"out{ext}"
    data.write_table(frame, path)
    back = data.load_pairs(path, scale=(0, 1), drop_duplicates=False)
    pd.testing.assert_frame_equal(back.frame, frame, check_dtype=False)
    assert back.frame["label"].tolist() == frame["label"].tolist()
    assert sorted(os.listdir(tmp_path)) == [f"out{ext}"]  # no temp file left behind
    data.write_table(frame.iloc[:1], path)  # overwrite in place
    assert len(data.read_table(path)) == 1


def test_write_table_rejects_bad_targets(tmp_path):
    frame = pd.DataFrame({"sentence": ["a\tb"]})
    with pytest.raises(ValueError, match="tab or newline"):
        data.write_table(frame, tmp_path / "x.tsv")
    with pytest.raises(ValueError, match="cannot write"):
        data.write_table(frame, tmp_path / "x.xlsx")
    assert os.listdir(tmp_path) == []
    data.write_table(frame, tmp_path / "x.csv")
    assert data.read_table(tmp_path / "x.csv")["sentence"].tolist() == ["a\tb"]


def test_safe_for_spreadsheet():
    frame = pd.DataFrame(
        {
            "text": ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain", "a=b", None],
            "number": [-1.0, 2, 3, 4, 5, 6, 7, 8, 9],
            "mixed": pd.Series(["=x", 1, None, "ok", "-", 2.5, "+", "y", "@"], dtype=object),
        }
    )
    safe = data.safe_for_spreadsheet(frame)
    assert safe["text"].tolist()[:8] == ['\'=HYPERLINK("x")', "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "plain", "a=b"]
    assert pd.isna(safe["text"].iloc[8])
    assert safe["number"].tolist() == frame["number"].tolist()
    assert safe["mixed"].tolist()[:2] == ["'=x", 1] and safe["mixed"].tolist()[3:] == ["ok", "'-", 2.5, "'+", "y", "'@"]
    assert frame["text"].iloc[0] == '=HYPERLINK("x")'  # input untouched


def test_supported_extensions_constant():
    assert {".csv", ".tsv", ".txt", ".jsonl", ".json", ".parquet", ".csv.gz", ".tsv.gz", ".jsonl.gz", ".txt.gz"} <= set(
        data.SUPPORTED_EXTENSIONS
    )


# ------------------------------------------------------------------------------------------- scale & real data
def test_200k_rows_load_fast(tmp_path):
    n = 200_000
    ids = np.arange(n)
    frame = pd.DataFrame(
        {
            "sentence1": "A man is playing the guitar number " + pd.Series(ids).astype(str),
            "sentence2": "Someone plays an instrument, take " + pd.Series(ids % 9973).astype(str),
            "score": (ids % 51) / 10,
        }
    )
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    started = time.perf_counter()
    pairs = data.load_pairs(path)
    pool = data.load_unlabeled(path)
    elapsed = time.perf_counter() - started
    assert len(pairs) == n and pairs.scale == (0.0, 5.0) and len(pool) == n + 9973
    assert elapsed < 5, f"loading 200k rows twice took {elapsed:.1f}s"


STSB = SHARED_DATA / "stsb" / "stsbenchmark.tsv.gz"


@pytest.mark.skipif(not STSB.exists(), reason=f"shared STSb data not present at {STSB}")
def test_shared_stsbenchmark():
    full = data.load_pairs(STSB, drop_duplicates=False)
    assert len(full) == 8628 and full.task == "regression" and full.scale == (0.0, 5.0)
    assert full.frame["label"].min() == 0.0 and full.frame["label"].max() == 1.0
    deduped = data.load_pairs(STSB)
    assert len(deduped) + deduped.duplicates_dropped == 8628 and deduped.duplicates_dropped > 0


def test_gzip_expansion_is_capped(tmp_path):
    import gzip as _gzip

    from augsbert_core.io import data as core_data

    with pytest.raises(core_data.DataError, match="decompresses to more than"):
        core_data._gunzip(_gzip.compress(b"x" * 50_000), "bomb.csv.gz", limit=10_000)


def test_nul_bytes_are_found_beyond_the_first_64k(tmp_path):
    from augsbert_core.io import data as core_data

    path = tmp_path / "late_nul.csv"
    path.write_bytes(b"sentence1,sentence2,score\n" + b"a,b,1\n" * 20000 + b"c\x00,d,1\n")
    with pytest.raises(core_data.DataError, match=r"late_nul\.csv.*NUL bytes \(first at byte .*line 20,002\)"):
        core_data.load_pairs(path)
