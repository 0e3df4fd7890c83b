"""How well the Scenario page's rough time holds: estimate ÷ actual for finished runs (issue 26, item 4).

For each run directory given, the estimate is computed now from the run's own config and data (as `augsbert check`
prices it, uncalibrated), and compared with what each stage took (timings.json; the run's startup is not timed, so
the total compares the timed stages only). A ratio below 1 means the run took longer than estimated.

    python bench/estimate_accuracy.py RUN_DIR [RUN_DIR ...] [--json OUT]

Runs made on a busy machine (other trainings sharing the cores) take longer than any estimate for an idle one: say
which were, beside the table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from augsbert_core import ExperimentConfig
from augsbert_core.estimate import by_stage, fmt_duration
from augsbert_core.plan import check_experiment


def compare(run_dir: Path) -> dict:
    """{run, stages: {stage: (estimate, actual)}, estimate, actual, ratio} of one finished run."""
    raw = json.loads((run_dir / "config.json").read_text())
    cfg = ExperimentConfig.from_dict(raw, base_dir=raw.get("base_dir"))
    plan = check_experiment(cfg)
    estimated = by_stage(plan.estimate.parts)
    timings = json.loads((run_dir / "timings.json").read_text())
    stages = {k: (estimated[k], float(timings[k])) for k in estimated if float(timings.get(k) or 0) > 0}
    total_est, total_act = sum(e for e, _ in stages.values()), sum(a for _, a in stages.values())
    return {
        "run": run_dir.name,
        "stages": stages,
        "estimate": total_est,
        "actual": total_act,
        "ratio": total_est / total_act if total_act else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, help="write the rows here too")
    args = parser.parse_args()
    rows = [compare(run) for run in args.runs]
    print("| run | timed stages, estimate | actual | estimate ÷ actual | worst stage (estimate ÷ actual) |")
    print("|---|---:|---:|---:|---|")
    for row in rows:
        worst = min(row["stages"].items(), key=lambda kv: kv[1][0] / kv[1][1])
        print(
            f"| {row['run']} | {fmt_duration(row['estimate'])} | {fmt_duration(row['actual'])} | "
            f"{row['ratio']:.2f} | {worst[0]} {worst[1][0] / worst[1][1]:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
