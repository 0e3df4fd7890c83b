"""Students that serve on CPU: a trained bi-encoder exported as a sentence-transformers folder (`st`), ONNX (`onnx`)
or ONNX with int8 weights (`onnx-int8`), and `OnnxEncoder`, which encodes with those files and onnxruntime alone.

sentence-transformers' own ONNX export needs `optimum-onnx`, whose releases pin transformers<4.58 while this project
runs transformers 5; so the transformer is exported here with `torch.onnx.export` (as the ONNX teacher backend is,
teacher.OnnxCrossEncoder) into the layout sentence-transformers uses (`onnx/model.onnx`, its output named
`last_hidden_state`), and quantised with onnxruntime's dynamic int8 quantisation, per channel. Where optimum works,
`SentenceTransformer(folder, backend="onnx", model_kwargs={"file_name": "onnx/model.onnx"})` loads the same folder.
Measured by `bench/onnx_students.py` (sentences/s against torch, largest difference, test Spearman)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ..errors import ConfigError, ModelLoadError

FORMATS = ("st", "onnx", "onnx-int8")
ONNX_FILE = {"onnx": "onnx/model.onnx", "onnx-int8": "onnx/model_qint8.onnx"}
POOLINGS = ("mean", "cls", "max")  # what OnnxEncoder pools as sentence-transformers' Pooling does


def onnx_available() -> bool:
    """Whether the `onnx` extra (onnxruntime and onnx) is installed."""
    import importlib.util  # noqa: PLC0415 - a one-off check

    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def check_export(model_dir: str | Path, fmt: str, out: str | Path) -> None:
    """Before any work: the format is known (and its extra installed), the folder is a sentence-transformers
    bi-encoder that the format can hold, and `out` is a new or empty folder. ConfigError naming what is wrong."""
    model_dir, out = Path(model_dir), Path(out)
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    if not (model_dir / "modules.json").is_file():
        raise ConfigError(f"{model_dir}: not a sentence-transformers model folder (no modules.json)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out}: exists and is not an empty folder; name a new folder")
    modules = _modules(model_dir)
    if not any(m.endswith(".Pooling") or m.endswith(".StaticEmbedding") for m in modules):
        raise ConfigError(f"{model_dir}: not a bi-encoder student (no Pooling module: a cross-encoder teacher?)")
    if fmt == "st":
        return
    if not onnx_available():
        raise ConfigError(f"--format {fmt} needs onnxruntime and onnx: pip install 'augsbert-studio[onnx]'")
    if not modules or not modules[0].endswith(".Transformer"):
        kind = modules[0].rsplit(".", 1)[-1] if modules else "no module"
        raise ConfigError(
            f"{model_dir}: a {kind} student has no transformer to export to ONNX (a static student is already a "
            "table lookup, tens of thousands of sentences/s on CPU); export it with --format st"
        )


def export_student(model_dir: str | Path, fmt: str, out: str | Path) -> Path:
    """Write the student in `model_dir` to the new folder `out` in `fmt` (FORMATS): always the sentence-transformers
    folder (tokenizer, pooling, card), plus `onnx/model.onnx` or `onnx/model_qint8.onnx`. Returns `out`."""
    check_export(model_dir, fmt, out)
    out = Path(out)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent if out.parent.is_dir() else None))
    try:
        target = staging / "model"
        shutil.copytree(model_dir, target, ignore=shutil.ignore_patterns("checkpoint-*", ".*"))
        if fmt != "st":
            _export_onnx(target, fmt)
        _note_format(target, fmt)
        out.mkdir(parents=True, exist_ok=True)
        for item in target.iterdir():  # out is new or empty: move the finished files in
            shutil.move(str(item), out / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _modules(folder: Path) -> list[str]:
    try:
        return [m.get("type", "") for m in json.loads((folder / "modules.json").read_text(encoding="utf-8"))]
    except (OSError, ValueError, AttributeError):
        return []


def _export_onnx(folder: Path, fmt: str) -> None:
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415

    model = SentenceTransformer(str(folder), device="cpu")
    encoder = model[0].auto_model
    probe = model[0].tokenizer(["a short sentence", "and a longer second sentence"], padding=True, return_tensors="pt")
    fp32 = folder / ONNX_FILE["onnx"]
    fp32.parent.mkdir(parents=True, exist_ok=True)
    torch_to_onnx(encoder, probe, fp32, "last_hidden_state", {0: "batch", 1: "sequence"})
    if fmt == "onnx-int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: PLC0415 - the onnx extra

        quantize_dynamic(str(fp32), str(folder / ONNX_FILE["onnx-int8"]), weight_type=QuantType.QInt8, per_channel=True)
        fp32.unlink()  # the int8 download carries only its own weights
    for weights in ("model.safetensors", "pytorch_model.bin"):  # an ONNX student is served without torch
        (folder / weights).unlink(missing_ok=True)


def torch_to_onnx(model, probe, path: Path, output: str, output_axes: dict[int, str]) -> list[str]:
    """Export a Hugging Face model's `output` (`last_hidden_state`, `logits`) to ONNX at `path` with torch's
    TorchScript exporter (opset 17; sentence-transformers' own export needs optimum, see the module's note), the
    inputs the tokenizer gave `probe` dynamic in batch and sequence. Returns those input names."""
    import torch  # noqa: PLC0415 - heavy; only an ONNX export needs it

    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in probe]

    class _Output(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            return getattr(self.inner(**dict(zip(names, args))), output)

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            _Output(model.eval()).cpu(),
            tuple(probe[k] for k in names),
            str(path),
            input_names=names,
            output_names=[output],
            opset_version=17,
            dynamo=False,
            dynamic_axes={**{k: {0: "batch", 1: "sequence"} for k in names}, output: output_axes},
        )
    return names


def _note_format(folder: Path, fmt: str) -> None:
    """Put how to load this export at the top of the folder's card (README.md)."""
    card = folder / "README.md"
    text = card.read_text(encoding="utf-8") if card.is_file() else ""
    if fmt == "st":
        how = 'a sentence-transformers folder: `SentenceTransformer("this-folder")`.'
    else:
        file = ONNX_FILE[fmt]
        how = (
            f"ONNX{' with int8 weights (dynamic quantisation, per channel)' if fmt == 'onnx-int8' else ''}, "
            f"`{file}`. With augsbert installed (`pip install 'augsbert-studio[onnx]'`, onnxruntime only, no torch at "
            "inference):\n\n```python\nfrom augsbert_core import OnnxEncoder\n\n"
            'model = OnnxEncoder("this-folder")\n'
            'a, b = model.encode(["A man is playing a guitar.", "A person plays an instrument."])\n'
            "print(float(a @ b))  # cosine similarity (the embeddings are normalised as the student's are)\n```\n\n"
            "Where sentence-transformers' ONNX backend works (optimum-onnx): "
            f'`SentenceTransformer("this-folder", backend="onnx", model_kwargs={{"file_name": "{file}"}})`. '
            "The torch weights are left out (`--format st` exports them)."
        )
    header = f"> **Exported by `augsbert export` as {fmt}**: {how}\n\n"
    front, sep, rest = text.partition("\n---\n") if text.startswith("---\n") else ("", "", text)
    card.write_text(f"{front}{sep}{header}{rest}" if sep else header + text, encoding="utf-8")


class OnnxEncoder:
    """A student exported by `export_student` (`onnx` or `onnx-int8`), run by onnxruntime on CPU: `encode(sentences)`
    gives the embeddings sentence-transformers would (same tokenizer, truncation, pooling and normalisation)."""

    def __init__(self, folder: str | Path, file: str | None = None, threads: int | None = None) -> None:
        import onnxruntime as ort  # noqa: PLC0415 - the onnx extra
        from transformers import AutoTokenizer  # noqa: PLC0415 - heavy

        folder = Path(folder)
        path = folder / file if file else next((folder / f for f in ONNX_FILE.values() if (folder / f).is_file()), None)
        if path is None or not path.is_file():
            raise ModelLoadError(f"{folder}: no ONNX student ({' or '.join(ONNX_FILE.values())}); export one first")
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        settings = _read_json(folder / "sentence_bert_config.json")
        self.max_length = settings.get("max_seq_length") or getattr(self.tokenizer, "model_max_length", 512)
        self.pooling, self.normalize = _pooling(folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.path = path

    def encode(self, sentences, batch_size: int = 32, **_ignored) -> np.ndarray:
        sentences = [str(s) for s in sentences]
        order = np.argsort([-len(s) for s in sentences], kind="stable")  # as sentence-transformers: less padding
        out: np.ndarray | None = None
        for start in range(0, len(sentences), batch_size):
            idx = order[start : start + batch_size]
            enc = self.tokenizer(
                [sentences[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=min(int(self.max_length), 8192),
                return_tensors="np",
            )
            hidden = self.session.run(None, {k: enc[k].astype(np.int64) for k in self.input_names})[0]
            vectors = _pool(hidden, enc["attention_mask"], self.pooling)
            if self.normalize:
                vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
            if out is None:
                out = np.empty((len(sentences), vectors.shape[1]), dtype=np.float32)
            out[idx] = vectors
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def _read_json(path: Path) -> dict:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _pooling(folder: Path) -> tuple[str, bool]:
    """The Pooling module's mode (sentence-transformers 6: `pooling_mode`; older: `pooling_mode_*_tokens` flags)
    and whether a Normalize module follows it."""
    entries = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    pooling = next((e for e in entries if e.get("type", "").endswith(".Pooling")), None)
    if pooling is None:
        raise ModelLoadError(f"{folder}: no Pooling module; OnnxEncoder pools as sentence-transformers does")
    config = _read_json(folder / pooling.get("path", "") / "config.json")
    mode = config.get("pooling_mode")
    if mode is None:
        mode = next(
            (m for m in POOLINGS if config.get(f"pooling_mode_{m}_tokens") or config.get(f"pooling_mode_{m}_token")),
            None,
        )
    if mode not in POOLINGS:
        raise ModelLoadError(f"{folder}: pooling {mode!r} is not one OnnxEncoder runs ({', '.join(POOLINGS)})")
    normalize = any(e.get("type", "").endswith(".Normalize") for e in entries)
    return str(mode), normalize


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    if mode == "cls":
        return hidden[:, 0].astype(np.float32)
    weights = mask[..., None].astype(np.float32)
    if mode == "max":
        return np.where(weights > 0, hidden, -1e9).max(axis=1).astype(np.float32)
    return ((hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)).astype(np.float32)
