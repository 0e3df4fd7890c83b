"""Rebuild the demo subset from the full STS benchmark (../shared/data/stsb/stsbenchmark.tsv.gz).

Writes demo/stsb/{train,dev,test}.csv (gold, score 0-5), unlabeled.csv (sentences of other train
pairs, without scores) and unlabeled_pairs.csv (every other train pair, without its score: what a user
with many unlabeled pairs and 1,000 labeled ones has). Deterministic: the same input always gives the same files."""

from __future__ import annotations

import csv
import gzip
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent.parent / "shared" / "data" / "stsb" / "stsbenchmark.tsv.gz"


def main(source: Path = SOURCE) -> None:
    with gzip.open(source, "rt", encoding="utf8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    by_split = {s: [r for r in rows if r["split"] == s] for s in ("train", "dev", "test")}
    rng = random.Random(42)
    train = by_split["train"][:]
    rng.shuffle(train)
    gold, rest = train[:1000], train[1000:]
    dev = by_split["dev"][:]
    rng.shuffle(dev)
    out = HERE / "stsb"
    out.mkdir(exist_ok=True)
    for name, part in (("train", gold), ("dev", dev[:300]), ("test", by_split["test"])):
        with open(out / f"{name}.csv", "w", encoding="utf8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["sentence1", "sentence2", "score"])
            for r in part:
                writer.writerow([r["sentence1"], r["sentence2"], r["score"]])
    gold_sentences = {r[k] for r in gold for k in ("sentence1", "sentence2")}
    unlabeled = []
    for r in rest:
        for k in ("sentence1", "sentence2"):
            s = r[k]
            if s not in gold_sentences and s not in unlabeled:
                unlabeled.append(s)
    with open(out / "unlabeled.csv", "w", encoding="utf8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sentence"])
        for s in unlabeled[:1000]:
            writer.writerow([s])
    with open(out / "unlabeled_pairs.csv", "w", encoding="utf8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sentence1", "sentence2"])
        for r in rest:
            writer.writerow([r["sentence1"], r["sentence2"]])
    print(
        f"wrote {out}: train 1000, dev 300, test {len(by_split['test'])}, unlabeled {min(1000, len(unlabeled))}, "
        f"unlabeled pairs {len(rest)}"
    )


QUORA = HERE.parent.parent / "shared" / "data" / "quora" / "quora_bimpm_dev_test.tsv.gz"


def make_quora(source: Path = QUORA) -> None:
    """demo/quora: 2,000 unlabeled target pairs (BiMPM dev), 300 labeled dev (BiMPM dev, disjoint), 1,000 test."""
    with gzip.open(source, "rt", encoding="utf8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    rng = random.Random(42)
    dev = [r for r in rows if r["split"] == "dev"]
    test = [r for r in rows if r["split"] == "test"]
    rng.shuffle(dev)
    rng.shuffle(test)
    out = HERE / "quora"
    out.mkdir(exist_ok=True)
    parts = {"unlabeled": dev[:2000], "dev": dev[2000:2300], "test": test[:1000]}
    for name, part in parts.items():
        with open(out / f"{name}.csv", "w", encoding="utf8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["question1", "question2"] + ([] if name == "unlabeled" else ["is_duplicate"]))
            for r in part:
                writer.writerow([r["sentence1"], r["sentence2"]] + ([] if name == "unlabeled" else [r["label"]]))
    print(f"wrote {out}: " + ", ".join(f"{k} {len(v)}" for k, v in parts.items()))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
    make_quora()
