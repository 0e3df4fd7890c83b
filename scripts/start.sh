#!/usr/bin/env bash
# One command from a fresh machine to the running app on the built-in demo data and the offline model.
# Usage: bash scripts/start.sh            -> installs the app (extras app,augment), serves it on http://localhost:8501
#        bash scripts/start.sh --headless -> installs, then runs the demo experiment with the CLI instead
# Not inside a virtual environment, it creates and uses the project's .venv (scripts/python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --extras app,augment
source scripts/python.sh
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} AUGSBERT_HOME=${AUGSBERT_HOME:-$PWD/workspace}
if [[ "${1:-}" == "--headless" ]]; then
  exec "$PY" -m augsbert_core run configs/demo-stsb.yaml --runs-dir "$AUGSBERT_HOME/runs"
fi
exec "$PY" -m augsbert_core app
