#!/usr/bin/env bash
# Runs train.py the way SageMaker script mode would (SM_* variables, --key value hyperparameters)
# on the sample digits, and checks that it leaves model.json and predictions.csv behind.
# Usage: smoke_test.sh [PYTHON]   (default python3)
set -euo pipefail
python="${1:-python3}"
here="$(cd "$(dirname "$0")" && pwd)"
digits="$here/../data/digits"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A channel is a directory; each gets only its own file, as SageMaker would download it.
mkdir -p "$work/training" "$work/evaluation" "$work/pretrained"
cp "$digits/train.csv" "$work/training/"
cp "$digits/eval.csv" "$work/evaluation/"
cp "$digits/pretrained/model.json" "$work/pretrained/"

SM_CHANNEL_TRAINING="$work/training" SM_CHANNEL_EVALUATION="$work/evaluation" \
SM_CHANNEL_PRETRAINED="$work/pretrained" SM_MODEL_DIR="$work/model" \
SM_OUTPUT_DATA_DIR="$work/output" \
  "$python" "$here/train.py" --learning_rate 0.1 --batch_size 32 --iterations 20 | tee "$work/log"

# Starting from the shipped pretrained model, the first loss is well below ln(10) = 2.3026.
grep -q '^step=0/20 loss=0\.' "$work/log"
grep -q '^eval_loss=[0-9.]* eval_accuracy=0\.[5-9]' "$work/log"
grep -q '"format": "trainyard.example.softmax/v1"' "$work/model/model.json"
[[ "$(head -1 "$work/output/predictions.csv")" == "row,label,predicted,confidence" ]]
[[ "$(wc -l < "$work/output/predictions.csv")" -eq 398 ]]
echo "smoke test passed"
