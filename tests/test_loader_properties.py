"""Property tests (Hypothesis, fixed seeds) for the data loaders: random bytes, random CSV / TSV text, random JSON
lines and arrays (nested objects, lists, booleans, nulls, numbers, unicode), random Parquet tables (random column
types, binary included) and damaged gzip streams, fed to read_table / load_pairs / load_unlabeled, end in a valid
result or a DataError naming the file, never in another exception.

Run: HF_HUB_OFFLINE=1 python -m pytest -q tests/test_loader_properties.py   (about 10 s on 2 cores)"""

from __future__ import annotations

import gzip
import json
import math
import tempfile
import unicodedata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augsbert_core.io import data
from augsbert_core.io.data import DataError, PairSet, SentencePool

pytestmark = pytest.mark.hostile

FIXED = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
NAMES = ["sentence1", "sentence2", "score", "label", "sentence", "text", "s1", "q2", "is_duplicate", "id", ""]


def _valid_sentence(text: object) -> bool:
    """Stripped text with at least one visible character (not whitespace, not a format character like U+200B)."""
    return (
        isinstance(text, str)
        and text == text.strip()
        and any(not c.isspace() and unicodedata.category(c) != "Cf" for c in text)
    )


def check_loaders(path: Path, texts: set[str] | None = None) -> None:
    """Every loader returns a well-formed result or raises a DataError that names the file. With `texts`, every
    sentence loaded is one of them (stripped): sentences come only from text cells."""
    for loader in (data.read_table, data.load_pairs, data.load_unlabeled):
        try:
            result = loader(path)
        except DataError as err:
            assert err.problems and str(err).startswith(str(path)), str(err)
            assert all(p.file == str(path) for p in err.problems)
            continue
        if isinstance(result, PairSet):
            frame = result.frame
            assert list(frame.columns) == ["sentence1", "sentence2", "label"] and len(frame) > 0
            sentences = frame["sentence1"].tolist() + frame["sentence2"].tolist()
            assert all(_valid_sentence(s) for s in sentences)
            assert texts is None or {s for s in sentences} <= texts
            labels = frame["label"].to_numpy(dtype=float)
            assert all(math.isfinite(v) for v in labels)
            if result.task == "classification":
                assert set(labels) <= {0.0, 1.0}
            else:
                assert labels.min() >= 0 and labels.max() <= 1
        elif isinstance(result, SentencePool):
            assert result.sentences and all(_valid_sentence(s) for s in result.sentences)
            assert texts is None or set(result.sentences) <= texts
        else:
            assert all(isinstance(c, str) for c in result.columns)


def run_on(name: str, payload: bytes, texts: set[str] | None = None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(payload)
        check_loaders(path, texts)


# ------------------------------------------------------------------------------------------------ raw bytes
EXTENSIONS = [".csv", ".tsv", ".txt", ".jsonl", ".json", ".parquet", ".csv.gz", ".tsv.gz", ".txt.gz", ".jsonl.gz"]
MAGIC = [b"", b"PAR1", b"\x1f\x8b\x08\x00", b"\xef\xbb\xbf", b"sentence1,sentence2,score\n", b"[", b"{"]


@settings(max_examples=150, **FIXED)
@given(
    ext=st.sampled_from(EXTENSIONS), prefix=st.sampled_from(MAGIC), body=st.binary(max_size=600), compress=st.booleans()
)
def test_random_bytes(ext, prefix, body, compress):
    payload = prefix + body
    if compress and ext.endswith(".gz"):
        payload = gzip.compress(payload)
    run_on("random" + ext, payload)


@settings(max_examples=80, **FIXED)
@given(
    body=st.binary(min_size=1, max_size=400),
    position=st.integers(0, 10_000),
    flip=st.integers(1, 255),
    cut=st.integers(0, 60),
    tail=st.binary(max_size=8),
)
def test_damaged_gzip(body, position, flip, cut, tail):
    good = gzip.compress(b"sentence1,sentence2,score\n" + body)
    damaged = bytearray(good[: max(len(good) - cut, 1)])
    damaged[position % len(damaged)] ^= flip
    run_on("damaged.csv.gz", bytes(damaged) + tail)


# -------------------------------------------------------------------------------------------- CSV / TSV text
CELL_TEXT = st.text(
    alphabet=st.sampled_from(list("ab Z9.,;\"'\t\r\n-=\u200b\ufeff\u00e9\u00a0") + ["\U0001f600"]), max_size=12
)
NUMBERS = st.sampled_from(["0", "1", "2.5", "5", "-1", "nan", "inf", "true", "False", "1e400", "4,5", " 3 ", ""])


@settings(max_examples=150, **FIXED)
@given(
    names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=4),
    rows=st.lists(st.lists(st.one_of(CELL_TEXT, NUMBERS), min_size=0, max_size=5), max_size=6),
    sep=st.sampled_from([",", "\t"]),
    breaks=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1),
    quote=st.booleans(),
)
def test_random_csv_text(names, rows, sep, breaks, quote):
    def field(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if quote and any(c in cell for c in f'"{sep}\r\n') else cell

    lines = [sep.join(field(c) for c in row) for row in [names, *rows]]
    text = "".join(line + breaks[i % len(breaks)] for i, line in enumerate(lines))
    run_on("random.csv" if sep == "," else "random.tsv", text.encode("utf-8"))


# ------------------------------------------------------------------------------------------------------ JSON
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.sampled_from(["", " ", "\u200b", "0", "1", "4.5", "true"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8,
)
RECORDS = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=4)), JSON_VALUES, max_size=5)


@settings(max_examples=150, **FIXED)
@given(
    items=st.lists(st.one_of(RECORDS, RECORDS, RECORDS, JSON_VALUES), max_size=6),
    as_array=st.booleans(),
    blank_lines=st.booleans(),
)
def test_random_json_structures(items, as_array, blank_lines):
    if as_array:
        payload, name = json.dumps(items, indent=1 if blank_lines else None), "random.json"
    else:
        joiner = "\n\n" if blank_lines else "\n"
        payload, name = joiner.join(json.dumps(item) for item in items), "random.jsonl"
    strings = {v.strip() for item in items if isinstance(item, dict) for v in item.values() if isinstance(v, str)}
    run_on(name, payload.encode("utf-8"), strings)


# --------------------------------------------------------------------------------------------------- Parquet
def _column(draw, rows: int) -> pa.Array:
    kind = draw(
        st.sampled_from(
            [
                "string",
                "binary",
                "int",
                "float",
                "bool",
                "list",
                "struct",
                "null",
                "timestamp",
                "dictionary",
                "large_string",
                "fixed_binary",
            ]
        )
    )

    def maybe(values: st.SearchStrategy) -> st.SearchStrategy:
        return st.lists(st.one_of(st.none(), values), min_size=rows, max_size=rows)

    if kind in ("string", "large_string", "dictionary"):
        values = draw(maybe(st.one_of(CELL_TEXT, NUMBERS)))
        array = pa.array(values, pa.large_string() if kind == "large_string" else pa.string())
        return array.dictionary_encode() if kind == "dictionary" else array
    if kind == "binary":
        return pa.array(draw(maybe(st.one_of(st.binary(max_size=6), CELL_TEXT.map(str.encode)))), pa.binary())
    if kind == "fixed_binary":
        return pa.array(draw(maybe(st.binary(min_size=2, max_size=2))), pa.binary(2))
    if kind == "int":
        return pa.array(draw(maybe(st.integers(-5, 5))), pa.int64())
    if kind == "float":
        return pa.array(draw(maybe(st.floats(allow_nan=True, allow_infinity=True))), pa.float64())
    if kind == "bool":
        return pa.array(draw(maybe(st.booleans())), pa.bool_())
    if kind == "list":
        return pa.array(draw(maybe(st.lists(st.integers(0, 3), max_size=2))), pa.list_(pa.int64()))
    if kind == "struct":
        return pa.array(draw(maybe(st.fixed_dictionaries({"x": st.integers(0, 3)}))), pa.struct([("x", pa.int64())]))
    if kind == "timestamp":
        return pa.array(draw(maybe(st.integers(0, 2 * 10**9))), pa.timestamp("s"))
    return pa.nulls(rows)


@settings(max_examples=100, **FIXED)
@given(st.data())
def test_random_parquet_tables(drawn):
    rows = drawn.draw(st.integers(0, 5))
    names = drawn.draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    table = pa.table({name: _column(drawn.draw, rows) for name in names})
    strings = set()
    for column in table.columns:
        for value in column.to_pylist():
            if isinstance(value, bytes):
                value = value.decode("utf-8", errors="replace")
            if isinstance(value, str):
                strings.add(value.strip())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.parquet"
        pq.write_table(table, path)
        check_loaders(path, strings)
