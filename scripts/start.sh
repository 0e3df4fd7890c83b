#!/usr/bin/env bash
# One command from a fresh machine to the running app on the built-in demo data and the offline model.
# Usage: bash scripts/start.sh            -> installs, then serves the app on http://localhost:8501
#        bash scripts/start.sh --headless -> installs, then runs the demo experiment with the CLI instead
set -euo pipefail
cd "$(dirname "$0")/.."
export AUGSBERT_HOME=${AUGSBERT_HOME:-$PWD/workspace}
bash scripts/install.sh
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} AUGSBERT_HOME=${AUGSBERT_HOME:-$PWD/workspace}
if [[ "${1:-}" == "--headless" ]]; then
  exec python3 -m augsbert_core run configs/demo-stsb.yaml --runs-dir "$AUGSBERT_HOME/runs"
fi
exec python3 -m streamlit run app.py
