#!/usr/bin/env bash
# One command for the AugSBERT study (issue: AugSBERT that actually helps):
#   bash experiments/run.sh cpu    # ~2 h on 2 CPU cores: the demo recipe, 2 gold draws + STSb->Quora, 3 seeds, ceiling
#   bash experiments/run.sh samplers  # the earlier sampler comparison with an mpnet teacher (~2.5 h on 2 cores)
#   bash experiments/run.sh full   # the full variant, for a GPU (see experiments/stsb-full.yaml)
#   bash experiments/run.sh smoke  # the full variant's smallest slice: one seed, BM25 only
# Installs the project and the offline mpnet teacher base, writes the study data from ../shared/data, runs
# the study (finished runs are skipped on a rerun) and prints the table; it is also written to
# experiments/results/<study>/results.md and results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
variant="${1:-cpu}"
case "$variant" in
  cpu) study=experiments/stsb-cpu.yaml ;;
  samplers) study=experiments/stsb-cpu-samplers.yaml ;;
  full) study=experiments/stsb-full.yaml ;;
  smoke) study=experiments/stsb-smoke.yaml ;;
  *) echo "usage: bash experiments/run.sh [cpu|samplers|full|smoke]" >&2; exit 2 ;;
esac
if ! python -c "import augsbert_core" 2>/dev/null; then
  python -m pip install -q -r requirements.txt && python -m pip install -q -e .
fi
if [[ "$variant" != cpu ]]; then python scripts/setup_mpnet.py; fi  # cpu: teacher.model auto is MiniLM there
python experiments/prepare_data.py
export HF_HUB_OFFLINE=1
python -m augsbert_core study "$study"
