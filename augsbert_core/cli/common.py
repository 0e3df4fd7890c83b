"""What the commands share: exit codes, defaults, progress sinks, output paths and the results table."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

from tqdm import tqdm

from .. import stages
from ..config import SENTENCE_SAMPLERS, ConfigError, ExperimentConfig
from ..errors import Cancelled, GateStopped
from ..evaluation import RECOMMENDED, format_table, recommended_of
from ..io import data
from ..pipeline import run_experiment
from ..runs import RunFiles, RunStore

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


DEFAULTS = ExperimentConfig()  # the config schema's defaults are the commands' defaults


def _parse_map(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    pairs = [item.split("=", 1) for item in text.split(",") if item]
    if any(len(p) != 2 for p in pairs):
        raise ConfigError(f"--column-map must look like filecol=sentence1,other=score; got {text!r}")
    names = [k.strip() for k, _ in pairs]
    twice = sorted({k for k in names if names.count(k) > 1})
    if twice:
        raise ConfigError(f"--column-map {text}: column {twice[0]!r} is mapped twice; map each column once")
    return {k.strip(): v.strip() for k, v in pairs}


def _parse_scale(text: str | None) -> tuple[float, float] | None:
    """`--scale LO,HI`: two finite numbers, LO below HI."""

    if not text:
        return None
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"--scale must be two numbers like 0,5; got {text!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi and math.isfinite(hi - lo)):
        raise ConfigError(f"--scale needs finite numbers with LO below HI and a finite span, like 0,5; got {text!r}")
    return lo, hi


def _run_in_foreground(cfg, store, *, run=None, resume: bool = False, progress: bool = True) -> int:
    """Run (or resume) an experiment with progress on stderr; print run id, metrics table and run dir last."""

    sink = _TqdmSink() if progress else _PrintSink()
    try:
        result = run_experiment(cfg, store=store, run=run, sink=sink, resume=resume)
    except (Cancelled, GateStopped) as exc:
        sink.close()  # before printing, so the message is not drawn over by a bar
        print(f"stopped: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        sink.close()
    print(f"run id: {result.run_id}")
    print(_results_table(result))
    print(result.run_dir)
    return EXIT_OK


def _read_metrics(run_dir) -> dict | None:
    """A run's metrics.json as written (per-model entries and `recommended`), or None when absent or unreadable."""
    try:
        raw = json.loads((Path(run_dir) / RunFiles.METRICS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def _results_table(result) -> str:
    """The metrics table of a finished run, the recommended model first (marked '*'): from its metrics.json, so
    it shows what the run recorded; from the result when the file cannot be read."""

    metrics = _read_metrics(result.run_dir) or {**result.metrics, RECOMMENDED: getattr(result, "recommended", None)}
    return format_table({**metrics, RECOMMENDED: recommended_of(metrics, result.task)}, result.task)


def _sample_choice(text: str) -> str | dict[str, float]:
    """`--sampler` of `augsbert sample`: a sentence sampler's name, or a mix 'bm25=0.7,random=0.3' checked by the
    config's rules for `sampler` (ConfigError naming what is wrong)."""
    text = text.strip()
    if "=" not in text:
        if text not in SENTENCE_SAMPLERS:
            raise ConfigError(
                f"--sampler: {text!r} is not a sampler here; choose one of {', '.join(SENTENCE_SAMPLERS)} or a mix "
                "such as bm25=0.7,random=0.3"
            )
        return text
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, _, share = part.partition("=")
        if name.strip() in mix:
            raise ConfigError(f"--sampler {text}: {name.strip()!r} is named twice; give each sampler one share")
        try:
            mix[name.strip()] = float(share)
        except ValueError:
            raise ConfigError(f"--sampler: {part!r} is not NAME=SHARE, as in bm25=0.7,random=0.3") from None
    try:
        checked = ExperimentConfig.from_dict({"sampler": mix}, rules=False).sampler
    except ConfigError as exc:
        raise ConfigError(f"--sampler {text}: {exc}") from None
    return checked


def _write_data(frame, out: str) -> None:
    """Write pairs meant for augsbert (the next command's input) exactly, as the run's own files are written; when
    some cells would be formulas in a spreadsheet, say so (a table meant for people goes through
    `safe_for_spreadsheet` instead, as label-errors' does)."""
    data.write_table(frame, out)
    risky = data.formula_cells(frame)
    if risky and str(out).lower().endswith((".csv", ".tsv")):
        print(
            f"note: {out}: {risky:,} cells start with = + - or @ and are written exactly (the file is data for "
            "augsbert); a spreadsheet would run them as formulas: import it as text, or write .jsonl/.parquet",
            file=sys.stderr,
        )


def _writable_path(path: str | Path, flag: str = "--out", *, folder: bool = False) -> None:
    """Before any work: `path` can be written as a file (not an existing folder) or, with `folder`, as a folder (not
    an existing file), and its nearest existing parent is a writable folder. ConfigError naming the flag."""
    target = Path(path)
    if folder and target.exists() and not target.is_dir():
        raise ConfigError(f"{flag} {target}: is a file; name a folder for the output")
    if not folder and target.is_dir():
        raise ConfigError(f"{flag} {target}: is a folder; name a file in it")
    parent = target.parent if not folder or not target.exists() else target
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{flag} {target}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {target}: the folder {parent} is not writable")


def _writable(path: str, flag: str = "--out") -> None:
    """Fail before the work when the output cannot be written (ConfigError: exit 2, naming the flag)."""
    try:
        data.check_writable_table(path, flag)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _recommended_of(record) -> str | None:
    """The model a finished run recommends (metrics.json's `recommended`, computed for older runs), else None."""

    metrics = _read_metrics(record.dir) if record.status == "finished" else None
    return recommended_of(metrics, record.task) if metrics else None


def _run_dir(run: str, runs_dir: str | None) -> Path:
    """A RUN argument: a directory as it is, else a run id in the run store (ConfigError naming it when unknown)."""
    if Path(run).is_dir():
        return Path(run)
    try:
        return Path(RunStore(runs_dir).get(run).dir)
    except KeyError as exc:
        raise ConfigError(exc.args[0]) from None


class _TqdmSink:
    """Progress bars on stderr: one bar per stage with a total, messages printed between them."""

    def __init__(self) -> None:
        self.bar = None
        self.stage = None

    def __call__(self, event) -> None:

        if event.total and event.total > 0:
            if self.bar is None or self.stage != event.stage or self.bar.total != event.total:
                self.close()
                known = stages.BY_NAME.get(event.stage)
                self.bar = tqdm(
                    total=event.total,
                    desc=stages.title(event.stage),
                    unit=known.unit if known else "it",
                    file=sys.stderr,
                    dynamic_ncols=True,
                )
                self.stage = event.stage
            self.bar.n = event.step
            if event.loss is not None:
                self.bar.set_postfix(loss=f"{event.loss:.4f}", refresh=False)
            self.bar.refresh()
        elif event.kind == "message":
            self.close()
            print(f"[{event.stage}] {event.message}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _PrintSink(_TqdmSink):
    def __call__(self, event) -> None:
        if event.kind == "message" and not event.total:
            print(f"[{event.stage}] {event.message}", file=sys.stderr)
