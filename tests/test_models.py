"""Model resolution: offline default, local directories, hub names (unreachable -> clear error), devices."""

import pytest

from augsbert_core.models import ModelLoadError, choose_device, default_model_path, load_bi_encoder, resolve_model


def test_default_resolves_to_the_packaged_minilm():
    path = default_model_path()
    assert (path / "config.json").is_file()
    assert resolve_model("default") == str(path) and resolve_model(None) == str(path)


def test_local_directory_and_hub_name(tmp_path):
    assert resolve_model(str(tmp_path)) == str(tmp_path.resolve())
    assert resolve_model("cross-encoder/stsb-roberta-base") == "cross-encoder/stsb-roberta-base"
    with pytest.raises(ModelLoadError, match="not found"):
        resolve_model(str(tmp_path / "nope"))
    f = tmp_path / "file.bin"
    f.write_text("x")
    with pytest.raises(ModelLoadError, match="is a file"):
        resolve_model(str(f))


def test_unreachable_hub_name_says_so(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="could not load model 'someone/not-a-model'.*(offline|hub)"):
        load_bi_encoder("someone/not-a-model", device="cpu")


def test_device_choice():
    assert choose_device("cpu") == "cpu"
    assert choose_device() in ("cuda", "mps", "cpu")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ModelLoadError, match="CUDA is not available"):
            choose_device("cuda")
