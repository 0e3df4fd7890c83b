"""Write the study data under experiments/data/ from ../shared/data (the full STSb and Quora files).

    stsb-1k/   train.csv   the same 1,000 gold pairs as demo/stsb/train.csv (STSb train, shuffled with seed 42)
               dev.csv     the full STSb dev split (1,500 pairs): chooses the ensemble weight, drives the gate
               test.csv    the full STSb test split (1,379 pairs)
               unlabeled-cpu.csv   demo/stsb/unlabeled.csv: 1,000 other train sentences (CPU variant)
               unlabeled-full.csv  every other STSb train sentence (full variant)
               unlabeled-pairs.csv every other STSb train pair, scores dropped (4,749 pairs)
               full-train.csv      all 5,749 STSb train pairs: the full-gold ceiling (train_full_gold)
    stsb-1k-b/ a second, disjoint 1,000-pair gold draw (seed 7) with its own unlabeled-pairs.csv; same dev/test
    quora/     the CPU variant uses demo/quora as it is (2,000 target pairs, 300 dev, 1,000 test);
               full/unlabeled.csv  9,700 BiMPM-dev pairs; full/dev.csv the other 300;
               full/test.csv 10,000 BiMPM-test pairs

Deterministic. Exits with a clear message when ../shared/data is missing (the demo subset alone runs
the CPU study with a 300-pair dev split: pass --demo-only)."""

from __future__ import annotations

import argparse
import csv
import gzip
import random
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "data"


def read_tsv(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--demo-only", action="store_true", help="no ../shared: use the demo's 300-pair dev split")
    args = parser.parse_args()
    out = HERE / "data"
    stsb_out = out / "stsb-1k"
    stsb_out.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "demo" / "stsb" / "train.csv", stsb_out / "train.csv")
    shutil.copy(ROOT / "demo" / "stsb" / "test.csv", stsb_out / "test.csv")
    shutil.copy(ROOT / "demo" / "stsb" / "unlabeled.csv", stsb_out / "unlabeled-cpu.csv")
    stsb_file = args.shared / "stsb" / "stsbenchmark.tsv.gz"
    if args.demo_only or not stsb_file.is_file():
        if not args.demo_only:
            print(f"error: {stsb_file} not found; pass --demo-only to run on the demo subset alone", file=sys.stderr)
            return 2
        shutil.copy(ROOT / "demo" / "stsb" / "dev.csv", stsb_out / "dev.csv")
        print(f"wrote {stsb_out} from the demo subset (dev = 300 pairs)")
        return 0
    rows = read_tsv(stsb_file)
    dev = [[r["sentence1"], r["sentence2"], r["score"]] for r in rows if r["split"] == "dev"]
    write(stsb_out / "dev.csv", ["sentence1", "sentence2", "score"], dev)
    gold = set()
    with open(stsb_out / "train.csv", encoding="utf8") as handle:
        for r in csv.DictReader(handle):
            gold.update((r["sentence1"], r["sentence2"]))
    others = list(
        dict.fromkeys(
            s for r in rows if r["split"] == "train" for s in (r["sentence1"], r["sentence2"]) if s not in gold
        )
    )
    write(stsb_out / "unlabeled-full.csv", ["sentence"], [[s] for s in others])
    train_rows = [r for r in rows if r["split"] == "train"]
    full_train = [[r["sentence1"], r["sentence2"], r["score"]] for r in train_rows]
    write(stsb_out / "full-train.csv", ["sentence1", "sentence2", "score"], full_train)
    gold_pairs = set()
    with open(stsb_out / "train.csv", encoding="utf8") as handle:
        gold_pairs.update((r["sentence1"], r["sentence2"]) for r in csv.DictReader(handle))
    write(
        stsb_out / "unlabeled-pairs.csv",
        ["sentence1", "sentence2"],
        [[r["sentence1"], r["sentence2"]] for r in train_rows if (r["sentence1"], r["sentence2"]) not in gold_pairs],
    )
    print(
        f"wrote {stsb_out}: train 1000, dev {len(dev)}, test 1379, unlabeled cpu 1000 / full {len(others)}, "
        f"full train {len(full_train)}, unlabeled pairs {len(train_rows) - 1000}"
    )
    # a second, disjoint draw of 1,000 gold pairs, so that defaults are not tuned to one sample
    draw_b = out / "stsb-1k-b"
    rng_b = random.Random(7)
    rest = [r for r in train_rows if (r["sentence1"], r["sentence2"]) not in gold_pairs]
    rng_b.shuffle(rest)
    gold_b = rest[:1000]
    chosen = {(r["sentence1"], r["sentence2"]) for r in gold_b}
    write(
        draw_b / "train.csv",
        ["sentence1", "sentence2", "score"],
        [[r["sentence1"], r["sentence2"], r["score"]] for r in gold_b],
    )
    write(
        draw_b / "unlabeled-pairs.csv",
        ["sentence1", "sentence2"],
        [[r["sentence1"], r["sentence2"]] for r in train_rows if (r["sentence1"], r["sentence2"]) not in chosen],
    )
    for name in ("dev.csv", "test.csv", "full-train.csv"):
        shutil.copy(stsb_out / name, draw_b / name)
    print(f"wrote {draw_b}: a second 1,000-pair gold draw (seed 7, disjoint from the first), the same dev/test")

    quora_file = args.shared / "quora" / "quora_bimpm_dev_test.tsv.gz"
    if quora_file.is_file():
        q = read_tsv(quora_file)
        cols = list(q[0].keys())
        s1, s2, lab = (
            next(c for c in cols if c in names)
            for names in (("sentence1", "question1"), ("sentence2", "question2"), ("label", "is_duplicate"))
        )
        rng = random.Random(42)
        qdev = [r for r in q if r.get("split") == "dev"]
        qtest = [r for r in q if r.get("split") == "test"]
        rng.shuffle(qdev)
        full = out / "quora" / "full"
        write(full / "unlabeled.csv", ["question1", "question2"], [[r[s1], r[s2]] for r in qdev[:9700]])
        write(
            full / "dev.csv", ["question1", "question2", "is_duplicate"], [[r[s1], r[s2], r[lab]] for r in qdev[9700:]]
        )
        write(full / "test.csv", ["question1", "question2", "is_duplicate"], [[r[s1], r[s2], r[lab]] for r in qtest])
        print(f"wrote {full}: unlabeled 9700, dev {len(qdev) - 9700}, test {len(qtest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
