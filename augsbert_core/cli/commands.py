"""The `augsbert` commands: each reads its arguments, calls the library and prints; exit codes in common."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path

from .. import choices, registry
from .. import review as review_mod
from ..atomic import atomic_write_text, dumps_json
from ..config import ConfigError, ExperimentConfig, json_schema
from ..evaluation import recommended_of
from ..io import data
from ..io.inputs import load_experiment_data
from ..jobs import RESUMABLE, cancel, device_lock, resume
from ..label_errors import find_label_errors
from ..models import choose_device, load_bi_encoder, load_cross_encoder, offline_models, require_trained_cross_encoder
from ..plan import check_experiment
from ..report import build_report
from ..runs import RunFiles, RunStore
from ..sampling import sample_candidates, sample_mixed_candidates
from ..serve import serve
from ..student import export as export_mod
from ..study import Study, results_markdown
from ..teacher import label_pairs
from ..tracking import log_run
from .common import (
    EXIT_BAD_INPUT,
    EXIT_ERROR,
    EXIT_OK,
    _parse_map,
    _parse_scale,
    _PrintSink,
    _read_metrics,
    _recommended_of,
    _run_dir,
    _run_in_foreground,
    _sample_choice,
    _TqdmSink,
    _writable,
    _writable_path,
    _write_data,
)

#: the run's cross-encoder models (the teacher, its warm start, the ensemble of it): not students to export
CROSS_ENCODER_KEYS = (choices.CROSS_ENCODER.model_key, "teacher_warm", choices.ENSEMBLE.model_key)


def _cmd_app(args) -> int:
    serve(args.port, args.streamlit_args)  # replaces this process; returns only on an error (raised)
    return EXIT_ERROR


def _cmd_run(args) -> int:

    shorthands = [f"engine={args.engine}"] if args.engine else []
    if args.ray_address:
        shorthands.append(f"ray.address={json.dumps(args.ray_address)}")  # a YAML string, whatever it holds
    cfg = ExperimentConfig.from_file(args.config, overrides=shorthands + args.set)
    return _run_in_foreground(cfg, RunStore(args.runs_dir or cfg.runs_dir), progress=not args.no_progress)


def _cmd_check(args) -> int:

    plan = check_experiment(ExperimentConfig.from_file(args.config, overrides=args.set))
    if args.json:
        print(dumps_json(plan.to_dict(), indent=2))
    else:
        print("\n".join(plan.lines()))
    return EXIT_OK


def _cmd_config_schema(args) -> int:

    print(dumps_json(json_schema(), indent=2))
    return EXIT_OK


def _cmd_study(args) -> int:

    study = Study.from_file(args.study, out=args.out)
    _writable_path(study.out, "--out" if args.out else f"{args.study}: out", folder=True)
    if args.summarize:
        index_path = study.out / "index.json"
        results = study.collect(json.loads(index_path.read_text()) if index_path.is_file() else {})
        (study.out / "results.json").write_text(dumps_json(results, indent=2))
        (study.out / "results.md").write_text(results_markdown(results))
    else:
        results = study.run(sink=_PrintSink(), log=lambda line: print(line, file=sys.stderr, flush=True))
    print(results_markdown(results))
    print(study.out / "results.md")
    return EXIT_OK


def _cmd_models(args) -> int:

    models = offline_models()
    if args.json:
        print(dumps_json(models, indent=2))
        return EXIT_OK
    for m in models:
        state = "installed" if m["installed"] else "not installed"
        print(f"{m['name']:<8} {m['model']} - {state}\n         {m['use']}\n         {m['path']}")
    return EXIT_OK


def _cmd_validate(args) -> int:

    column_map = _parse_map(args.column_map)
    if args.kind == "gold":
        loaded = data.load_pairs(args.file, column_map=column_map, task=args.task, scale=_parse_scale(args.scale))
    else:
        loaded = data.load_unlabeled(args.file, column_map=column_map)
    summary = loaded.summary()
    if args.json:
        print(dumps_json({"ok": True, "summary": summary, "warnings": [str(w) for w in loaded.warnings]}, indent=2))
    else:
        print(f"{args.file}: OK ({args.kind})")
        for key, value in summary.items():
            print(f"  {key}: {value}")
        for warning in loaded.warnings[:20]:
            print(f"  warning: {warning}")
    return EXIT_OK


def _cmd_sample(args) -> int:

    _writable(args.out)
    sampler = _sample_choice(args.sampler)
    pool = data.load_unlabeled(args.sentences)
    gold = data.load_pairs(args.gold).frame if args.gold else None
    sentences = (list(gold["sentence1"]) + list(gold["sentence2"]) if gold is not None else []) + pool.sentences
    names = list(sampler) if isinstance(sampler, dict) else [sampler]
    model = load_bi_encoder(args.model) if any(registry.sampler(name).needs_model for name in names) else None
    if args.top_k < 1:
        raise ConfigError("--top-k must be at least 1")
    sink = _TqdmSink()
    try:
        if isinstance(sampler, dict):
            pairs = sample_mixed_candidates(
                sentences, sampler, args.top_k, gold=gold, model=model, seed=args.seed, sink=sink
            )
        else:
            pairs = sample_candidates(sentences, sampler, args.top_k, gold=gold, model=model, seed=args.seed, sink=sink)
    finally:
        sink.close()
    _write_data(pairs, args.out)
    print(f"{len(pairs):,} candidate pairs from {len(dict.fromkeys(sentences)):,} sentences -> {args.out}")
    return EXIT_OK


def _cmd_label(args) -> int:

    _writable(args.out)
    require_trained_cross_encoder(args.teacher)
    pool = data.load_unlabeled(args.pairs)
    if pool.pairs is None:
        raise ConfigError(f"{args.pairs}: needs two sentence columns (sentence1, sentence2) to label pairs")
    teacher = load_cross_encoder(args.teacher, trained=True)
    sink = _TqdmSink()
    try:
        scores = label_pairs(
            teacher,
            pool.pairs["sentence1"],
            pool.pairs["sentence2"],
            batch_size=args.batch_size,
            symmetric=not args.one_order,
            sink=sink,
        )
    finally:
        sink.close()
    out = pool.pairs[["sentence1", "sentence2"]].assign(score=scores)
    if args.threshold is not None:
        out["label"] = (out["score"] >= args.threshold).astype(int)
    _write_data(out, args.out)
    print(f"labeled {len(out):,} pairs (mean score {out['score'].mean():.3f}) -> {args.out}")
    return EXIT_OK


def _cmd_label_errors(args) -> int:

    import tempfile  # noqa: PLC0415 - only this command needs a scratch folder

    cfg = ExperimentConfig.from_file(args.config, overrides=args.set)
    if not cfg.scenario_spec.gold_train:
        raise ConfigError("label-errors ranks gold train pairs: scenarios 1 and 2 (data.train)")
    if args.top < 0:
        raise ConfigError("--top must be 0 or more")
    _writable(args.out)
    data_ = load_experiment_data(cfg)
    device = choose_device(cfg.device)
    sink = _TqdmSink() if not args.no_progress else _PrintSink()
    # one training per device: with a run store (the app's configs name one) wait for the device like a run's worker
    lock = device_lock(RunStore(cfg.runs_dir), device) if cfg.runs_dir else contextlib.nullcontext()
    with lock, tempfile.TemporaryDirectory(prefix="augsbert-label-errors-", dir=args.work_dir) as work:
        try:
            table = find_label_errors(cfg, data_, work, device=device, sink=sink)
        finally:
            sink.close()
    data.write_table(data.safe_for_spreadsheet(table), args.out)  # a table for people: formula cells defused
    if args.top:
        shown = table.head(args.top).assign(
            sentence1=lambda t: t["sentence1"].str.slice(0, 40), sentence2=lambda t: t["sentence2"].str.slice(0, 40)
        )
        print(shown.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print(f"{len(table):,} gold pairs ranked -> {args.out}")
    return EXIT_OK


def _cmd_runs(args) -> int:

    store = RunStore(args.runs_dir)
    if args.rebuild_index:
        rows = store.rebuild_index()
        print(f"rebuilt {store.db_path}: {rows} run(s)", file=sys.stderr)
    records = store.list()  # read-only: runs whose process died show as interrupted without writing
    for line in ([store.note] if store.note else []) + store.problems:
        print(f"note: {line}", file=sys.stderr)
    recommended = {r.id: _recommended_of(r) for r in records}
    if args.json:
        print(dumps_json([{**r.to_dict(), "recommended": recommended[r.id]} for r in records], indent=2))
        return EXIT_OK
    if not records:
        print(f"no runs in {store.root}")
        return EXIT_OK

    width = max([16, *(len(str(r.sampler)) for r in records)])  # a mix's label is longer than a sampler's name
    print(f"{'id':<48} {'scenario':>8} {'sampler':<{width}} {'status':<11} {'created':<19} headline")
    for r in records:
        head = ", ".join(f"{k}={100 * v:.1f}" for k, v in r.headline.items() if isinstance(v, (int, float)))
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created_at))
        named = f"; recommended={recommended[r.id]}" if recommended[r.id] else ""  # appended: columns keep their place
        print(f"{r.id:<48} {r.scenario:>8} {str(r.sampler):<{width}} {r.status:<11} {created:<19} {head}{named}")
    return EXIT_OK


def _cmd_cancel(args) -> int:

    store = RunStore(args.runs_dir)
    try:
        cancel(store, args.run_id)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"cancel requested for {args.run_id}")
    return EXIT_OK


def _cmd_report(args) -> int:
    """A RUN that is a directory is used as it is; else it is a run id in the run store."""

    _writable_path(args.out)
    dirs = [_run_dir(run, args.runs_dir) for run in args.runs]
    atomic_write_text(Path(args.out), build_report(dirs, title=args.title))
    print(args.out)
    return EXIT_OK


def _cmd_review(args) -> int:
    if args.review_command == "export":
        written = review_mod.export_review(_run_dir(args.run, args.runs_dir), args.format, args.out)
        print("\n".join(map(str, written)))
        return EXIT_OK
    summary = review_mod.import_review(args.file, _run_dir(args.run, args.runs_dir))
    print(
        f"{summary['format']} review read: {summary['reviewed']:,} pairs reviewed, {summary['wrong']:,} marked wrong, "
        f"{summary['corrected']:,} scores corrected (review.json)"
    )
    return EXIT_OK


def _cmd_export(args) -> int:
    run_dir = _run_dir(args.run, args.runs_dir)
    key = args.model or recommended_of(_read_metrics(run_dir) or {}, None) or "augsbert"
    folder = run_dir / RunFiles.MODELS / key
    if key in CROSS_ENCODER_KEYS:
        raise ConfigError(f"--model {key}: the teacher is a cross-encoder; export a student (augsbert, gold_only, ...)")
    if not folder.is_dir():
        found = sorted(p.name for p in (run_dir / RunFiles.MODELS).glob("*") if p.is_dir() and "teacher" not in p.name)
        raise ConfigError(
            f"{run_dir.name}: no {key!r} student in {folder.parent} (found: {', '.join(found) or 'none'})"
        )
    export_mod.check_export(folder, args.format, args.out)  # before the work: format, extra, the --out folder
    out = export_mod.export_student(folder, args.format, args.out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{key} of {run_dir.name} as {args.format} -> {out} ({size / 1e6:,.1f} MB)")
    return EXIT_OK


def _cmd_export_mlflow(args) -> int:
    """RUN as for `report`: a directory as it is, else a run id in the run store. Prints one line per run."""

    dirs = [_run_dir(run, args.runs_dir) for run in args.runs]
    for run_dir in dirs:
        tracked = log_run(
            run_dir, tracking_uri=args.tracking_uri, experiment=args.experiment, log_model=args.log_model or None
        )
        print(
            f"{run_dir.name}: {'logged as' if tracked.created else 'updated'} MLflow run {tracked.run_id} "
            f"(experiment {tracked.experiment_id})"
        )
    return EXIT_OK


def _cmd_resume(args) -> int:

    store = RunStore(args.runs_dir)
    store.reconcile()
    try:
        record = store.get(args.run_id)
    except KeyError as exc:
        raise ConfigError(exc.args[0]) from None
    if record.status not in RESUMABLE:
        raise ConfigError(f"run {args.run_id} is {record.status}; only {', '.join(RESUMABLE)} runs can be resumed")
    if args.background:
        resume(store, args.run_id)
        print(f"resuming {args.run_id} in the background")
        return EXIT_OK
    run = store.run(args.run_id)
    cfg = ExperimentConfig.from_dict(run.read_json(RunFiles.CONFIG))
    return _run_in_foreground(cfg, store, run=run, resume=True)
