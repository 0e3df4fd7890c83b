"""Load test of the Compare page: N concurrent browser sessions over a store of stored runs.

Seeds `--runs` finished runs in a temporary workspace (as the core writes them: config, events, gate, silver,
metrics, predictions), starts `streamlit run app.py` on a free localhost port with AUGSBERT_HOME pointing at it,
opens `--sessions` browser contexts in one headless Chromium (playwright) and has each load the Compare page
`--loads` times. A load is timed from navigation until the grouped bar chart ("... by model (×100)") is
visible. Prints p50 / p95 / max and the error count (timeouts, Streamlit exceptions, page errors) and exits 1
when any load failed (2 when p95 is over `--target` and `--strict` is given).

    HF_HUB_OFFLINE=1 python bench/load_compare.py                 # 10 sessions x 5 loads over 100 runs
    python bench/load_compare.py --sessions 3 --loads 2 --json out.json

Needs Debian's chromium (CHROMIUM_PATH overrides /usr/bin/chromium) and the `playwright` Python package."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
CHART_TEXT = "Spearman by model (×100)"


# ---------------------------------------------------------------------------------------------- seeding
def seed_runs(home: Path, count: int) -> None:
    """`count` finished scenario-2 runs with every file the Compare page reads (no models' weights)."""
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import pandas as pd

    from augsbert_core.runs import RunStore

    store = RunStore(home / "runs")
    demo = ROOT / "demo" / "stsb"
    rng = np.random.default_rng(0)
    samplers = ["bm25", "semantic", "bm25+semantic", "kde", "random"]
    n = 40
    for i in range(count):
        sampler = samplers[i % len(samplers)]
        name = f"s2-{sampler}-{i:03d}"
        cfg = {
            "name": name,
            "scenario": 2,
            "sampler": sampler,
            "task": "regression",
            "data": {
                "train": str(demo / "train.csv"),
                "dev": str(demo / "dev.csv"),
                "test": str(demo / "test.csv"),
                "scale": [0, 5],
            },
        }
        run = store.create(name, 2, cfg, sampler=sampler, task="regression", status="queued")
        t0 = time.time() - 3600 + 30 * i
        for step in range(1, 11):
            run.event(
                {
                    "stage": "teacher.train",
                    "step": step,
                    "total": 10,
                    "loss": 1.0 / step,
                    "metrics": {},
                    "message": "log",
                    "time": t0 + step,
                }
            )
        run.write_json("gate.json", {"verdict": "ready", "message": "teacher is ready", "split": "dev"})
        silver = pd.DataFrame(
            {
                "sentence1": [f"a dog runs {i}-{k}" for k in range(n)],
                "sentence2": [f"a cat sleeps {i}-{k}" for k in range(n)],
                "sampler": sampler,
                "score": rng.random(n).round(3),
            }
        )
        silver["label"] = silver["score"]
        silver["kept"] = True
        silver.to_csv(run.path("silver.csv"), index=False)
        run.write_json("silver_summary.json", {"candidates": n, "kept": n, "ks_kept_vs_gold": 0.1})
        base = {"zero_shot": 0.70, "gold_only": 0.78, "augsbert": 0.78 + rng.random() * 0.06, "teacher": 0.85}
        run.write_json(
            "metrics.json",
            {
                k: {"dev": {"spearman": v, "pearson": v - 0.01}, "test": {"spearman": v - 0.02, "pearson": v - 0.03}}
                for k, v in base.items()
            },
        )
        pred = pd.DataFrame(
            {"split": "test", "sentence1": silver["sentence1"], "sentence2": silver["sentence2"], "gold": rng.random(n)}
        )
        for k in base:
            pred[k] = (pred["gold"] + rng.normal(0, 0.1, n)).clip(0, 1)
        pred.to_csv(run.path("predictions.csv"), index=False)
        store.update(
            run.id,
            status="finished",
            started_at=t0,
            finished_at=t0 + 300,
            pid=None,
            headline={"augsbert.test.spearman": base["augsbert"] - 0.02},
        )


# ----------------------------------------------------------------------------------------------- server
def start_server(home: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    """The app on a free port (studio/server.py), labelled as a CPU load test unless the environment says otherwise."""
    sys.path.insert(0, str(ROOT))
    from studio import server as app_server

    device = os.environ.get("AUGSBERT_DEVICE_LABEL", "CPU (load test)")
    return app_server.start(home, open(log_path, "wb"), device_label=device)


# ------------------------------------------------------------------------------------------------- load
async def session(browser, url: str, index: int, loads: int, timeout_s: float, times: list, errors: list) -> None:
    context = await browser.new_context(viewport={"width": 1440, "height": 1200})
    page = await context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    try:
        for j in range(loads):
            start = time.perf_counter()
            try:
                response = await page.goto(f"{url}/compare", wait_until="commit", timeout=timeout_s * 1000)
                if response is not None and response.status >= 400:
                    raise RuntimeError(f"HTTP {response.status}")
                await page.get_by_text(CHART_TEXT).first.wait_for(state="visible", timeout=timeout_s * 1000)
                elapsed = time.perf_counter() - start
                failures = await page.locator("[data-testid='stException']").count()
                if failures:
                    raise RuntimeError("the page shows a Streamlit exception")
                if page_errors:
                    raise RuntimeError(f"page error: {page_errors[-1]}")
                times.append(elapsed)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                errors.append(f"session {index} load {j}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    finally:
        await context.close()


async def run_load(url: str, sessions: int, loads: int, timeout_s: float) -> tuple[list[float], list[str], float]:
    from playwright.async_api import async_playwright

    times: list[float] = []
    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # one warm-up load (first script run compiles pages and fills caches), not counted
            await session(browser, url, -1, 1, timeout_s, [], errors)
            start = time.perf_counter()
            await asyncio.gather(*(session(browser, url, i, loads, timeout_s, times, errors) for i in range(sessions)))
            wall = time.perf_counter() - start
        finally:
            await browser.close()
    return times, errors, wall


def run_server_only(home: Path, sessions: int, loads: int) -> tuple[list[float], list[str], float]:
    """The server's share alone: `sessions` threads, each an AppTest session (the same script runner as the
    server, one process, so they contend for the GIL as real sessions do) rendering Compare `loads` times."""
    import threading

    os.environ["AUGSBERT_HOME"] = str(home)
    os.environ.setdefault("AUGSBERT_DEVICE_LABEL", "CPU (load test)")
    os.chdir(ROOT)
    from streamlit.testing.v1 import AppTest

    times: list[float] = []
    errors: list[str] = []

    def one(index: int) -> None:
        try:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
            for j in range(loads):
                start = time.perf_counter()
                if j == 0:
                    at.switch_page("app_pages/compare.py").run()
                else:
                    at.run()
                elapsed = time.perf_counter() - start
                if at.exception or not at.get("plotly_chart"):
                    errors.append(f"session {index} load {j}: {[e.value for e in at.exception] or 'no chart'}")
                else:
                    times.append(elapsed)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"session {index}: {type(exc).__name__}: {exc}")

    one(-1)  # warm-up, not counted
    times.clear()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(sessions)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--loads", type=int, default=5, help="Compare page loads per session")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds one load may take before it counts as an error"
    )
    parser.add_argument("--target", type=float, default=2.0, help="p95 target in seconds")
    parser.add_argument("--strict", action="store_true", help="exit 2 when p95 is over the target")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace and server log")
    parser.add_argument(
        "--server-only",
        action="store_true",
        help="no browser: time the page's script runs alone (concurrent AppTest sessions)",
    )
    args = parser.parse_args(argv)
    if not args.server_only and not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)", file=sys.stderr)
        return 1

    tmp = Path(tempfile.mkdtemp(prefix="augsbert-load-"))
    home = tmp / "workspace"
    server = None
    try:
        t0 = time.perf_counter()
        seed_runs(home, args.runs)
        print(f"seeded {args.runs} runs in {time.perf_counter() - t0:.1f} s ({home})", file=sys.stderr)
        load_before = os.getloadavg()
        if args.server_only:
            times, errors, wall = run_server_only(home, args.sessions, args.loads)
        else:
            server, url = start_server(home, tmp / "streamlit.log")
            load_before = os.getloadavg()
            times, errors, wall = asyncio.run(run_load(url, args.sessions, args.loads, args.timeout))
        load_after = os.getloadavg()
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "mode": "server-only (AppTest)" if args.server_only else "browser (Chromium)",
        "runs": args.runs,
        "sessions": args.sessions,
        "loads_per_session": args.loads,
        "loads_ok": len(times),
        "errors": len(errors),
        "p50_s": round(percentile(times, 0.50), 3),
        "p95_s": round(percentile(times, 0.95), 3),
        "max_s": round(max(times), 3) if times else None,
        "wall_s": round(wall, 1),
        "target_p95_s": args.target,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
    }
    print(
        f"{result['mode']}: Compare page, {args.runs} runs, {args.sessions} sessions x {args.loads} loads: "
        f"p50 {result['p50_s']:.2f} s, p95 {result['p95_s']:.2f} s, max {result['max_s'] or float('nan'):.2f} s, "
        f"{len(errors)} errors (load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
        f"{os.cpu_count()} CPUs)"
    )
    for error in errors[:20]:
        print(f"  error: {error}")
    if args.keep:
        print(f"kept: {tmp}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if errors:
        return 1
    if args.strict and not (result["p95_s"] <= args.target):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
