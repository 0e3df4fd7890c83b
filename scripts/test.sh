#!/usr/bin/env bash
# One command from a fresh machine to a passing test suite (CPU only; installs Chromium for the browser test).
# Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
export AUGSBERT_SKIP_MPNET=${AUGSBERT_SKIP_MPNET:-1}  # the tests never load mpnet: skip its 404 MB
bash scripts/install.sh --browser
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# style first (seconds): the rules are in pyproject.toml ([tool.ruff])
python3 -m ruff check .
python3 -m ruff format --check .
exec python3 -m pytest -q --durations=15 "$@"
