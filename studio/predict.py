"""Per-pair test predictions of a finished run: `python -m studio.predict RUN_DIR` writes predictions.csv.

Stop-gap until the core writes this file itself (see the app's report): the Compare page needs per-pair
scores for the predicted-vs-gold scatter and for teacher-student disagreement. Runs in its own process
(the app never loads torch), with the core's loaders and scorers only."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def write_predictions(run_dir: Path) -> Path:
    from augsbert_core import ExperimentConfig, data as core_data
    from augsbert_core.evaluation import bi_encoder_scores
    from augsbert_core.models import choose_device, load_bi_encoder, load_cross_encoder
    from augsbert_core.pipeline import load_experiment_data
    from augsbert_core.runs import atomic_write_text
    from augsbert_core.teacher import label_pairs

    cfg = ExperimentConfig.from_dict(__import__("json").loads((run_dir / "config.json").read_text()))
    loaded = load_experiment_data(cfg)
    device = choose_device(cfg.device)
    test = loaded.test
    out = pd.DataFrame({"split": "test", "sentence1": test["sentence1"], "sentence2": test["sentence2"],
                        "gold": test["label"].astype(float)})
    s1, s2 = test["sentence1"].tolist(), test["sentence2"].tolist()
    base = load_bi_encoder(cfg.student.model, device=device, max_seq_length=cfg.student.max_seq_length)
    out["zero_shot"] = bi_encoder_scores(base, s1, s2)
    for name in ("gold_only", "augsbert"):
        path = run_dir / "models" / name
        if path.is_dir():
            out[name] = bi_encoder_scores(load_bi_encoder(str(path), device=device), s1, s2)
    teacher_dir = run_dir / "models" / "teacher"
    if teacher_dir.is_dir():
        out["teacher"] = label_pairs(load_cross_encoder(str(teacher_dir), device=device), test["sentence1"],
                                     test["sentence2"], batch_size=cfg.label_batch_size)
    target = run_dir / "predictions.csv"
    tmp = run_dir / ".predictions.csv.tmp"
    out.to_csv(tmp, index=False)
    tmp.replace(target)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m studio.predict RUN_DIR", file=sys.stderr)
        return 2
    run_dir = Path(argv[0])
    try:
        print(write_predictions(run_dir))
    except Exception as exc:  # noqa: BLE001 - reported to the page through predictions.error
        (run_dir / "predictions.error").write_text(f"{type(exc).__name__}: {exc}", encoding="utf-8")
        raise
    finally:
        (run_dir / ".predictions.pid").unlink(missing_ok=True)
    (run_dir / "predictions.error").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
