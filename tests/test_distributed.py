"""Data-parallel training through the CLI: 2 processes (torchrun, gloo on CPU), a few steps."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pandas as pd
import pytest

from .conftest import DEMO, REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("role", ["student", "teacher"])
def test_torchrun_two_processes_train_and_save_one_model(tmp_path, role):
    train = tmp_path / "train.csv"
    pd.read_csv(DEMO / "stsb" / "train.csv").head(32).to_csv(train, index=False)
    out = tmp_path / "model"
    torchrun = shutil.which("torchrun")
    launcher = [torchrun] if torchrun else [sys.executable, "-m", "torch.distributed.run"]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    proc = subprocess.run(
        [
            *launcher,
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(_free_port()),
            "-m",
            "augsbert_core",
            "train",
            "--role",
            role,
            "--train",
            str(train),
            "--out",
            str(out),
            "--max-steps",
            "3",
            "--batch-size",
            "4",
            "--device",
            "cpu",
            "--ddp-backend",
            "gloo",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert "rank 0/2 finished" in log and "rank 1/2 finished" in log
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    assert proc.stdout.count("trained 3 steps") == 1  # only rank 0 prints (and saves)
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["world_size"] == 2 and summary["global_steps"] == 3 and summary["backend"] == "gloo"
    assert (out / "model.safetensors").exists() and (out / "config.json").exists()
    assert not list(tmp_path.glob("**/*.tmp"))
