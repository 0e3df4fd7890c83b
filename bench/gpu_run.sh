#!/usr/bin/env bash
# Body of the device check (see docs/results.md, "GPU"): install the carried wheels, restore the fp32 MiniLM from
# the carried fp16 copy, then run bench/gpu_smoke.py. Carry: .whl and .gpu.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site
if ! python3 -c "import datasets" 2>/tmp/ds.err; then
  echo "datasets 5.2 failed to import ($(tail -1 /tmp/ds.err)); falling back to datasets 3.6"
  rm -rf /tmp/site/datasets* /tmp/site/dill* /tmp/site/multiprocess*
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/fallback/*.whl
fi
python3 - <<'PY'
import shutil
from pathlib import Path
from safetensors.torch import load_file, save_file
src, dst = Path(".gpu/minilm"), Path("/tmp/minilm")
shutil.copytree(src, dst, dirs_exist_ok=True)
save_file({k: v.float().contiguous() for k, v in load_file(src / "model.fp16.safetensors").items()}, dst / "model.safetensors")
(dst / "model.fp16.safetensors").unlink()
PY
export AUGSBERT_DEFAULT_MODEL=/tmp/minilm HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 bench/gpu_smoke.py --out "${OUT:-/tmp}/gpu_results.json" "$@" 2>&1 | grep -vE "Warning|warn\(|^\s*$" | tee "${OUT:-/tmp}/gpu_log.txt"
