"""Embedding cache: one encode per (model weights, sentences), atomic files, corrupt entries recomputed."""

from __future__ import annotations

import numpy as np
import torch

from augsbert_core.sampling import embed_sentences
from augsbert_core.sampling.embeddings import cache_dir, cache_key, model_fingerprint


class FakeEncoder(torch.nn.Module):
    """A SentenceTransformer stand-in that counts encode calls."""

    def __init__(self, dim: int = 8) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(4, dim)
        self.calls = 0

    def encode(self, sentences, batch_size=32, convert_to_numpy=True, normalize_embeddings=True, **_):
        self.calls += 1
        feats = torch.tensor([[len(s), s.count(" "), sum(map(ord, s)) % 97, 1.0] for s in sentences])
        with torch.no_grad():
            out = self.proj(feats)
        return torch.nn.functional.normalize(out, dim=1).numpy()


def test_second_call_is_a_cache_hit(tmp_path):
    model = FakeEncoder()
    sentences = [f"sentence number {i}" for i in range(50)]
    first = embed_sentences(model, sentences, cache=tmp_path, chunk_size=16)
    assert model.calls == 4
    second = embed_sentences(model, sentences, cache=tmp_path, chunk_size=16)
    assert model.calls == 4  # nothing encoded again
    np.testing.assert_array_equal(first, second)
    assert second.dtype == np.float32 and second.shape == (50, 8)
    assert len(list(tmp_path.glob("*.npy"))) == 1 and not list(tmp_path.glob("*.tmp"))


def test_key_follows_weights_and_data(tmp_path):
    model = FakeEncoder()
    sentences = ["a b", "c d"]
    before = model_fingerprint(model)
    embed_sentences(model, sentences, cache=tmp_path)
    with torch.no_grad():
        model.proj.weight.add_(0.1)  # "trained in place": same object, new weights
    assert model_fingerprint(model) != before
    embed_sentences(model, sentences, cache=tmp_path)
    embed_sentences(model, ["a b", "c d", "e"], cache=tmp_path)
    embed_sentences(model, ["c d", "a b"], cache=tmp_path)  # order matters: rows follow the input
    assert model.calls == 4
    assert cache_key("m", ["ab", "c"]) != cache_key("m", ["a", "bc"])  # boundaries count


def test_corrupt_entry_is_recomputed_and_cache_can_be_off(tmp_path):
    model = FakeEncoder()
    sentences = ["x y", "y z", "z w"]
    embed_sentences(model, sentences, cache=tmp_path)
    (entry,) = tmp_path.glob("*.npy")
    entry.write_bytes(entry.read_bytes()[:40])  # truncated
    again = embed_sentences(model, sentences, cache=tmp_path)
    assert model.calls == 2 and again.shape == (3, 8)
    embed_sentences(model, sentences, cache=False)
    assert model.calls == 3


def test_default_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("AUGSBERT_CACHE", raising=False)
    monkeypatch.setenv("AUGSBERT_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "cache" / "embeddings"
    monkeypatch.setenv("AUGSBERT_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c" / "embeddings"


def test_real_bi_encoder_is_cached(minilm, tmp_path):
    sentences = ["A man is playing a guitar.", "A woman slices an onion.", "Kids play football."]
    a = embed_sentences(minilm, sentences, cache=tmp_path)
    b = embed_sentences(minilm, sentences, cache=tmp_path)
    np.testing.assert_array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
