"""Before-launch estimates: candidate and silver pair counts and a rough duration for this device.

Speeds measured on the project's 2-core CPU machines with the default all-MiniLM-L6-v2 (batch 16):
student 2.2 training steps/s, teacher 2.3, teacher labeling ~200 pairs/s per order; a CUDA GPU is taken
as ~20x faster. Larger base models are slower: the offline mpnet teacher is taken as ~6x slower (the core's
measurement on CPU); other custom models are assumed to run like the default."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import registry
from .choices import CandidateSourceSpec, model_alias
from .config import AUTO_EPOCHS, AUTO_SILVER, STATIC_STUDENT, ExperimentConfig, ModelConfig, student_kind
from .models import AUTO_TEACHER, default_teacher, warm_start_wanted
from .speed import ONE_PASS_MIN_PAIRS, ONE_PASS_PAIRS, ONE_PASS_REPEATS
from .teacher import warm_start_cap
from .teacher.probe import PROBE_FRACTION, labeler_probes_wanted

WARM_NEIGHBOUR_SHARE = 0.68  # demo: 4,694 candidate pairs + BM25 top-1 neighbours of their sentences = 7,887 pairs

STUDENT_STEPS_PER_S = 2.2
# the static student (a token lookup and a mean, no transformer) trains ~17x faster per step: 34.5 vs 2.0 steps/s,
# batch 16, the demo's data on the same 2 cores (configs/demo-stsb-fast.yaml vs configs/demo-stsb.yaml, 2026-12-06)
STATIC_STEP_SPEEDUP = 17.0
STATIC_ENCODE_SPEEDUP = 50.0
MINILM_LAYERS = 6
TEACHER_STEPS_PER_S = 2.3
LABEL_PAIRS_PER_S = 200.0
ENCODE_SENTENCES_PER_S = 400.0
STARTUP_S = 25.0  # imports, model loading, data validation
PER_TRAINING_S = 10.0  # trainer set-up, saving the model
GPU_SPEEDUP = 20.0
MPNET_SLOWDOWN = 6.0  # all-mpnet-base-v2 vs all-MiniLM-L6-v2 (12 vs 6 layers, 768 vs 384 wide)
# student.epochs auto: the best epoch is typically the 2nd-4th, then `patience` more run before it stops
AUTO_BEST_EPOCH = 3


def student_steps_per_s(student: ModelConfig) -> float:
    """Training steps/s of a student on this machine class: the static student's measured speed-up, a transformer cut
    to N of MiniLM's 6 layers taken as 6/N times faster (attention and the feed-forward dominate a step)."""
    if student.model == STATIC_STUDENT:
        return STUDENT_STEPS_PER_S * STATIC_STEP_SPEEDUP
    if student.layers and student.layers < MINILM_LAYERS:
        return STUDENT_STEPS_PER_S * MINILM_LAYERS / student.layers
    return STUDENT_STEPS_PER_S


def student_encode_per_s(student: ModelConfig) -> float:
    """Sentences/s a student encodes at evaluation: a static table ~50x MiniLM (speed.json: ~30,000 against ~550 on
    2 cores), a cut transformer 6/N times MiniLM's."""
    if student.model == STATIC_STUDENT:
        return ENCODE_SENTENCES_PER_S * STATIC_ENCODE_SPEEDUP
    if student.layers and student.layers < MINILM_LAYERS:
        return ENCODE_SENTENCES_PER_S * MINILM_LAYERS / student.layers
    return ENCODE_SENTENCES_PER_S


def expected_epochs(student: ModelConfig) -> float:
    """Epochs the estimate prices for a student: `epochs`, or for `auto` a typical best epoch plus `patience`."""
    if student.epochs == AUTO_EPOCHS:
        return float(min(student.max_epochs, AUTO_BEST_EPOCH + student.patience))
    return float(student.epochs)


@dataclass
class DataCounts:
    """Sizes of the active dataset that the estimate needs."""

    train_pairs: int = 0
    dev_pairs: int = 0
    test_pairs: int = 0
    source_pairs: int = 0
    unique_sentences: int = 0  # train + unlabeled, unique
    unlabeled_sentences: int = 0
    unlabeled_pairs: int | None = None  # when the unlabeled file has pairs


@dataclass
class Estimate:
    candidates: int  # upper end (also used for the time estimate)
    silver: int
    silver_note: str
    train_pairs: int  # pairs the AugSBERT student trains on
    seconds: float
    parts: dict[str, float] = field(default_factory=dict)
    device_kind: str = "cpu"
    candidates_low: int | None = None  # lower end: neighbour lists overlap (a-b and b-a are one pair)
    silver_low: int | None = None

    def range(self, which: str = "candidates") -> str:
        high = getattr(self, which)
        low = getattr(self, f"{which}_low")
        if low is None or low >= high:
            return f"≈ {high:,}"
        return f"{low:,}–{high:,}"

    @property
    def minutes(self) -> float:
        return self.seconds / 60


def _mixed_candidates(shares: dict[str, float], bound: int, cap: int | None) -> tuple[int, int]:
    """(high, low) candidates of a sampler mix over `bound` = top_k x sentences (sampling.mix_candidates' rule):
    the largest pool, at most `cap`, shrunk until each pool can give its share (pools as for one sampler)."""
    pools = {}
    for name in shares:
        spec = registry.sampler(name)
        n_parts = len(spec.searches)
        high = int(bound * n_parts * (0.75 if n_parts == 2 else 1.0))
        pools[name] = (high, int(high * spec.low_share))
    ends = []
    for end in (0, 1):
        budget = max(pool[end] for pool in pools.values())
        budget = min(budget, int(cap)) if cap else budget
        ends.append(min(budget, *(int(pools[name][end] / share) for name, share in shares.items())))
    return ends[0], min(ends)


def device_kind(description: str) -> str:
    """'gpu' when the device description names CUDA or MPS, else 'cpu'."""
    text = description.lower()
    return "gpu" if "cuda" in text or "mps" in text else "cpu"


def _sampled(cfg: ExperimentConfig, counts: DataCounts, unlabeled: int) -> tuple[int, int, float, str]:
    """(candidates, silver, low end as a share, note) of a run that samples pairs from the pool's sentences."""
    spec, top_k, pool_cap = cfg.sampler_spec, cfg.top_k, cfg.data.max_unlabeled
    sentences = unlabeled
    if cfg.scenario_spec.gold_train:  # the gold sentences join the pool
        sentences = counts.unique_sentences - counts.unlabeled_sentences + unlabeled
    sentences = max(sentences, 0)
    if cfg.sampler_mixed:  # the largest pool split by the shares, less when a pool falls short of its share
        candidates, low = _mixed_candidates(cfg.sampler_shares, top_k * sentences, cfg.silver_cap)
        overlap = low / candidates if candidates else 1.0
    else:
        n_samplers = len(spec.searches)
        candidates = top_k * sentences * n_samplers
        if n_samplers == 2:
            candidates = int(candidates * 0.75)  # the two samplers find many of the same pairs
        # Neighbour lists overlap (a's list has b, b's has a: one pair), so often about half the bound.
        overlap = spec.low_share
    if given_pairs(cfg, counts):  # given+sampled: the file's pairs too
        candidates += min(counts.unlabeled_pairs, int(pool_cap)) if pool_cap else counts.unlabeled_pairs
    silver = int(candidates * spec.expected_kept) if spec.select else candidates
    return candidates, silver, overlap, spec.kept_note


def _teacher_parts(
    cfg: ExperimentConfig, counts: DataCounts, candidates: int, device: str, speed: float, slow: float
) -> dict[str, float]:
    """The teacher's warm start (when the run gives one) and its training or search on dev, in seconds (`speed`: the
    device's, `slow`: the teacher base's slowdown)."""
    teacher, parts = cfg.teacher, {}
    t_bs, t_ep = teacher.batch_size, float(teacher.epochs)
    if cfg.scenario_spec.labels and warm_start_wanted(teacher):  # first the bi-encoder's cosine on the candidates
        top_k = teacher.warm_start_top_k  # + BM25 neighbours of the candidate sentences
        cap = warm_start_cap("cuda" if device == "gpu" else "cpu")
        warm = min(round(candidates * (1 + WARM_NEIGHBOUR_SHARE * top_k)), cap)
        parts["teacher warm start"] = (
            PER_TRAINING_S
            + 2 * warm / ENCODE_SENTENCES_PER_S / speed
            + _steps(warm, t_bs, 1.0) / TEACHER_STEPS_PER_S / speed * slow
        )
    teacher_pairs = counts.source_pairs if cfg.scenario_spec.source_domain else counts.train_pairs
    one_teacher = _steps(2 * teacher_pairs, t_bs, t_ep) / TEACHER_STEPS_PER_S / speed * slow
    parts["teacher"] = PER_TRAINING_S + one_teacher * _seed_factor(teacher)
    search = cfg.teacher_search
    if search.enabled:
        epochs = sorted({float(e) for e in search.epochs}) or [t_ep]
        rates = len(set(search.learning_rates)) or 1
        per_epoch = one_teacher * _seed_factor(teacher) / max(t_ep, 1e-9)
        grid = sum(per_epoch * e + PER_TRAINING_S for e in epochs) * rates
        # the core skips trials that no longer fit the budget, but always runs the first one
        budget = 60.0 * search.budget_minutes
        parts["teacher"] = max(min(grid, budget), per_epoch * epochs[0] + PER_TRAINING_S)
    return parts


def estimate(cfg: ExperimentConfig, counts: DataCounts, device: str = "cpu") -> Estimate:
    """Expected candidates, silver pairs and duration of one run of `cfg` (on the data `counts` describes)."""
    scenario, spec = cfg.scenario_spec, cfg.sampler_spec
    student, teacher = cfg.student, cfg.teacher
    pool_cap = cfg.data.max_unlabeled
    unlabeled = counts.unlabeled_sentences
    if pool_cap:
        unlabeled = min(unlabeled, int(pool_cap))
    overlap = 1.0  # share of the upper bound expected at the low end
    if scenario.augments:
        copies = cfg.augment.copies
        candidates = counts.train_pairs * copies
        silver = candidates
        note = f"{copies} augmented cop{'y' if copies == 1 else 'ies'} of each gold pair"
    elif given_pairs(cfg, counts) and not source(cfg, counts).samples:
        candidates = min(counts.unlabeled_pairs, int(pool_cap)) if pool_cap else counts.unlabeled_pairs
        silver = candidates
        note = "the given unlabeled pairs, labeled by the teacher"
    else:
        candidates, silver, overlap, note = _sampled(cfg, counts, unlabeled)
    silver_low = int(silver * overlap)
    cap = cfg.silver_cap if scenario.labels else None  # augmented copies are not silver: no cap
    if cap and silver > int(cap):
        why = "max silver pairs" if cfg.max_silver != AUTO_SILVER else f"the {student_kind(student)} student's budget"
        silver, note = int(cap), f"capped at {int(cap):,} ({why})"
        silver_low = min(silver_low, silver)
    gold = counts.train_pairs if scenario.gold_train else 0
    student_pairs = gold + silver
    speed = GPU_SPEEDUP if device == "gpu" else 1.0
    s_bs, s_ep, s_rate = student.batch_size, expected_epochs(student), student_steps_per_s(student)
    eval_pairs = counts.dev_pairs + counts.test_pairs
    live_evals = cfg.live_evals
    if student.epochs == AUTO_EPOCHS and counts.dev_pairs:  # a dev evaluation per epoch, for each trained student
        live_evals = max(live_evals, int(s_ep))
    parts: dict[str, float] = {"startup": STARTUP_S}
    encode = student_encode_per_s(student)
    timed = ONE_PASS_PAIRS if (counts.test_pairs or counts.dev_pairs) >= ONE_PASS_MIN_PAIRS else 0
    parts["evaluation"] = (
        4 * 2 * eval_pairs / encode
        + 2 * eval_pairs / LABEL_PAIRS_PER_S
        + live_evals * 3 * 2 * counts.dev_pairs / encode
        + ONE_PASS_REPEATS * timed * (4 * 2 / encode + 2 / LABEL_PAIRS_PER_S)  # every model timed in one pass
    ) / speed
    if scenario.gold_train and cfg.train_gold_only:
        parts["gold-only student"] = PER_TRAINING_S + _steps(gold, s_bs, s_ep) / s_rate / speed * _seed_factor(student)
    # every scenario trains the cross-encoder on gold (scenario 1: a reference row; 2, 3: the labeling teacher)
    slow = MPNET_SLOWDOWN if getattr(model_alias(teacher_base(teacher.model, device)), "large", False) else 1.0
    parts.update(_teacher_parts(cfg, counts, candidates, device, speed, slow))
    if scenario.labels:
        sampled = source(cfg, counts).samples
        if sampled:  # the file's own pairs alone need no sampling
            encode = any(registry.sampler(name).needs_model for name in cfg.sampler_shares)
            parts["sampling"] = (counts.unique_sentences / ENCODE_SENTENCES_PER_S if encode else 2.0) / speed
        labeled = min(candidates, cap * spec.label_factor) if cap else candidates  # capped first
        parts["labeling"] = 2 * labeled / LABEL_PAIRS_PER_S / speed * slow
        if labeler_probes_wanted(cfg) and counts.dev_pairs:  # two short student probes pick the labels
            parts["labeler probes"] = 2 * (
                PER_TRAINING_S + PROBE_FRACTION * _steps(student_pairs, s_bs, s_ep) / s_rate / speed
            )
    else:
        parts["augmentation"] = candidates / 50.0
    parts["AugSBERT student"] = PER_TRAINING_S + _steps(student_pairs, s_bs, s_ep) / s_rate / speed * _seed_factor(
        student
    )
    return Estimate(
        candidates=int(candidates),
        silver=int(silver),
        silver_note=note,
        train_pairs=int(student_pairs),
        seconds=sum(parts.values()),
        parts=parts,
        device_kind=device,
        candidates_low=int(candidates * overlap),
        silver_low=silver_low,
    )


def source(cfg: ExperimentConfig, counts: DataCounts) -> CandidateSourceSpec:
    """Where the run's candidates come from (`ExperimentConfig.candidates_spec` for the counted data)."""
    return cfg.candidates_spec(bool(counts.unlabeled_pairs))


def given_pairs(cfg: ExperimentConfig, counts: DataCounts) -> bool:
    """Whether the run labels the unlabeled file's own pairs (given, or given+sampled: sampled ones added)."""
    return cfg.scenario_spec.labels and bool(counts.unlabeled_pairs) and source(cfg, counts).given


def teacher_base(model: str | None, device: str = "cpu") -> str:
    """The teacher base model a config value stands for: "auto" -> the core's choice for the device kind."""
    if model == AUTO_TEACHER:
        return default_teacher("cuda" if device == "gpu" else "cpu")[0]
    return model or "default"


def _seed_factor(model: ModelConfig) -> float:
    """Training time with seed trials relative to one training: each extra seed runs `fraction` of it."""
    return 1.0 + (model.seed_trials - 1) * model.seed_trial_fraction


def _steps(pairs: int, batch_size: int, epochs: float) -> float:
    return math.ceil(max(pairs, 0) / max(batch_size, 1)) * epochs


#: The stage (timings.json key) each part of an estimate times: what calibration and the run's overall ETA compare.
TIMED_PART = {
    "evaluation": "zero_shot",
    "gold-only student": "gold_only",
    "teacher warm start": "teacher_warm",
    "teacher": "teacher",
    "sampling": "candidates",
    "labeling": "silver",
    "labeler probes": "silver",
    "augmentation": "augment",
    "AugSBERT student": "augsbert",
}
CALIBRATION_RUNS = 20  # the newest finished runs a calibration reads


def by_stage(parts: dict[str, float]) -> dict[str, float]:
    """An estimate's seconds per timed stage ({timings.json key: seconds}); startup is in no stage."""
    out: dict[str, float] = {}
    for part, seconds in parts.items():
        if part in TIMED_PART:
            out[TIMED_PART[part]] = out.get(TIMED_PART[part], 0.0) + float(seconds)
    return out


def estimate_record(est: Estimate) -> dict:
    """What a run keeps of its estimate (estimate.json): total, parts, seconds per stage, device kind."""
    return {"seconds": est.seconds, "parts": est.parts, "by_stage": by_stage(est.parts), "device_kind": est.device_kind}


def actual_over_estimate(estimated: dict, timings: dict) -> float | None:
    """How long a run's finished stages took against their estimate (1.0 = as estimated), or None when no stage
    of the estimate was both finished and measured (reused stages, 0 s, are left out)."""
    stages = estimated.get("by_stage") if isinstance(estimated, dict) else None
    if not isinstance(stages, dict) or not isinstance(timings, dict):
        return None
    pairs = [
        (float(timings[k]), float(v))
        for k, v in stages.items()
        if isinstance(timings.get(k), (int, float)) and timings[k] > 0 and isinstance(v, (int, float)) and v > 0
    ]
    if not pairs:
        return None
    return sum(a for a, _ in pairs) / sum(e for _, e in pairs)


def calibration(runs_root: str | os.PathLike, device_kind: str = "cpu") -> tuple[float, int] | None:
    """(factor, runs): the median of actual / estimated time over this workspace's newest finished runs on this
    kind of device (their estimate.json and timings.json), so the next estimate follows this machine's measured
    speed; None before any such run."""
    root = Path(runs_root)
    if not root.is_dir():
        return None
    ratios = []
    for run_dir in sorted((d for d in root.iterdir() if d.is_dir()), reverse=True):
        estimated, timings = _read(run_dir / "estimate.json"), _read(run_dir / "timings.json")
        if not estimated or estimated.get("device_kind") != device_kind:
            continue
        ratio = actual_over_estimate(estimated, timings)
        if ratio is not None:
            ratios.append(ratio)
        if len(ratios) >= CALIBRATION_RUNS:
            break
    if not ratios:
        return None
    return float(sorted(ratios)[len(ratios) // 2]), len(ratios)


def _read(path: Path) -> dict:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def busy_note(load: float | None = None, cores: int | None = None) -> str | None:
    """A sentence when this machine is busy (its 1-minute load above its cores: other trainings or programs share
    them), so that no one takes the estimate for what a shared machine will do; None when it is not, or unknown."""
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # not POSIX, or no load figure
            return None
    cores = cores or os.cpu_count() or 1
    if load <= cores:
        return None
    return (
        f"This machine is busy: its load is {load:.1f} on {cores} cores, so other programs share them and runs "
        f"take longer than the estimate (about {load / cores:.1f}x as long while it lasts)"
    )


def fmt_duration(seconds: float | None) -> str:
    """'1:05' for 65 s, '1:02:03' above an hour, '–' for None."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
