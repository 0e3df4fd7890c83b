"""`augsbert` command line: argument parsing and printing only; the work is in the library.

Exit codes: 0 success, 2 bad input or bad arguments (the message says what and where), 1 anything else."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ..atomic import dumps_json
from ..errors import AugsbertError, Cancelled, GateStopped, failure_of
from .commands import (
    _cmd_app,
    _cmd_cancel,
    _cmd_check,
    _cmd_config_schema,
    _cmd_export,
    _cmd_export_mlflow,
    _cmd_label,
    _cmd_label_errors,
    _cmd_models,
    _cmd_report,
    _cmd_resume,
    _cmd_review,
    _cmd_run,
    _cmd_runs,
    _cmd_sample,
    _cmd_study,
    _cmd_validate,
)
from .common import (
    EXIT_BAD_INPUT,
    EXIT_ERROR,
    _results_table,  # noqa: F401 - re-exported: scripts and tests format results with it
)
from .parser import build_parser
from .scale import _cmd_silver, _cmd_train, _cmd_worker

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, streamlit_args = parser.parse_known_args(argv)
    if streamlit_args and args.command != "app":  # only `app` passes flags on (to streamlit run)
        parser.error(f"unrecognized arguments: {' '.join(streamlit_args)}")
    args.streamlit_args = streamlit_args
    try:
        return _dispatch(args)
    except (Cancelled, GateStopped) as exc:
        print(f"stopped: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (AugsbertError, FileNotFoundError) as exc:  # expected: bad input, settings, a model, a run file
        if getattr(args, "json", False) and args.command in ("check", "validate"):
            problems = [str(p) for p in getattr(exc, "problems", [])] or str(exc).splitlines()
            print(dumps_json({"ok": False, "errors": problems}, indent=2))
        print(f"error: {exc}", file=sys.stderr)
        for problem in getattr(exc, "problems", [])[1:20]:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `augsbert runs | head`: the reader left; no traceback (as the Python docs advise)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the machine's limits: one line naming the path, the run and what to do
        line = _system_failure(exc, args)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT


#: Failure kinds of the machine, not of the code: the CLI explains them in one line instead of a traceback.
SYSTEM_FAILURES = ("disk_full", "permission", "out_of_memory", "hub_unreachable")


def _system_failure(exc: BaseException, args) -> str | None:
    """The one-line error for a full disk, a refused write, memory or an unreachable hub (None for anything else):
    what failed, the run it stopped (and how to resume it) or the file the command was writing, and what to do."""
    failure = failure_of(exc)
    if failure.kind not in SYSTEM_FAILURES:
        return None
    run_id = getattr(exc, "run_id", None)
    if run_id:
        where = f" --runs-dir {args.runs_dir}" if getattr(args, "runs_dir", None) else ""
        resume = f"augsbert resume {run_id}{where}"
        then = {  # a full disk or a refused write: nothing in the config to change, the same run goes on
            "disk_full": f"Free space, then resume the run: {resume}",
            "permission": f"Make the runs folder writable, then resume the run: {resume}",
        }
        return f"run {run_id} failed: {failure.message}. {then.get(failure.kind, failure.hint)}"
    out = getattr(args, "out", None)
    line = failure.message + (f" (writing {out})" if out and failure.kind == "disk_full" else "")
    hint = {"disk_full": "Free space, then run the command again.", "out_of_memory": failure.hint}
    return f"{line}. {hint.get(failure.kind, failure.hint)}".rstrip(". ") + "."


def _dispatch(args) -> int:
    return {
        "run": _cmd_run,
        "check": _cmd_check,
        "config-schema": _cmd_config_schema,
        "validate": _cmd_validate,
        "sample": _cmd_sample,
        "label": _cmd_label,
        "label-errors": _cmd_label_errors,
        "runs": _cmd_runs,
        "cancel": _cmd_cancel,
        "report": _cmd_report,
        "review": _cmd_review,
        "export": _cmd_export,
        "export-mlflow": _cmd_export_mlflow,
        "resume": _cmd_resume,
        "worker": _cmd_worker,
        "train": _cmd_train,
        "silver": _cmd_silver,
        "study": _cmd_study,
        "models": _cmd_models,
        "app": _cmd_app,
    }[args.command](args)
