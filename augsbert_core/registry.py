"""The registries of choices: every sampler and every loss is one typed spec, and the modules ask the spec instead of
comparing names.

A sampler runs one or more base searches and pools their pairs. The indexed searches (`bm25`, `semantic`) are
built into `sampling.BlockSearch` (so an engine can ship their indexes); a search that needs no index is one
function, registered with `register_search` (`random` is one). A sampler that `select`s after labeling (`kde`)
keeps a subset of its labeled pairs; it cannot be part of a mix and needs labels, so `augsbert sample` omits it.

Adding a sampler is one `SamplerSpec` (and, for a new index-free search, its function):

    def same_first_word(sentences, queries, depth, rng):
        ...  # (len(queries), m) partner ids per query, best first
    register_search("first-word", same_first_word)
    register_sampler(SamplerSpec("first-word", ("first-word",), help="Pairs that start with the same word."))

The config, `augsbert check`'s estimate, the CLI, the silver stage and the Scenario page then offer it. A loss is one
`LossSpec` (its role, the tasks it fits, its builder) given to `register_loss`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .distributions import kde_select

#: ranked partner ids for `queries` (one row per query, best first), or (ids, valid mask): the sampler invariants
#: (no self pair, no gold pair, each pair once, at most top_k per query) are applied to them afterwards
SearchFunction = Callable[[Sequence[str], np.ndarray, int, np.random.Generator], Any]
#: after labeling: (silver values, gold labels, seed) -> indices of the labeled pairs to keep
SelectFunction = Callable[[np.ndarray, np.ndarray, int], np.ndarray]

BM25_SEARCH, SEMANTIC_SEARCH = "bm25", "semantic"  # the indexed searches: BM25 weights, faiss over embeddings
INDEXED_SEARCHES: tuple[str, ...] = (BM25_SEARCH, SEMANTIC_SEARCH)  # built into sampling.BlockSearch
MODEL_SEARCHES: frozenset[str] = frozenset({SEMANTIC_SEARCH})  # searches that embed the sentences with the student


@dataclass(frozen=True)
class SamplerSpec:
    """One sampler: its name, the searches it runs, what it means for the estimate, and its help line."""

    name: str
    searches: tuple[str, ...]  # base searches whose pairs it pools, in order
    help: str  # one line for the Scenario page, `augsbert sample --help` and docs
    select: SelectFunction | None = None  # after labeling: keep a subset of the labeled pairs (kde)
    label_factor: int = 1  # candidates labeled per silver pair the budget allows (kde labels twice, keeps half)
    expected_kept: float = 1.0  # estimate: share of the labeled candidates kept
    kept_note: str = "all candidates are kept"  # estimate: how the kept share comes about
    low_share: float = 0.5  # estimate: the low end as a share of top_k x sentences (neighbour lists overlap)

    def __post_init__(self) -> None:
        if not self.name or not self.searches:
            raise ValueError("a sampler needs a name and at least one search")
        unknown = [s for s in self.searches if s not in INDEXED_SEARCHES and s not in _SEARCHES]
        if unknown:
            raise ValueError(f"sampler {self.name!r}: unknown search {unknown[0]!r}; register_search it first")

    @property
    def needs_model(self) -> bool:
        """Whether it embeds the sentences (a bi-encoder must be loaded)."""
        return any(s in MODEL_SEARCHES for s in self.searches)

    @property
    def mixable(self) -> bool:
        """Whether it can hold a share of a mix (a sampler that selects after labeling cannot)."""
        return self.select is None


def _random_search(sentences: Sequence[str], queries: np.ndarray, depth: int, rng: np.random.Generator) -> np.ndarray:
    """Uniformly random partners (more than top_k: some are self or gold pairs, or repeats)."""
    n = len(sentences)
    return rng.integers(0, n, size=(len(queries), min(2 * depth + 8, n)))


def _kde(values: np.ndarray, gold: np.ndarray, seed: int) -> np.ndarray:
    return kde_select(values, gold, seed=seed)


_SEARCHES: dict[str, SearchFunction] = {"random": _random_search}
_SAMPLERS: dict[str, SamplerSpec] = {}


def register_search(name: str, function: SearchFunction) -> None:
    """Add an index-free base search (see `SearchFunction`) that samplers can name."""
    if name in INDEXED_SEARCHES or name in _SEARCHES:
        raise ValueError(f"a search named {name!r} exists already")
    _SEARCHES[name] = function


def register_sampler(spec: SamplerSpec) -> SamplerSpec:
    """Add a sampler: the config accepts its name and every module offers it."""
    if spec.name in _SAMPLERS:
        raise ValueError(f"a sampler named {spec.name!r} exists already")
    if "=" in spec.name or "," in spec.name:
        raise ValueError(f"sampler name {spec.name!r}: '=' and ',' are the mix syntax of --sampler")
    _SAMPLERS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a sampler and, when no other sampler uses it, its index-free search of the same name (tests)."""
    _SAMPLERS.pop(name, None)
    if name in _SEARCHES and name != "random" and not any(name in s.searches for s in _SAMPLERS.values()):
        del _SEARCHES[name]


def sampler(name: str) -> SamplerSpec:
    """The spec of a sampler (ValueError naming the choices when unknown)."""
    try:
        return _SAMPLERS[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; choose from {', '.join(_SAMPLERS)}") from None


def search_function(name: str) -> SearchFunction | None:
    """The function of an index-free search; None for the indexed ones (bm25, semantic)."""
    return _SEARCHES.get(name)


class Names(Sequence[str]):
    """The names of a registry's specs that pass `keep`, read live (a spec registered later is in it).

    A sequence, so `in`, iteration, `', '.join(...)` and indexing work as on the tuples it replaces."""

    def __init__(self, specs: dict[str, Any] | None = None, keep: Callable[[Any], bool] = lambda spec: True) -> None:
        self._specs = _SAMPLERS if specs is None else specs
        self._keep = keep

    def _names(self) -> tuple[str, ...]:
        return tuple(name for name, spec in self._specs.items() if self._keep(spec))

    def __getitem__(self, index):  # noqa: ANN001 - int or slice, as a tuple's
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, Sequence) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._names())

    def __repr__(self) -> str:
        return repr(self._names())


class SpecField(Mapping[str, Any]):
    """{sampler: one field of its spec} (`help`, `searches`), read live, in registration order."""

    def __init__(self, field: str) -> None:
        self._field = field

    def __getitem__(self, name: str) -> Any:
        if name not in _SAMPLERS:
            raise KeyError(name)
        return getattr(_SAMPLERS[name], self._field)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(_SAMPLERS))

    def __len__(self) -> int:
        return len(_SAMPLERS)

    def __or__(self, other: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self) | dict(other)


HELP = SpecField("help")  # {sampler: its help line}
SEARCHES = SpecField("searches")  # {sampler: the base searches it runs}
SAMPLERS = Names()
SENTENCE_SAMPLERS = Names(keep=lambda spec: spec.select is None)  # need no labels: `augsbert sample` offers these
MIX_SAMPLERS = Names(keep=lambda spec: spec.mixable)

for _spec in (
    SamplerSpec(
        "random",
        ("random",),
        "Random sentence pairs: cheap, but almost all are dissimilar (a baseline, rarely useful).",
        low_share=1.0,
    ),
    SamplerSpec(
        "bm25",
        ("bm25",),
        "BM25 lexical neighbours: fast, finds pairs that share words (the paper's best price/quality).",
    ),
    SamplerSpec(
        "semantic",
        ("semantic",),
        "Nearest neighbours by the student's embeddings (faiss): finds paraphrases with other words.",
    ),
    SamplerSpec(
        "bm25+semantic",
        ("bm25", "semantic"),
        "Both pools together: more candidates and a more varied label distribution.",
    ),
    SamplerSpec(
        "kde",
        ("bm25", "semantic"),
        "BM25 + semantic pool, then keeps the subset whose silver label distribution matches gold (KDE).",
        select=_kde,
        label_factor=2,
        expected_kept=0.45,
        kept_note="KDE keeps the subset whose label distribution matches gold (typically 30-60%)",
    ),
):
    register_sampler(_spec)


# --- scenarios ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioSpec:
    """One AugSBERT scenario: what data it reads and what the student's extra pairs are. The config, inputs,
    estimate, gate, the recipe and the pages ask these fields instead of comparing scenario numbers."""

    number: int
    title: str  # the Scenario page's radio label
    help: str  # what the user has, and what the scenario does with it (two lines)
    gold_train: bool  # target gold pairs (data.train): the gold-only baseline, the full-gold ceiling, label errors
    labels: bool  # a cross-encoder teacher labels candidate pairs (silver); else gold is augmented (augments)
    source_domain: bool = False  # the teacher trains on another domain's gold (data.source_train)
    keys: tuple[str, ...] = ()  # config keys only this scenario uses (the Scenario page shows them there only)
    data_roles: tuple[str, ...] = ("train", "dev", "test")  # the data files it reads (config data.<role>)
    required_roles: tuple[str, ...] = ("train", "test")  # those it cannot run without

    @property
    def augments(self) -> bool:
        """The student's extra pairs are word-level augmented copies of gold, which keep its labels (no teacher)."""
        return not self.labels

    @property
    def gold_and_silver(self) -> bool:
        """Target gold and teacher-labeled silver from an unlabeled pool (scenario 2): the one scenario that can mine
        negatives for gold positives (task positive_pairs) and recombine gold sentences when the pool is absent."""
        return self.gold_train and self.labels

    @property
    def student_gold(self) -> bool:
        """Whether the AugSBERT student trains on the target gold too (else on silver alone)."""
        return self.gold_train


_SCENARIOS: dict[int, ScenarioSpec] = {}


def register_scenario(spec: ScenarioSpec) -> ScenarioSpec:
    _SCENARIOS[spec.number] = spec
    return spec


def scenario(number: int) -> ScenarioSpec:
    """The spec of scenario `number` (KeyError for one that does not exist)."""
    return _SCENARIOS[int(number)]


def scenario_of(value: Any) -> ScenarioSpec | None:
    """The spec of a recorded scenario (a run's run.json, a page's draft); None when it names none."""
    return _SCENARIOS.get(value) if isinstance(value, int) and not isinstance(value, bool) else None


def gold_role(scenario: Any) -> str:
    """The data role a run's silver labels are compared with: its train gold, else (scenario 3) the dev split."""
    spec = scenario_of(scenario)
    return "train" if spec is not None and spec.gold_train else "dev"


for _scenario in (
    ScenarioSpec(
        1,
        "Scenario 1 · plenty of gold",
        "You have a large labeled training set already.\n"
        "The student trains on gold plus word-level augmented copies (synonyms or a masked LM).",
        gold_train=True,
        labels=False,
    ),
    ScenarioSpec(
        2,
        "Scenario 2 · little gold, in-domain text",
        "You have a few hundred to a few thousand labeled pairs and unlabeled text of the same domain.\n"
        "A cross-encoder teacher learns from gold, labels sampled pairs, the student learns from gold + silver.",
        gold_train=True,
        labels=True,
        keys=("max_silver", "engine"),
        data_roles=("train", "dev", "test", "unlabeled"),
    ),
    ScenarioSpec(
        3,
        "Scenario 3 · no labels in the target domain",
        "You have labeled pairs of another domain and unlabeled pairs or sentences of yours.\n"
        "A teacher trained on the source domain labels your target pairs; the student learns from that silver.",
        gold_train=False,
        labels=True,
        source_domain=True,
        keys=("max_silver", "threshold", "engine"),
        data_roles=("dev", "test", "unlabeled", "source_train", "source_dev"),
        required_roles=("source_train", "test", "unlabeled"),
    ),
):
    register_scenario(_scenario)
SCENARIO_NUMBERS: tuple[int, ...] = tuple(_SCENARIOS)


# --- losses ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LossSpec:
    """One training loss: the role that trains with it, the tasks whose data it fits, and how it is built.

    The data format drives the loss, as in sentence-transformers: `positives_only` losses train on the positive
    pairs (plus mined negatives when there are), without a label column and without a sentence twice in a batch."""

    name: str
    role: str  # 'student' (a sentence-transformers loss) or 'teacher' (a cross-encoder loss)
    tasks: tuple[str, ...]  # the tasks whose labels it fits
    build: Callable[[Any], Any]  # the model -> the loss object
    help: str
    positives_only: bool = False

    def __post_init__(self) -> None:
        if self.role not in ("student", "teacher"):
            raise ValueError(f"loss {self.name!r}: role must be 'student' or 'teacher', got {self.role!r}")
        if not self.tasks:
            raise ValueError(f"loss {self.name!r}: name the tasks it fits")


_LOSSES: dict[str, LossSpec] = {}
DEFAULT_TEACHER_LOSS = "bce"  # the student's default follows the task: student.default_loss


def register_loss(spec: LossSpec) -> LossSpec:
    """Add a loss: `student.loss` / `teacher.loss` accept its name for the tasks it fits."""
    if spec.name in _LOSSES:
        raise ValueError(f"a loss named {spec.name!r} exists already")
    _LOSSES[spec.name] = spec
    return spec


def unregister_loss(name: str) -> None:
    """Remove a loss (tests)."""
    _LOSSES.pop(name, None)


def loss(name: str) -> LossSpec:
    """The spec of a loss (ValueError naming the choices when unknown)."""
    try:
        return _LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose from {', '.join(_LOSSES)}") from None


def losses_for(role: str, task: str | None = None) -> Names:
    """The names of the `role`'s losses (that fit `task`, when given), read live."""
    return Names(_LOSSES, lambda spec: spec.role == role and (task is None or task in spec.tasks))


LOSSES = Names(_LOSSES)


def _st(name: str, **kwargs: Any) -> Callable[[Any], Any]:
    """A builder of sentence-transformers' loss `name` (imported when built: it loads torch)."""

    def build(model: Any) -> Any:
        from sentence_transformers import losses  # noqa: PLC0415 - loads torch; only training needs it

        return getattr(losses, name)(model, **kwargs)

    return build


def _ce(name: str) -> Callable[[Any], Any]:
    """A builder of sentence-transformers' cross-encoder loss `name`."""

    def build(model: Any) -> Any:
        from sentence_transformers.cross_encoder import losses  # noqa: PLC0415 - loads torch; only training needs it

        return getattr(losses, name)(model)

    return build


_PAIRS_01 = ("classification", "positive_pairs")
for _loss in (
    LossSpec("cosent", "student", ("regression",), _st("CoSENTLoss"), "CoSENT: ranks pairs by their scores."),
    LossSpec("cosine", "student", ("regression",), _st("CosineSimilarityLoss"), "MSE of the cosine to the score."),
    LossSpec("angle", "student", ("regression",), _st("AnglELoss"), "AnglE: CoSENT on angles in complex space."),
    LossSpec(
        "online_contrastive",
        "student",
        _PAIRS_01,
        _st("OnlineContrastiveLoss"),
        "Contrastive loss on the hard positives and negatives of each batch.",
    ),
    LossSpec("contrastive", "student", _PAIRS_01, _st("ContrastiveLoss"), "Pulls positives in, pushes negatives out."),
    LossSpec(
        "mnrl",
        "student",
        _PAIRS_01,
        _st("MultipleNegativesRankingLoss"),
        "In-batch negatives (plus mined hard negatives) for positive pairs.",
        positives_only=True,
    ),
    LossSpec(
        "bce",
        "teacher",
        ("regression", "classification", "positive_pairs"),
        _ce("BinaryCrossEntropyLoss"),
        "Binary cross-entropy on scores in [0, 1] (the default).",
    ),
    LossSpec(
        "mse",
        "teacher",
        ("regression", "classification", "positive_pairs"),
        _ce("MSELoss"),
        "Mean squared error of the score.",
    ),
):
    register_loss(_loss)
