"""Teacher labeling: symmetric (mean of both orders), each ordered pair scored once, chunked with progress."""

from __future__ import annotations

import numpy as np
import pytest

from augsbert_core.models import load_cross_encoder
from augsbert_core.runs.progress import Cancelled, CancelToken
from augsbert_core.teacher import both_orders, label_pairs


@pytest.fixture(scope="module")
def cross_encoder():
    return load_cross_encoder("default", device="cpu")


class CountingCrossEncoder:
    """The real cross-encoder, recording every pair it is asked to score."""

    def __init__(self, model) -> None:
        self.model, self.seen = model, []

    def predict(self, pairs, **kwargs):
        self.seen.extend(pairs)
        return self.model.predict(pairs, **kwargs)


S1 = [
    "A man is playing a guitar.",
    "A cat sleeps on the sofa.",
    "Stocks fell sharply today.",
    "A man is playing a guitar.",
]
S2 = [
    "Someone plays an instrument.",
    "The dog barks at night.",
    "Markets dropped on Monday.",
    "Someone plays an instrument.",
]


def test_labels_are_the_mean_of_both_orders(cross_encoder):
    forward = cross_encoder.predict(list(zip(S1, S2)), show_progress_bar=False)
    backward = cross_encoder.predict(list(zip(S2, S1)), show_progress_bar=False)
    assert not np.allclose(forward, backward, atol=1e-6), "a fresh head should not be symmetric by accident"
    labels = label_pairs(cross_encoder, S1, S2)
    assert np.allclose(labels, (forward + backward) / 2, atol=1e-5)
    swapped = label_pairs(cross_encoder, S2, S1)
    assert np.allclose(labels, swapped, atol=1e-6)  # symmetric by construction
    one_way = label_pairs(cross_encoder, S1, S2, symmetric=False)
    assert np.allclose(one_way, forward, atol=1e-5)


def test_each_ordered_pair_is_scored_once_in_chunks(cross_encoder):
    spy = CountingCrossEncoder(cross_encoder)
    events = []
    labels = label_pairs(spy, S1, S2, chunk_size=3, sink=events.append)
    assert len(spy.seen) == len(set(spy.seen)) == 6  # 3 distinct pairs x 2 orders; the duplicate reuses scores
    assert labels[0] == labels[3]
    steps = [e.step for e in events if e.step]
    assert steps == [3, 6] and events[-1].total == 6


def test_cancel_between_chunks(cross_encoder):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        label_pairs(cross_encoder, S1, S2, cancel=token)


def test_both_orders_keeps_labels():
    import pandas as pd

    frame = pd.DataFrame({"sentence1": ["a", "b"], "sentence2": ["c", "d"], "label": [0.1, 0.9]})
    doubled = both_orders(frame)
    assert list(doubled["sentence1"]) == ["a", "b", "c", "d"]
    assert list(doubled["label"]) == [0.1, 0.9, 0.1, 0.9]


def test_empty_input(cross_encoder):
    assert label_pairs(cross_encoder, [], []).shape == (0,)


def test_the_onnx_teacher_scores_as_torch(cross_encoder):
    """`backend='onnx'` (augsbert silver --backend onnx): the same weights exported once and run by onnxruntime give
    the torch scores, both orders averaged, duplicates scored once."""
    pytest.importorskip("onnxruntime")
    s1 = [
        "A man is playing a guitar.",
        "A woman slices a tomato.",
        "Dogs run in the park.",
        "A man is playing a guitar.",
    ]
    s2 = ["Someone plays guitar.", "A cat sleeps.", "Two dogs are running outside.", "Someone plays guitar."]
    torch_scores = label_pairs(cross_encoder, s1, s2, backend="torch")
    onnx_scores = label_pairs(cross_encoder, s1, s2, backend="onnx")
    assert np.allclose(onnx_scores, torch_scores, atol=1e-5)
    assert onnx_scores[0] == onnx_scores[3]
    with pytest.raises(ValueError, match="unknown backend"):
        label_pairs(cross_encoder, s1, s2, backend="tflite")
