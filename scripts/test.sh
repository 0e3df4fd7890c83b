#!/usr/bin/env bash
# One command from a fresh machine to a passing test suite (CPU only; installs Chromium for the browser tests).
# Usage: bash scripts/test.sh [pytest args]
# Every extra the tests exercise, at the locked versions (requirements.txt). Not inside a virtual environment,
# it creates and uses the project's .venv (scripts/python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --extras app,augment,static,tracking,ray,onnx,test,bench --browser
source scripts/python.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# style first (seconds): the rules are in pyproject.toml ([tool.ruff])
"$PY" -m ruff check .
"$PY" -m ruff format --check .
exec "$PY" -m pytest -q --durations=15 "$@"
