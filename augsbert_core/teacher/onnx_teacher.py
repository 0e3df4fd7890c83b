"""A cross-encoder teacher run by onnxruntime on CPU (`label_pairs(backend='onnx')`, `augsbert silver --backend
onnx`): its weights exported once with torch.onnx and scored like `CrossEncoder.predict`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..student.export import torch_to_onnx


class OnnxCrossEncoder:
    """A cross-encoder's weights run by onnxruntime (CPU): `predict(pairs, ...)` like `CrossEncoder.predict`.

    sentence-transformers' own ONNX backend needs `optimum-onnx`, whose releases pin transformers<4.58
    (this project runs transformers 5), so the model is exported here with `torch.onnx.export` and run
    with plain `onnxruntime`. Scores match the torch model to ~1e-7 (see BENCHMARKS.md)."""

    def __init__(self, model, path: str | Path | None = None, threads: int | None = None) -> None:

        import onnxruntime as ort  # noqa: PLC0415 - optional runtime; only the onnx backend needs it

        self.tokenizer = model.tokenizer
        self.max_length = getattr(model, "max_length", None)
        probe = self.tokenizer(["a b"], ["c"], return_tensors="pt")
        self.input_names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in probe]
        if path is None:
            path = Path(tempfile.mkdtemp(prefix="augsbert-onnx-")) / "model.onnx"
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            torch_to_onnx(model.model, probe, path, "logits", {0: "batch"})
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.path = path
        self.device = "cpu"

    def predict(
        self, pairs, batch_size: int = 64, show_progress_bar: bool = False, convert_to_numpy: bool = True, **_ignored
    ) -> np.ndarray:
        pairs = list(pairs)
        order = np.argsort([len(a) + len(b) for a, b in pairs], kind="stable")
        out = np.empty(len(pairs), dtype=np.float32)
        for start in range(0, len(pairs), batch_size):
            idx = order[start : start + batch_size]
            enc = self.tokenizer(
                [pairs[i][0] for i in idx],
                [pairs[i][1] for i in idx],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="np",
            )
            logits = self.session.run(None, {k: enc[k].astype(np.int64) for k in self.input_names})[0]
            out[idx] = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        return out


def onnx_cross_encoder(model) -> OnnxCrossEncoder:
    """The ONNX twin of a one-output (sigmoid) CrossEncoder, exported once per model object.

    Export it again (`OnnxCrossEncoder(model)`) after training the model further."""
    if isinstance(model, OnnxCrossEncoder):
        return model
    twin = getattr(model, "_augsbert_onnx", None)
    if twin is None:
        twin = OnnxCrossEncoder(model)
        object.__setattr__(model, "_augsbert_onnx", twin)
    return twin
