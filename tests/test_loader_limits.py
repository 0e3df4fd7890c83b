"""The data loaders are bounded and strict (augsbert_core.io.data): limits on rows, cells, columns / JSON keys and
decoded bytes, enforced before a whole file is materialised (peak memory measured in a subprocess); special files
refused without blocking; specific gzip errors; non-text JSON / Parquet cells; strict UTF-8 for Parquet binary;
invisible-only sentences; CR / mixed line endings; quoted TSV.

Run: HF_HUB_OFFLINE=1 python -m pytest -q tests/test_loader_limits.py   (about 10 s)"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from augsbert_core.io import data
from augsbert_core.io.data import DataError

pytestmark = pytest.mark.hostile

ROOT = Path(__file__).resolve().parents[1]
MEMORY_BOUND_MB = 500


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def error_of(func, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        func(*args, **kwargs)
    return info.value


def problems(err: DataError) -> dict[tuple[int | None, str | None], str]:
    return {(p.row, p.column): p.message for p in err.problems}


# ---------------------------------------------------------------------------------- limits: memory and time
_PROBE = r"""
import json, resource, sys, time
import pyarrow.csv, pyarrow.parquet  # imported before the baseline: the loader imports them lazily
from augsbert_core import data
path, kind = sys.argv[1], sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    (data.load_pairs if kind == "gold" else data.load_unlabeled)(path)
    error = None
except data.DataError as exc:
    error = str(exc)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024  # KiB on Linux
print(json.dumps({"error": error, "grown_mb": grown, "seconds": time.perf_counter() - started}))
"""


def probe(path: Path, kind: str = "unlabeled", **env: str) -> dict:
    """Load `path` in a fresh interpreter; its error and how much its peak RSS grew while loading."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), kind],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), **env),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def repeated_parquet(tmp_path_factory) -> Path:
    """20M rows of the same pair: a few hundred KB on disk, gigabytes once materialised as Python strings."""
    path = tmp_path_factory.mktemp("pq") / "repeated.parquet"
    step = 1_000_000
    indices = pa.array(np.zeros(step, dtype=np.int32))
    batch = pa.table(
        {
            "sentence1": pa.DictionaryArray.from_arrays(indices, pa.array(["A man is playing a guitar."])),
            "sentence2": pa.DictionaryArray.from_arrays(indices, pa.array(["Someone plays an instrument."])),
            "score": pa.array(np.full(step, 2.5)),
        }
    )
    with pq.ParquetWriter(path, batch.schema) as writer:
        for _ in range(20):
            writer.write_table(batch)
    assert path.stat().st_size < 2_000_000
    return path


def test_20m_row_parquet_is_refused_from_its_footer(repeated_parquet):
    result = probe(repeated_parquet, "gold")
    assert result["error"] == (
        f"{repeated_parquet}: has 20,000,000 rows; the limit is 5,000,000 rows: split the file, "
        "or raise the limit with the environment variable AUGSBERT_MAX_ROWS"
    )
    assert result["grown_mb"] < MEMORY_BOUND_MB and result["seconds"] < 5, result


def test_20m_row_parquet_with_a_raised_row_limit_hits_the_cell_limit(repeated_parquet):
    result = probe(repeated_parquet, "gold", AUGSBERT_MAX_ROWS="30_000_000")
    assert "has 20,000,000 rows × 3 columns = 60,000,000 cells; the limit is 20,000,000 cells" in result["error"]
    assert "AUGSBERT_MAX_CELLS" in result["error"]
    assert result["grown_mb"] < MEMORY_BOUND_MB, result


def test_parquet_whose_text_expands_from_its_dictionary_is_refused_while_reading(tmp_path):
    """2,000 rows of one 1 MiB string: 2 GiB decoded, 50 KB on disk, footer sizes small (dictionary-encoded)."""
    path = tmp_path / "expanding.parquet"
    text = pa.array(["x" * (1 << 20)])
    pq.write_table(
        pa.table({"sentence": pa.DictionaryArray.from_arrays(pa.array(np.zeros(2000, np.int32)), text)}), path
    )
    assert path.stat().st_size < 200_000
    result = probe(path)
    expected = "expanding.parquet: decodes to more than 1,024.0 MB of data; the limit is 1,073,741,824 bytes"
    assert expected in result["error"]
    assert "AUGSBERT_MAX_BYTES" in result["error"]
    assert result["grown_mb"] < MEMORY_BOUND_MB, result


def test_parquet_uncompressed_size_is_checked_from_the_footer(tmp_path, monkeypatch):
    path = tmp_path / "plain.parquet"
    pq.write_table(
        pa.table({"sentence": ["the same sentence, again and again"] * 100_000}),
        path,
        use_dictionary=False,
        compression="zstd",
    )
    monkeypatch.setenv("AUGSBERT_MAX_BYTES", str(max(path.stat().st_size * 2, 1_000_000)))
    err = error_of(data.load_unlabeled, path)
    assert "of uncompressed data; the limit is" in str(err) and "AUGSBERT_MAX_BYTES" in str(err)


def test_jsonl_with_a_new_key_per_record_is_refused_fast(tmp_path):
    path = tmp_path / "keys.jsonl"
    path.write_text("".join(json.dumps({"sentence": f"s{i}", f"key{i}": i}) + "\n" for i in range(20_000)))
    result = probe(path)
    assert result["error"] == (
        f"{path}, row 1000: the records use more than 1,000 distinct keys (one column each) by "
        "this one; the limit is 1,000 columns: split the file, or raise the limit with the "
        "environment variable AUGSBERT_MAX_COLUMNS"
    )
    assert result["grown_mb"] < MEMORY_BOUND_MB and result["seconds"] < 5, result


@pytest.mark.parametrize("name", ["wide.jsonl", "wide.json"])
def test_one_record_with_50k_keys_is_refused_fast(tmp_path, name):
    record = {"sentence": "hello"} | {f"k{i}": i for i in range(50_000)}
    body = json.dumps(record) if name.endswith("l") else json.dumps([{"sentence": "first"}, record])
    path = write(tmp_path / name, body)
    result = probe(path)
    row = 1 if name.endswith("l") else 2
    assert result["error"].startswith(
        f"{path}, row {row}: a record with 50,001 keys (one column each); the limit is 1,000 columns"
    )
    assert result["grown_mb"] < MEMORY_BOUND_MB and result["seconds"] < 5, result


def test_gzip_bomb_is_decompressed_with_a_cap(tmp_path):
    path = write(tmp_path / "bomb.csv.gz", gzip.compress(b"sentence\n" + b"a" * 300_000_000, compresslevel=1))
    assert path.stat().st_size < 2_000_000
    result = probe(path, AUGSBERT_MAX_BYTES="50000000")
    assert result["error"] == (
        f"{path}: decompresses to more than 47.7 MB; the limit is 50,000,000 bytes: split the "
        "file, or raise the limit with the environment variable AUGSBERT_MAX_BYTES"
    )
    assert result["grown_mb"] < 200, result


# ------------------------------------------------------------------------------------ limits: each of them
@pytest.mark.parametrize(
    "name,content",
    [
        ("rows.csv", "sentence\n" + "a\n" * 101),
        ("rows.tsv", "sentence\r" + "a\r" * 101),
        ("rows.txt", "a\n" * 101),
        ("rows.jsonl", '{"sentence": "a"}\n' * 101),
        ("rows.json", json.dumps([{"sentence": "a"}] * 20_001)),
    ],
)
def test_row_limit(tmp_path, monkeypatch, name, content):
    monkeypatch.setenv("AUGSBERT_MAX_ROWS", "100" if name != "rows.json" else "20000")
    err = error_of(data.load_unlabeled, write(tmp_path / name, content))
    assert "the limit is 100 rows" in str(err) or "the limit is 20,000 rows" in str(err)
    assert "AUGSBERT_MAX_ROWS" in str(err)
    monkeypatch.setenv("AUGSBERT_MAX_ROWS", "30000")
    assert len(data.load_unlabeled(tmp_path / name)) == 1


def test_cell_and_column_limits_for_csv(tmp_path, monkeypatch):
    path = write(tmp_path / "cells.csv", "sentence,a,b,c\n" + "x,1,2,3\n" * 30)
    monkeypatch.setenv("AUGSBERT_MAX_CELLS", "100")
    err = error_of(data.load_unlabeled, path)
    assert str(err).startswith(f"{path}: has 30 lines × 4 columns = 120 cells; the limit is 100 cells")
    monkeypatch.setenv("AUGSBERT_MAX_CELLS", "120")
    assert data.load_unlabeled(path).sentences == ["x"]
    monkeypatch.setenv("AUGSBERT_MAX_COLUMNS", "3")
    err = error_of(data.load_unlabeled, path)
    assert "the header line has 4 fields" in str(err) and "the limit is 3 columns" in str(err)


def test_cell_limit_for_json_and_parquet(tmp_path, monkeypatch):
    monkeypatch.setenv("AUGSBERT_MAX_CELLS", "100")
    jsonl = write(tmp_path / "cells.jsonl", '{"sentence": "a", "id": 1}\n' * 51)
    assert str(error_of(data.load_unlabeled, jsonl)).startswith(
        f"{jsonl}: has 51 records × 2 distinct keys = 102 cells; the limit is 100 cells"
    )
    parquet = tmp_path / "cells.parquet"
    pq.write_table(pa.table({"sentence": ["a"] * 51, "id": list(range(51))}), parquet)
    assert str(error_of(data.load_unlabeled, parquet)).startswith(
        f"{parquet}: has 51 rows × 2 columns = 102 cells; the limit is 100 cells"
    )
    monkeypatch.setenv("AUGSBERT_MAX_CELLS", "102")
    assert data.load_unlabeled(jsonl).sentences == data.load_unlabeled(parquet).sentences == ["a"]


def test_byte_limit_on_the_file_itself(tmp_path, monkeypatch):
    path = write(tmp_path / "big.txt", "a sentence\n" * 1000)
    monkeypatch.setenv("AUGSBERT_MAX_BYTES", "10000")
    err = error_of(data.load_unlabeled, path)
    assert str(err).startswith(f"{path}: is 11,000 bytes; the limit is 10,000 bytes")


@pytest.mark.parametrize("value", ["many", "0", "-5", "1.5"])
def test_a_bad_limit_variable_is_a_data_error_naming_it(tmp_path, monkeypatch, value):
    monkeypatch.setenv("AUGSBERT_MAX_ROWS", value)
    err = error_of(data.load_unlabeled, write(tmp_path / "ok.txt", "a\n"))
    assert f"AUGSBERT_MAX_ROWS={value!r} is not a positive whole number" in str(err)


def test_limits_are_module_constants():
    assert (data.MAX_ROWS, data.MAX_CELLS, data.MAX_COLUMNS, data.MAX_BYTES) == (5_000_000, 20_000_000, 1_000, 1 << 30)
    for name in ("AUGSBERT_MAX_ROWS", "AUGSBERT_MAX_CELLS", "AUGSBERT_MAX_COLUMNS", "AUGSBERT_MAX_BYTES"):
        assert name in data.__doc__


# -------------------------------------------------------------------------------------------- special files
def _returns_within(func, seconds: float):
    """Run `func` in a daemon thread; (returned, error). Fails the test if it is still blocked after `seconds`."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the loader blocked"
    return outcome.get("value"), outcome.get("error")


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    yield path
    try:  # unblock a reader that should not be there
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


def test_fifo_is_refused_without_blocking(fifo):
    for loader in (data.load_pairs, data.load_unlabeled, data.read_table):
        _, error = _returns_within(lambda loader=loader: loader(fifo), 5)
        assert isinstance(error, DataError)
        assert str(error) == f"{fifo}: is a named pipe (FIFO), not a regular file; save the data to a file first"


def test_cli_validate_on_a_fifo_exits_2_at_once(fifo):
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "augsbert_core", "validate", str(fifo)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT)),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {fifo}: is a named pipe (FIFO)")
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize(
    "device,name", [("/dev/zero", "zero.csv"), ("/dev/null", "null.txt"), ("/dev/urandom", "random.parquet")]
)
def test_character_devices_are_refused(tmp_path, device, name):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    link = tmp_path / name
    link.symlink_to(device)
    _, error = _returns_within(lambda: data.load_unlabeled(link), 5)
    assert isinstance(error, DataError) and str(error) == f"{link}: is a character device, not a regular file"


def test_directory_and_socket_are_refused(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert str(error_of(data.load_pairs, folder)) == f"{folder}: is a directory, not a file"
    sock_path = tmp_path / "s.csv"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(sock_path))
        assert str(error_of(data.load_pairs, sock_path)) == f"{sock_path}: is a socket, not a regular file"


# --------------------------------------------------------------------------------------------------- gzip
GOOD_GZ = gzip.compress(b"sentence1,sentence2,score\na,b,1\nc,d,0\n")


@pytest.mark.parametrize(
    "payload,message",
    [
        (GOOD_GZ[:-8] + bytes([GOOD_GZ[-8] ^ 1]) + GOOD_GZ[-7:], "gzip CRC check failed"),
        (GOOD_GZ[:-4] + bytes([GOOD_GZ[-4] ^ 1]) + GOOD_GZ[-3:], "gzip length check failed"),
        (GOOD_GZ[:-3], "gzip data is truncated (the file ends early)"),
        (GOOD_GZ[:15], "gzip data is truncated (the file ends early)"),
        (
            GOOD_GZ + b"garbage",
            f"has 7 bytes of trailing garbage after the gzip data (from byte offset {len(GOOD_GZ)})",
        ),
        (GOOD_GZ + b"\x1f\x8b\x08", "gzip data is truncated"),
        (b"\x1f\x8b\x07" + GOOD_GZ[3:], "bad gzip header: unknown compression method"),
        (b"plain text, not gzip\n", "is not gzip-compressed (bad gzip header)"),
    ],
)
def test_gzip_errors_say_what_is_wrong(tmp_path, payload, message):
    path = write(tmp_path / "x.csv.gz", payload)
    err = error_of(data.load_pairs, path)
    assert str(err).startswith(f"{path}: {message}"), str(err)
    if not message.startswith("is not gzip"):
        assert "not gzip-compressed" not in str(err)


def test_gzip_multi_member_and_zero_padding_load(tmp_path):
    two = GOOD_GZ + gzip.compress(b"e,f,1\n")
    assert data.load_pairs(write(tmp_path / "two.csv.gz", two)).frame["sentence1"].tolist() == ["a", "c", "e"]
    padded = write(tmp_path / "pad.csv.gz", GOOD_GZ + b"\x00" * 512)
    assert len(data.load_pairs(padded)) == 2


# ---------------------------------------------------------------------------------------- non-text cells
def test_json_objects_lists_booleans_and_numbers_are_not_sentences(tmp_path):
    records = [
        {"sentence1": {"x": 1}, "sentence2": "b", "score": 1},
        {"sentence1": "a", "sentence2": ["l"], "score": 2},
        {"sentence1": True, "sentence2": "c", "score": 3},
        {"sentence1": 42, "sentence2": "d", "score": 4},
        {"sentence1": "fine", "sentence2": "ok", "score": 5},
    ]
    path = write(tmp_path / "types.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    err = error_of(data.load_pairs, path)
    assert problems(err) == {
        (1, "sentence1"): "sentence1 is a JSON object, not text: '{\"x\": 1}'",
        (2, "sentence2"): "sentence2 is a JSON array, not text: '[\"l\"]'",
        (3, "sentence1"): "sentence1 is a JSON boolean, not text: 'true'",
        (4, "sentence1"): "sentence1 is a JSON number, not text: '42'",
    }
    pool_err = error_of(data.load_unlabeled, path)
    assert (1, "sentence1") in problems(pool_err) and (3, "sentence1") in problems(pool_err)


@pytest.mark.parametrize("value", [True, False, {"x": 1}, [1]])
def test_json_non_numbers_are_not_scores(tmp_path, value):
    rows = [
        {"s1": "a", "s2": "b", "score": 1},
        {"s1": "c", "s2": "d", "score": value},
        {"s1": "e", "s2": "f", "score": 0},
    ]
    path = write(tmp_path / "scores.json", json.dumps(rows))
    err = error_of(data.load_pairs, path)
    message = problems(err)[(2, "score")]
    kind = {bool: "a JSON boolean", dict: "a JSON object", list: "a JSON array"}[type(value)]
    assert message.startswith(f"score is {kind}"), message
    assert "not a number" in message


def test_json_booleans_stay_0_1_labels_only_for_classification(tmp_path):
    rows = [{"s1": "a", "s2": "b", "label": True}, {"s1": "c", "s2": "d", "label": False}]
    path = write(tmp_path / "labels.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert data.load_pairs(path).frame["label"].tolist() == [1, 0]
    err = error_of(data.load_pairs, path, task="regression")
    assert problems(err)[(1, "label")].startswith("label is a JSON boolean (true), not a number")


def test_json_number_scores_and_string_scores_still_load(tmp_path):
    rows = [
        {"s1": "a", "s2": "b", "score": 4.5},
        {"s1": "c", "s2": "d", "score": "2"},
        {"s1": "e", "s2": "f", "score": 0},
    ]
    pairs = data.load_pairs(write(tmp_path / "num.jsonl", "".join(json.dumps(r) + "\n" for r in rows)))
    assert pairs.frame["label"].tolist() == [0.9, 0.4, 0.0]


def test_parquet_typed_cells(tmp_path):
    path = tmp_path / "typed.parquet"
    pq.write_table(
        pa.table({"sentence1": [1, 2], "sentence2": ["a", "b"], "score": [True, False], "tags": [[1], [2]]}), path
    )
    err = error_of(data.load_pairs, path)
    assert problems(err) == {
        (1, "sentence1"): "sentence1 is a Parquet int64 number, not text: '1'",
        (2, "sentence1"): "sentence1 is a Parquet int64 number, not text: '2'",
        (1, "score"): "score is a Parquet boolean (true), not a number; a boolean is read as 1/0 only in a label "
        "column of a classification task",
        (2, "score"): "score is a Parquet boolean (false), not a number; a boolean is read as 1/0 only in a label "
        "column of a classification task",
    }
    err = error_of(data.load_unlabeled, path, column_map={"tags": "sentence"})
    assert problems(err)[(1, "tags")] == (
        "sentence is a Parquet list<element: int64> value, not text: '<list<element: int64>>'"
    )


def test_parquet_binary_is_strict_utf8(tmp_path):
    good = tmp_path / "good.parquet"
    pq.write_table(
        pa.table(
            {
                "sentence1": pa.array(["caf\u00e9".encode(), b"b"], pa.binary()),
                "sentence2": pa.array([b"xy", b"zw"], pa.binary(2)),
                "score": [1.0, 0.0],
            }
        ),
        good,
    )
    assert data.load_pairs(good).frame[["sentence1", "sentence2"]].values.tolist() == [["caf\u00e9", "xy"], ["b", "zw"]]
    bad = tmp_path / "bad.parquet"
    pq.write_table(
        pa.table({"sentence1": ["a", "b", "c"], "blob": pa.array([b"ok", None, b"\xff\xfe"], pa.binary())}), bad
    )
    for loader in (data.read_table, data.load_unlabeled):
        err = error_of(loader, bad)
        assert str(err) == (
            f"{bad}, row 3, column 'blob': binary value is not UTF-8 text (byte 0xff at offset 0); "
            "text columns must hold UTF-8"
        )


# ------------------------------------------------------------------------------------ invisible sentences
@pytest.mark.parametrize(
    "cell",
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", " \u200b\u200b ", "\u200b\t\u2060", "\U000e0041"],
)
def test_invisible_only_sentences_are_empty(tmp_path, cell):
    path = write(tmp_path / "inv.csv", f"sentence1,sentence2,score\nfine,ok,1\n{cell},b,2\n")
    err = error_of(data.load_pairs, path)
    assert list(problems(err)) == [(2, "sentence1")]
    assert problems(err)[(2, "sentence1")].startswith("sentence1 is empty (invisible characters only: U+")


def test_every_format_character_counts_as_invisible(tmp_path):
    format_chars = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    path = write(tmp_path / "cf.txt", "first line\n" + "".join(f"{c}\n" for c in format_chars))
    err = error_of(data.load_unlabeled, path)
    assert err.total == len(format_chars) > 100


def test_visible_text_with_invisible_characters_is_kept(tmp_path):
    path = write(tmp_path / "zw.txt", "zero\u200bwidth\n\u200bleading\n")
    assert data.load_unlabeled(path).sentences == ["zero\u200bwidth", "\u200bleading"]


# ------------------------------------------------------------------------------------------- line endings
@pytest.mark.parametrize("name,sep", [("cr.csv", ","), ("cr.tsv", "\t")])
def test_cr_only_and_mixed_line_endings_in_tables(tmp_path, name, sep):
    rows = [["sentence1", "sentence2", "score"], ["a", "b", "1"], ["c", "d", "2"], ["e", "f", "3"], ["g", "h", "4"]]
    breaks = ["\r", "\r\n", "\n", "\r", "\r"]
    text = "".join(sep.join(r) + br for r, br in zip(rows, breaks))
    pairs = data.load_pairs(write(tmp_path / name, text))
    assert pairs.frame["sentence1"].tolist() == ["a", "c", "e", "g"] and pairs.scale == (0.0, 5.0)
    cr_only = write(tmp_path / ("only" + name), "".join(sep.join(r) + "\r" for r in rows))
    assert len(data.load_pairs(cr_only)) == 4


def test_quoted_csv_line_breaks_are_kept_verbatim(tmp_path):
    text = 'sentence1,sentence2,score\r"two\r\nlines",b,1\r"old\rmac",c,2\n"unix\nline",d,3\r\n'
    pairs = data.load_pairs(write(tmp_path / "q.csv", text))
    assert pairs.frame["sentence1"].tolist() == ["two\r\nlines", "old\rmac", "unix\nline"]


def test_cr_only_and_mixed_txt(tmp_path):
    path = write(tmp_path / "mac.txt", "one\rtwo\r\nthree\nfour\r\r")
    assert data.load_unlabeled(path).sentences == ["one", "two", "three", "four"]
    err = error_of(data.load_unlabeled, write(tmp_path / "blank.txt", "one\r\rthree\r"))
    assert str(err) == f"{tmp_path / 'blank.txt'}, row 2, column 'sentence': sentence is empty"


def test_cr_only_jsonl(tmp_path):
    path = write(tmp_path / "mac.jsonl", '{"sentence": "a"}\r{"sentence": "b"}\r')
    assert data.load_unlabeled(path).sentences == ["a", "b"]


# --------------------------------------------------------------------------------------------- TSV quoting
def test_pandas_written_tsv_round_trips(tmp_path):
    frame = pd.DataFrame(
        {
            "sentence1": ['He said "hi"', "tab\there", '"fully quoted"', "plain"],
            "sentence2": ["multi\nline", "a", "b", 'ends with "'],
            "score": [1.0, 2.0, 3.0, 4.0],
        }
    )
    path = tmp_path / "pd.tsv"
    frame.to_csv(path, sep="\t", index=False)
    assert '"He said ""hi"""' in path.read_text()
    pairs = data.load_pairs(path)
    assert pairs.frame["sentence1"].tolist() == frame["sentence1"].tolist()
    assert pairs.frame["sentence2"].tolist() == frame["sentence2"].tolist()


def test_tsv_with_loose_quotes_stays_verbatim(tmp_path):
    """STS-benchmark style: a cell starts with a quote that never closes (or closes mid-cell): no quote processing."""
    text = 'sentence1\tsentence2\tscore\n"no comment.\tb\t1\n"Fairies" - fine.\t"ok"\t2\n'
    pairs = data.load_pairs(write(tmp_path / "loose.tsv", text))
    assert pairs.frame["sentence1"].tolist() == ['"no comment.', '"Fairies" - fine.']
    assert pairs.frame["sentence2"].tolist() == ["b", '"ok"']


def test_a_one_cell_bomb_stops_while_it_decompresses(tmp_path, monkeypatch):
    """Issue 25, class 12: a 917 KB .csv.gz expanding to one 900 MB cell validated OK at 4.7 GB peak memory. The
    cell limit stops its decompression at a line LINE_CELLS cells long; a plain file's long cell names its row."""
    import gzip

    from augsbert_core.io import data, tables

    monkeypatch.setenv("AUGSBERT_MAX_CELL_CHARS", "100000")  # the same rule at a test's scale
    bomb = tmp_path / "bomb.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as handle:
        handle.write(b'sentence1,sentence2,score\n"')
        for _ in range(40):
            handle.write(b"a" * 1_000_000)  # 40 MB in one cell, from a file of a few dozen KB
        handle.write(b'",b,1\n')
    assert bomb.stat().st_size < 100_000
    with pytest.raises(data.DataError, match=r"bomb\.csv\.gz: line 2 runs past .* unbroken; the limit is 100,000"):
        data.load_pairs(bomb)
    long = tmp_path / "long.csv"
    long.write_text("sentence1,sentence2,score\nshort,fine,1\n" + "x" * 100_001 + ",b,2\n")
    with pytest.raises(data.DataError, match=r"long\.csv, row 2, column 'sentence1': a cell has 100,001 characters"):
        data.load_pairs(long)
    assert tables.MAX_CELL_CHARS == 10_000_000  # the default: far above a sentence, far below a bomb
