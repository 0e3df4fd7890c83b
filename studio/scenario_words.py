"""The Scenario page's option lists and help words: the model choices and the notes on each student kind, the
learning rates and batch sizes offered, and what each warm-start, labeler, tracking, engine, candidates and
ensemble choice does (the page and its model boxes read them as `words`)."""

from __future__ import annotations

from augsbert_core import choices
from augsbert_core import config as core_config
from augsbert_core import registry as core_registry

SAMPLER_HELP = core_registry.HELP  # one line per registered sampler (registry.SamplerSpec.help)

AUGMENTERS: dict[str, str] = {
    "wordnet": "WordNet synonyms (offline).",
    "contextual-substitute": "A masked language model substitutes words (needs a masked-LM model).",
    "contextual-insert": "A masked language model inserts words (needs a masked-LM model).",
}

CUSTOM_MODEL = {"custom": "Hub name or local path"}  # the model box's text field: a hub name or an allowed folder

#: Base models offered by name on the Scenario page: {value: label}, the core's offline aliases for the role
#: (choices.ModelAliasSpec; "mpnet": all-mpnet-base-v2, which `scripts/setup_mpnet.py` installs) and a name box
TEACHER_CHOICES: dict[str, str] = {
    n: choices.MODEL_ALIASES[n].label for n in choices.aliases_for("teacher")
} | CUSTOM_MODEL

OFFLINE_MODELS = tuple(choices.MODEL_ALIASES)  # the offline aliases (and auto): never remote code

STUDENT_CHOICES: dict[str, str] = {
    n: choices.MODEL_ALIASES[n].label for n in choices.aliases_for("student")
} | CUSTOM_MODEL

STATIC_NOTE = (
    "A StaticEmbedding distilled once from the offline MiniLM with model2vec (about 40 s the first time): no "
    "transformer at inference, a token lookup and a mean: ~26,000 sentences/s on 2 CPU cores against ~550 for "
    "MiniLM. The trade: it starts weaker (STSb test 66 zero-shot, 70 trained on 1,000 gold pairs, against MiniLM's "
    "82 and 84), and silver teaches it most: with 20,000 silver pairs it reached 75, above what all 5,749 gold pairs "
    f"give it (docs/results.md). By default it learns from up to {core_config.SILVER_BUDGET['static']:,} silver "
    "pairs (the given ones topped up with sampled ones), at a learning rate far above a transformer's "
    f"({core_config.STATIC_LEARNING_RATE:g}), with batches of {core_config.STATIC_BATCH_SIZE} (an epoch ~4.5x faster "
    "than 16, the same dev score)."
)

LAYER_CHOICES: list[int | None] = [None, 2, 3, 4]  # student.layers offered (the MiniLM base has 6)

LAYERS_NOTE = (
    "A cut transformer keeps the first N layers of the base: the 2-layer MiniLM encodes ~2,100 sentences/s on 2 CPU "
    "cores against ~600 for all 6. The trade, measured on STSb with 1,000 gold pairs (test, seed 42): it starts far "
    "weaker (56 zero-shot, 70 trained on gold, against MiniLM's 82 and 84), and silver teaches it most: with the "
    "4,694 given pairs labeled by the teacher it reached 76.6, 99% of what all 5,749 gold pairs give it "
    f"(docs/results.md). Its learning rate is {core_config.LAYERS_LEARNING_RATE:g} unless set (chosen on dev)."
)

TRANSFORMER_RATES = [1e-5, 2e-5, 3e-5, 5e-5, 1e-4]

STATIC_RATES = [1e-3, 2e-3, 4e-3, 8e-3, 2e-2]

USUAL_RATES = (2e-5, core_config.LAYERS_LEARNING_RATE, core_config.STATIC_LEARNING_RATE)  # each kind's default

BATCH_SIZES = [8, 16, 32, 64, 128]

USUAL_BATCHES = (core_config.ModelConfig().batch_size, core_config.STATIC_BATCH_SIZE)  # each kind's default batch

#: teacher.warm_start, labeler and candidates (the core's keys): value -> what it does.
WARM_START_HELP: dict[str, str] = {
    "auto": "On for a bi-encoder base with a fresh cross-encoder head, like the offline default.",
    "on": "Always warm-start the teacher on the candidate pairs.",
    "off": "Train the teacher on gold only.",
}

WARM_START_ABOUT = (
    "Before gold, the cross-encoder learns the bi-encoder's similarity on the candidate pairs "
    "(no extra labels); auto = on for a bi-encoder base with a fresh head, like the offline default."
)

LABELER_HELP: dict[str, str] = {name: spec.help for name, spec in choices.LABELERS.items()}

TRACKING_HELP: dict[str, str] = {
    "none": "Runs are kept in the workspace only.",
    "mlflow": "Each finished run is also logged as one MLflow run (MLFLOW_TRACKING_URI, else mlflow.db in the "
    "workspace). Needs: pip install -e '.[tracking]'.",
    "tensorboard": "The trainings write TensorBoard logs into the run's folder (tensorboard/). Needs: pip install "
    "tensorboard.",
    "wandb": "The trainings report to Weights & Biases, with your wandb settings. Needs: pip install wandb.",
}

ENGINE_HELP: dict[str, str] = {name: spec.help for name, spec in choices.ENGINES.items()}

CANDIDATES_HELP: dict[str, str] = {name: spec.help for name, spec in choices.CANDIDATE_SOURCES.items()}

ENSEMBLE_HELP: dict[str, str] = {
    "auto": "The cross-encoder and a bi-encoder (the gold-only student; scenario 3: the zero-shot one) are "
    "combined (weight fitted on dev); the ensemble labels the silver pairs only when it beats both "
    "members on dev.",
    "on": "Always label with the ensemble (needs a dev file).",
    "off": "Label with the cross-encoder alone.",
}
