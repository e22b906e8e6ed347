#!/usr/bin/env bash
# Runs train.py with a hand-made job.json on the sample digits, fine-tuning the shipped
# pretrained model, and checks its outputs. Exits 77 (skipped) when torch is not importable.
# Usage: smoke_test.sh [PYTHON]   (default python3)
set -euo pipefail
python="${1:-python3}"
if ! "$python" -c 'import torch' 2>/dev/null; then
  # Debian's python3-torch installs for the system interpreter, which may not be first on PATH.
  if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    python=/usr/bin/python3
  else
    echo "skipped: torch is not importable by $python or /usr/bin/python3 (Debian: python3-torch)"
    exit 77
  fi
fi
here="$(cd "$(dirname "$0")" && pwd)"
digits="$(cd "$here/../data/digits" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/job.json" <<JSON
{
  "schema": "trainyard.job/v1",
  "job_name": "pytorch-smoke",
  "hyperparameters": {"learning_rate": 0.1, "batch_size": 32, "iterations": 20},
  "channels": {
    "training": {"dir": "$digits", "files": ["train.csv"]},
    "evaluation": {"dir": "$digits", "files": ["eval.csv"]},
    "pretrained": {"dir": "$digits/pretrained", "files": ["model.json"]}
  },
  "model_dir": "$work/model",
  "output_dir": "$work/output/data",
  "progress_file": "$work/output/progress.jsonl",
  "failure_file": "$work/output/failure"
}
JSON

TRAINYARD_JOB_JSON="$work/job.json" "$python" "$here/train.py" | tee "$work/log"

# Step 0 comes before any update; from the pretrained model its loss is well below ln(10).
head -1 "$work/output/progress.jsonl" | grep -q '"step": 0,'
head -1 "$work/output/progress.jsonl" | grep -q '"loss": 0\.'
tail -1 "$work/output/progress.jsonl" | grep -q '"eval_accuracy"'
[[ -s "$work/model/model.pt" ]]
[[ "$(wc -l < "$work/output/data/predictions.csv")" -eq 398 ]]
echo "smoke test passed"
