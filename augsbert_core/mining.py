"""Task positive_pairs: gold of positive pairs only (duplicate questions, anchor/positive) gets its negatives mined.

1. `mine_negatives`: sentence-transformers' `mine_hard_negatives` finds, for each gold anchor, the nearest
   sentences of the pool (unlabeled + gold sentences) by the zero-shot bi-encoder's cosine, skipping the
   nearest `range_min` and any candidate within `relative_margin` of the positive's cosine or above `max_score`
   (filters against false negatives: an unlabeled duplicate is the nearest thing to its anchor). Twice
   `num_negatives` per anchor are mined: the even ranks train the teacher (label 0), the odd ranks are held out.
2. The teacher (a cross-encoder, binary) trains on the positives (1) and the even-rank negatives (0), then
   scores every mined negative and the sampled candidate pairs; `check_silver` keeps a mined negative only when
   the teacher agrees it is one (below the threshold): the second filter against false negatives.
3. `student_pairs`: the AugSBERT student's data. `mnrl` (the default): one (anchor, positive, negative) triplet
   per gold positive and per silver positive, the negative the anchor's hardest teacher-checked negative;
   `online_contrastive` / `contrastive`: gold pairs plus the kept silver pairs with their 0/1 labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import registry
from .config import MiningConfig
from .io.data import SentencePool

MINED_COLUMNS = ("sentence1", "sentence2", "negative", "cosine", "positive_cosine", "rank", "use")
TEACHER_USE, HELD_OUT_USE = "teacher", "held_out"  # `use` of a mined negative: trains the teacher, or held out
MINED_SAMPLER = "mined"  # the `sampler` of mined negatives among the silver candidates


def mining_corpus(gold: pd.DataFrame, pool: SentencePool | None) -> list[str]:
    """The sentences negatives are mined from: the unlabeled pool's and the gold's (both columns), each once."""
    sentences = list(pool.sentences) if pool is not None else []
    return list(dict.fromkeys([*sentences, *gold["sentence1"], *gold["sentence2"]]))


def mine_negatives(
    positives: pd.DataFrame, corpus: Sequence[str], model, cfg: MiningConfig, *, batch_size: int = 64
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Hard negatives for each (sentence1, sentence2) positive, 2 x `cfg.num_negatives` per anchor at most.

    Returns the mined rows (`MINED_COLUMNS`: anchor, its positive, the negative, their cosines, the negative's
    rank among its anchor's and its `use`) and a report: counts and the filters used."""
    from datasets import Dataset  # noqa: PLC0415 - heavy (pyarrow, fsspec); only mining needs it
    from sentence_transformers.util import mine_hard_negatives  # noqa: PLC0415 - loads torch; only mining needs it

    pairs = positives[["sentence1", "sentence2"]].drop_duplicates().reset_index(drop=True)
    per_anchor = 2 * cfg.num_negatives
    filters = {
        "range_min": cfg.range_min,
        "range_max": cfg.range_max,
        "relative_margin": cfg.relative_margin,
        "max_score": cfg.max_score,
        "num_negatives": per_anchor,
        "sampling_strategy": "top",
    }
    mined = mine_hard_negatives(
        Dataset.from_pandas(pairs, preserve_index=False),
        model,
        anchor_column_name="sentence1",
        positive_column_name="sentence2",
        corpus=list(corpus),
        output_format="triplet",
        output_scores=True,
        batch_size=batch_size,
        verbose=False,
        **filters,
    ).to_pandas()
    frame = pd.DataFrame(
        {
            "sentence1": mined["sentence1"].astype(str),
            "sentence2": mined["sentence2"].astype(str),
            "negative": mined["negative"].astype(str),
            "cosine": [float(s[1]) for s in mined["scores"]],
            "positive_cosine": [float(s[0]) for s in mined["scores"]],
        }
    )
    # never the anchor itself nor one of its own positives (either order), whatever the filters
    own = set(zip(pairs["sentence1"], pairs["sentence2"])) | set(zip(pairs["sentence2"], pairs["sentence1"]))
    bad = (frame["negative"] == frame["sentence1"]) | pd.Series(
        [(a, n) in own for a, n in zip(frame["sentence1"], frame["negative"])], index=frame.index, dtype=bool
    )
    frame = frame[~bad]
    # one negative once per anchor (an anchor with two positives gets the same candidates twice)
    frame = frame.drop_duplicates(["sentence1", "negative"]).sort_values(
        ["sentence1", "cosine"], ascending=[True, False], kind="stable"
    )
    frame["rank"] = frame.groupby("sentence1", sort=False).cumcount()
    frame["use"] = np.where(frame["rank"] % 2 == 0, TEACHER_USE, HELD_OUT_USE)
    frame = frame.reset_index(drop=True)[list(MINED_COLUMNS)]
    anchors = pairs["sentence1"].nunique()
    report = {
        "method": "sentence_transformers.util.mine_hard_negatives (zero-shot bi-encoder, cosine)",
        "filters": filters,
        "corpus_sentences": len(set(corpus) | set(pairs["sentence2"])),
        "positives": len(pairs),
        "anchors": int(anchors),
        "mined": int(len(frame)),
        "for_teacher": int((frame["use"] == TEACHER_USE).sum()),
        "held_out": int((frame["use"] == HELD_OUT_USE).sum()),
        "anchors_without_negatives": int(anchors - frame["sentence1"].nunique()),
        "mean_cosine_positive": _mean(frame["positive_cosine"]),
        "mean_cosine_negative": _mean(frame["cosine"]),
    }
    return frame, report


def teacher_pairs(gold: pd.DataFrame, mined: pd.DataFrame) -> pd.DataFrame:
    """The teacher's binary training pairs: the gold pairs as labeled (positives 1; any gold 0 stays 0) and the
    mined negatives meant for it (label 0)."""
    negatives = mined[mined["use"] == TEACHER_USE]
    own = pd.DataFrame({"sentence1": negatives["sentence1"], "sentence2": negatives["negative"], "label": 0})
    frame = pd.concat([gold[["sentence1", "sentence2", "label"]], own], ignore_index=True)
    return frame.astype({"label": int})


def mined_candidates(mined: pd.DataFrame) -> pd.DataFrame:
    """Every mined negative as a candidate pair for the teacher to score (sampler 'mined', `use` kept)."""
    return pd.DataFrame(
        {
            "sentence1": mined["sentence1"].to_numpy(),
            "sentence2": mined["negative"].to_numpy(),
            "sampler": MINED_SAMPLER,
            "use": mined["use"].to_numpy(),
        }
    )


def check_silver(candidates: pd.DataFrame, scores: np.ndarray, threshold: float) -> pd.DataFrame:
    """The candidates with the teacher's `score`, its 0/1 `label` (score >= threshold) and `kept`: a mined negative
    is kept only when the teacher scores it below the threshold (one above is a likely false negative); a sampled
    pair is kept with either label (a silver positive, or a negative for its anchor)."""
    silver = candidates.assign(score=np.asarray(scores, dtype=float))
    silver["label"] = (silver["score"] >= threshold).astype(int)
    mined = silver["sampler"] == MINED_SAMPLER
    silver["kept"] = ~mined | (silver["label"] == 0)
    return silver


def check_report(silver: pd.DataFrame, gold_scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """What the teacher's check did: mined negatives rejected (likely false negatives), silver positives found
    among the sampled pairs, and the gold positives it scores at or above the threshold (its recall on gold)."""
    mined = silver[silver["sampler"] == MINED_SAMPLER]
    sampled = silver[silver["sampler"] != MINED_SAMPLER]
    gold_scores = np.asarray(gold_scores, dtype=float)
    return {
        "threshold": float(threshold),
        "mined_scored": int(len(mined)),
        "mined_rejected_as_false_negatives": int((mined["label"] == 1).sum()),
        "mined_kept": int(mined["kept"].sum()),
        "sampled_scored": int(len(sampled)),
        "silver_positives": int((sampled["label"] == 1).sum()),
        "gold_positives_above_threshold": None if not len(gold_scores) else float((gold_scores >= threshold).mean()),
    }


def student_pairs(
    gold: pd.DataFrame, silver: pd.DataFrame, loss: str, corpus: Sequence[str], seed: int
) -> pd.DataFrame:
    """The AugSBERT student's training rows from the gold and the kept silver.

    `mnrl`: (sentence1, sentence2, negative, label=1) per gold positive and per silver positive; the negative is
    the anchor's kept negative the teacher scores highest (the hardest it still calls a negative), else a random
    corpus sentence. Other losses: the gold pairs and the kept silver pairs, labels 0/1."""
    kept = silver[silver["kept"].astype(bool)]
    if not registry.loss(loss).positives_only:
        frame = pd.concat(
            [gold[["sentence1", "sentence2", "label"]], kept[["sentence1", "sentence2", "label"]]], ignore_index=True
        )
        return frame.astype({"label": int})
    positives = pd.concat(
        [
            gold.loc[gold["label"] == 1, ["sentence1", "sentence2"]].assign(source="gold"),
            kept.loc[kept["label"] == 1, ["sentence1", "sentence2"]].assign(source="silver"),
        ],
        ignore_index=True,
    ).drop_duplicates(["sentence1", "sentence2"])
    negatives = kept[kept["label"] == 0]
    # a negative pair (a, b) is a negative for a and for b
    a, b, s = negatives["sentence1"], negatives["sentence2"], negatives["score"]
    both = pd.concat(
        [pd.DataFrame({"anchor": a, "negative": b, "s": s}), pd.DataFrame({"anchor": b, "negative": a, "s": s})],
        ignore_index=True,
    ).sort_values("s", ascending=False, kind="stable")
    ranked: dict[str, list[str]] = {}
    for anchor, negative in zip(both["anchor"], both["negative"]):
        ranked.setdefault(anchor, []).append(negative)
    rng = np.random.default_rng(seed)
    corpus = list(corpus)
    chosen, source = [], []
    for anchor, positive in zip(positives["sentence1"], positives["sentence2"]):
        hard = next((n for n in ranked.get(anchor, ()) if n != positive), None)
        if hard is None:
            hard = _random_other(corpus, {anchor, positive}, rng)
        chosen.append(hard)
        source.append("teacher-checked" if hard in ranked.get(anchor, ()) else "random")
    return positives.assign(negative=chosen, negative_source=source, label=1).reset_index(drop=True)[
        ["sentence1", "sentence2", "negative", "label", "source", "negative_source"]
    ]


def _random_other(corpus: list[str], avoid: set[str], rng: np.random.Generator) -> str:
    """A random corpus sentence not in `avoid` (the corpus holds more than the two sentences of a pair)."""
    for _ in range(100):
        pick = corpus[int(rng.integers(len(corpus)))]
        if pick not in avoid:
            return pick
    return next(s for s in corpus if s not in avoid)


def _mean(values: pd.Series) -> float | None:
    return None if values.empty else float(values.mean())
