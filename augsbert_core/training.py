"""Trainer arguments shared by the teacher and the student (one place for precision, seeds and logging)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

from .atomic import dumps_json
from .config import AUTO_EPOCHS, ModelConfig
from .runs import RunFiles
from .runs.progress import Cancelled, ProgressEvent

LONG_EPOCH_STEPS = 2000  # epochs: auto evaluates on dev each epoch, or every this many steps (or fewer) in longer ones
NO_DEV_EPOCHS = 1  # epochs: auto without a dev split to stop on: this many epochs, recorded as such
# epochs: auto: an evaluation counts as a gain when it beats the best so far by more than this (0.1 points x100):
# dev noise (a few hundredths on 300 pairs) neither extends the training nor replaces the kept epoch
MIN_DEV_GAIN = 0.001
EARLY_STOP_STATE = "dev_early_stopping.json"  # beside each checkpoint: the count and history of `epochs: auto`
EARLY_STOP_WEIGHTS = "dev_best_weights.pt"  # and the best weights so far


def early_stopping(cfg: ModelConfig) -> bool:
    """Whether `cfg` asks for early stopping on dev (`epochs: auto`)."""
    return cfg.epochs == AUTO_EPOCHS


def planned_epochs(cfg: ModelConfig, stop_on_dev: bool) -> float:
    """The epochs a trainer is set up for: `epochs`; with `epochs: auto`, `max_epochs` when it stops on dev (the
    learning rate decays over them; early stopping usually ends the training sooner), else NO_DEV_EPOCHS."""
    if not early_stopping(cfg):
        return float(cfg.epochs)
    return float(cfg.max_epochs) if stop_on_dev else float(NO_DEV_EPOCHS)


def dev_eval_steps(steps_per_epoch: int) -> int:
    """Steps between dev evaluations with `epochs: auto`: one epoch, or an even split of a long one into parts of
    at most LONG_EPOCH_STEPS."""
    parts = max(1, math.ceil(steps_per_epoch / LONG_EPOCH_STEPS))
    return max(1, math.ceil(steps_per_epoch / parts))


def mixed_precision(device: str) -> dict[str, bool]:
    """bf16 where the GPU supports it, else fp16, on CUDA; full precision elsewhere."""
    if not device.startswith("cuda"):
        return {}
    import torch  # noqa: PLC0415 - torch takes seconds to import; only training and encoding need it

    return {"bf16": True} if torch.cuda.is_bf16_supported() else {"fp16": True}


def checkpoint_dir(output_dir: str | Path) -> Path:
    """Where the trainer keeps checkpoints for the model saved at `output_dir`."""
    return Path(output_dir).parent / ".checkpoints" / Path(output_dir).name


def drop_checkpoints(output_dir: str | Path) -> None:
    """The model at `output_dir` finished training and is saved: its trainer checkpoints (two to three times the
    model's size, with the optimizer state) are dead weight, since a resumed run skips a finished training."""
    shutil.rmtree(checkpoint_dir(output_dir), ignore_errors=True)


def latest_checkpoint(output_dir: str | Path) -> str | None:
    """The newest complete trainer checkpoint for `output_dir`, if any.

    A checkpoint is complete once its trainer_state.json exists (the trainer writes it last): a job killed
    while saving leaves a half-written folder that must not be resumed from."""
    folder = checkpoint_dir(output_dir)
    if not folder.is_dir():
        return None
    complete = [
        p
        for p in folder.glob("checkpoint-*")
        if (p / "trainer_state.json").is_file() and p.name.split("-")[-1].isdigit()
    ]
    return str(max(complete, key=lambda p: int(p.name.split("-")[-1]))) if complete else None


def trainer_kwargs(
    cfg: ModelConfig,
    output_dir: str | Path,
    seed: int,
    device: str,
    n_examples: int,
    evals: int = 0,
    checkpoints: int = 0,
    report_to: str = "none",
    stop_on_dev: bool = False,
) -> dict:
    """Keyword arguments for SentenceTransformerTrainingArguments / CrossEncoderTrainingArguments.

    Trainer checkpoints go beside the model, in `<models>/.checkpoints/<name>`, not inside the saved model.
    `report_to`: the trainer's integrations ("none", "tensorboard", "wandb"; see tracking.trainer_report_to).
    `stop_on_dev` (epochs: auto with a dev evaluator): up to `max_epochs`, evaluated every `dev_eval_steps`, warmed
    up over `warmup_ratio` of one epoch (not of all `max_epochs`: the best epoch is often an early one)."""
    steps_per_epoch = max(1, math.ceil(n_examples / cfg.batch_size))
    epochs = planned_epochs(cfg, stop_on_dev)
    total = max(1, math.ceil(steps_per_epoch * epochs))
    warmup = int(cfg.warmup_ratio * (steps_per_epoch if stop_on_dev else total))
    kwargs = dict(
        output_dir=str(checkpoint_dir(output_dir)),
        num_train_epochs=epochs,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=max(cfg.batch_size, 32),
        learning_rate=cfg.learning_rate,
        warmup_steps=warmup,
        weight_decay=cfg.weight_decay,
        seed=seed,
        data_seed=seed,
        logging_steps=max(1, total // 50),
        report_to=report_to,
        disable_tqdm=True,
        use_cpu=device == "cpu",
        dataloader_num_workers=0,
        **mixed_precision(device),
    )
    if report_to != "none":  # what tensorboard / wandb call this training: gold_only, teacher, ...
        kwargs.update(run_name=Path(output_dir).name)
    if stop_on_dev:
        kwargs.update(eval_strategy="steps", eval_steps=dev_eval_steps(steps_per_epoch))
    elif evals > 0:
        kwargs.update(eval_strategy="steps", eval_steps=max(1, total // evals))
    if checkpoints > 0:  # the newest checkpoint only: enough to resume a killed job
        kwargs.update(save_strategy="steps", save_steps=max(1, total // checkpoints), save_total_limit=1)
    else:
        kwargs.update(save_strategy="no")
    return kwargs


def tensorboard_dir(checkpoints: str | Path) -> Path:
    """Where TensorBoard logs of the trainer checkpointing to `<run>/models/.checkpoints/<name>` go:
    `<run>/tensorboard/<name>` (one `tensorboard --logdir <run>/tensorboard` shows every training of a run)."""
    folder = Path(checkpoints)
    return folder.parent.parent.parent / RunFiles.TENSORBOARD / folder.name


def quiet(trainer) -> None:
    """Drop the HF PrinterCallback: progress goes through our sink, not dicts printed to stdout. A TensorBoard
    callback (report_to tensorboard) writes to `tensorboard_dir`, not under the checkpoints."""
    from transformers.trainer_callback import PrinterCallback  # noqa: PLC0415 - loads torch; only training and encoding need it

    trainer.remove_callback(PrinterCallback)
    for callback in trainer.callback_handler.callbacks:
        if type(callback).__name__ == "TensorBoardCallback" and getattr(callback, "logging_dir", None) is None:
            callback.logging_dir = str(tensorboard_dir(trainer.args.output_dir))


def run_training(trainer, output_dir: str | Path, *, resume: bool, stage: str, sink) -> None:
    """trainer.train(), continuing from the newest checkpoint when `resume` and one exists."""

    checkpoint = latest_checkpoint(output_dir) if resume else None
    if checkpoint:
        sink(ProgressEvent(stage, message=f"resuming from {Path(checkpoint).name}"))
        for callback in trainer.callback_handler.callbacks:  # the dev early stopping picks up its count and best
            if hasattr(callback, "resume_from"):
                callback.resume_from(checkpoint)
    quiet(trainer)
    trainer.train(resume_from_checkpoint=checkpoint)


def dev_early_stopping(evaluator, patience: int):
    """A callback for `epochs: auto`: after each dev evaluation it keeps a copy of the best weights (by the
    evaluator's primary metric; a gain is more than MIN_DEV_GAIN), stops after `patience` evaluations without a gain,
    and `restore(model)` puts the best weights back at the end. `schedule(state)` says what the training got
    (metrics.json `schedules`).

    The best weights are kept in memory and, with each trainer checkpoint, beside it (EARLY_STOP_STATE and
    EARLY_STOP_WEIGHTS): a training resumed from a checkpoint (`resume_from`) keeps its best epoch, its weights and
    the evaluations it has waited, so patience is not restarted by a crash."""
    from transformers import TrainerCallback  # noqa: PLC0415 - loads torch; only training and encoding need it

    class _DevEarlyStopping(TrainerCallback):
        def __init__(self) -> None:
            self.best: float | None = None
            self.best_step = self.best_epoch = 0
            self.best_state: dict | None = None
            self.waited = 0
            self.history: list[dict] = []
            self.stopped_early = False

        def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
            value = _primary(metrics or {}, evaluator)
            if value is None or model is None:
                return control
            epoch = round(float(state.epoch or 0), 4)
            self.history.append({"epoch": epoch, "step": int(state.global_step), "dev": value})
            if self.best is None or value > self.best + MIN_DEV_GAIN:
                self.best, self.best_step, self.best_epoch, self.waited = value, int(state.global_step), epoch, 0
                self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            else:
                self.waited += 1
                if self.waited >= patience:
                    self.stopped_early = control.should_training_stop = True
            return control

        def on_save(self, args, state, control, **kwargs):
            import torch  # noqa: PLC0415 - loaded already: a trainer is saving

            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if not folder.is_dir():
                return control
            if self.best_state is not None:
                torch.save(self.best_state, folder / EARLY_STOP_WEIGHTS)
            keys = ("best", "best_step", "best_epoch", "waited", "history", "stopped_early")
            (folder / EARLY_STOP_STATE).write_text(dumps_json({k: getattr(self, k) for k in keys}))
            return control

        def resume_from(self, checkpoint: str | Path) -> None:
            """Continue the count of a training resumed from `checkpoint` (nothing to do when it has no state)."""
            folder = Path(checkpoint)
            if not (folder / EARLY_STOP_STATE).is_file():
                return
            import torch  # noqa: PLC0415 - loaded already: a trainer is resuming

            for key, value in json.loads((folder / EARLY_STOP_STATE).read_text()).items():
                setattr(self, key, value)
            if (folder / EARLY_STOP_WEIGHTS).is_file():
                self.best_state = torch.load(folder / EARLY_STOP_WEIGHTS, map_location="cpu", weights_only=True)

        def restore(self, model) -> None:
            """Load the best weights into `model` unless they are the ones it has (the last evaluation was best)."""
            if self.best_state is not None and self.history and self.history[-1]["step"] != self.best_step:
                model.load_state_dict(self.best_state)

        def schedule(self, state) -> dict:
            return {
                "epochs": AUTO_EPOCHS,
                "epochs_run": round(float(state.epoch or 0), 4),
                "best_epoch": self.best_epoch,
                "steps": self.best_step,
                "steps_run": int(state.global_step),
                "stopped_early": self.stopped_early,
                "patience": patience,
                "dev_metric": getattr(evaluator, "primary_metric", None),
                "best_dev": self.best,
                "dev_history": self.history,
            }

    return _DevEarlyStopping()


def _primary(metrics: dict, evaluator) -> float | None:
    """The evaluator's primary metric in a trainer's eval metrics (keys `eval_<name>_<metric>`), if finite."""
    name = getattr(evaluator, "primary_metric", None) or ""
    value = metrics.get(f"eval_{name}")
    if value is None:
        value = next((v for k, v in metrics.items() if name and k.endswith(name)), None)
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def fixed_schedule(state, epochs: float, why: str | None = None) -> dict:
    """metrics.json `schedules` entry of a training with a fixed number of epochs (the whole schedule is kept)."""
    entry = {
        "epochs": epochs,
        "epochs_run": round(float(state.epoch or 0), 4),
        "best_epoch": round(float(state.epoch or 0), 4),
        "steps": int(state.global_step),
        "steps_run": int(state.global_step),
        "stopped_early": False,
    }
    if why:
        entry["why"] = why
    return entry


def seed_list(seed: int, n: int) -> list[int]:
    """The seeds tried by seed optimisation: the configured seed first, then seed+1, ..."""
    return [seed + i for i in range(n)]


def _stop_at(step: int):
    """A callback that saves a checkpoint and stops training once `step` optimizer steps are done."""
    from transformers import TrainerCallback  # noqa: PLC0415 - loads torch; only training and encoding need it

    class _StopAt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step >= step:
                control.should_save = True
                control.should_training_stop = True
            return control

    return _StopAt()


def train_with_seed_search(
    make_trainer,
    output_dir: str | Path,
    *,
    seeds: list[int],
    fraction: float,
    score,
    stage: str,
    sink,
    resume: bool = False,
    cancel=None,
) -> tuple[object, dict]:
    """Seed optimisation (Thakur et al. 2021): train each seed for `fraction` of its schedule, keep the best on
    dev, finish that one from its checkpoint.

    make_trainer(seed, checkpoint_folder) -> a fresh trainer whose model starts from the base weights.
    score(model) -> the dev metric (higher is better). Returns (the finished trainer, a report of the trials)."""

    folder = checkpoint_dir(output_dir)
    record = folder.parent / f"{Path(output_dir).name}.seed_search.json"
    if resume and record.is_file() and latest_checkpoint(output_dir):  # the winner was already being finished
        report = json.loads(record.read_text())
        trainer = make_trainer(report["chosen_seed"], folder)
        run_training(trainer, output_dir, resume=True, stage=stage, sink=sink)
        return trainer, report
    trials = []
    for seed in seeds:
        trial_folder = folder.parent / f"{Path(output_dir).name}.seed-{seed}"
        shutil.rmtree(trial_folder, ignore_errors=True)
        trainer = make_trainer(seed, trial_folder)
        stop_step = max(1, round(trainer_steps(trainer) * fraction))
        trainer.add_callback(_stop_at(stop_step))
        quiet(trainer)
        sink(
            ProgressEvent(
                stage,
                message=f"seed trial {len(trials) + 1}/{len(seeds)}: seed {seed}, "
                f"{stop_step} of {trainer_steps(trainer)} steps",
            )
        )
        trainer.train()
        if cancel is not None and cancel.cancelled:
            raise Cancelled(f"{stage} cancelled during seed trials")
        value = float(score(trainer.model))
        trials.append({"seed": seed, "steps": stop_step, "dev": value, "checkpoint": str(_newest(trial_folder))})
        sink(ProgressEvent(stage, message=f"seed {seed}: dev {100 * value:.2f}"))
        del trainer
    best = max(trials, key=lambda t: t["dev"])
    report = {"trials": trials, "chosen_seed": best["seed"], "fraction": fraction}
    folder.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(dumps_json(report, indent=2))
    sink(ProgressEvent(stage, message=f"finishing seed {best['seed']} (best on dev of {len(trials)} trials)"))
    trainer = make_trainer(best["seed"], folder)
    quiet(trainer)
    trainer.train(resume_from_checkpoint=best["checkpoint"])
    for trial in trials:
        shutil.rmtree(Path(trial["checkpoint"]).parent, ignore_errors=True)
    return trainer, report


def trainer_steps(trainer) -> int:
    """Optimizer steps of the trainer's whole schedule."""
    args = trainer.args
    if args.max_steps and args.max_steps > 0:
        return int(args.max_steps)
    per_epoch = math.ceil(
        len(trainer.train_dataset) / args.per_device_train_batch_size / args.gradient_accumulation_steps
    )
    return max(1, math.ceil(per_epoch * args.num_train_epochs))


def _newest(folder: Path) -> Path:
    found = [p for p in Path(folder).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    if not found:
        raise RuntimeError(f"seed trial left no checkpoint in {folder}")
    return max(found, key=lambda p: int(p.name.split("-")[-1]))


def fit(make_trainer, cfg, output_dir: str | Path, *, seed: int, dev_score, stage: str, sink, resume: bool, cancel):
    """Train once, or (`cfg.seed_trials` > 1 and a `dev_score`) run short trials of several seeds and finish the best
    on dev (`train_with_seed_search`). Returns (the trainer, the seed search's report or None)."""
    if cfg.seed_trials > 1 and dev_score is not None:
        return train_with_seed_search(
            make_trainer,
            output_dir,
            seeds=seed_list(seed, cfg.seed_trials),
            fraction=cfg.seed_trial_fraction,
            score=dev_score,
            stage=stage,
            sink=sink,
            resume=resume,
            cancel=cancel,
        )
    trainer = make_trainer(seed)
    run_training(trainer, output_dir, resume=resume, stage=stage, sink=sink)
    return trainer, None
