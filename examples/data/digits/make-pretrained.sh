#!/usr/bin/env bash
# Regenerates pretrained/model.json: the example trainer run directly (no wrapper) on
# pretrain.csv with a hand-made job.json in a temporary directory.
#
# Usage: examples/data/digits/make-pretrained.sh [PATH/TO/trainyard-example-trainer]
#   Default trainer: $TRAINER, else build/examples/trainer/trainyard-example-trainer under the
#   repository root. Build it first:
#     cmake -S . -B build && cmake --build build --target trainyard-example-trainer -j2
#
# The trainer is deterministic for a given seed, so rerunning it with the same build gives the
# same file; a different compiler may differ in the last digits of the weights.
set -euo pipefail

digits_dir="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$digits_dir/../../.." && pwd)"
trainer="${1:-${TRAINER:-$repo_root/build/examples/trainer/trainyard-example-trainer}}"
if [[ ! -x "$trainer" ]]; then
  echo "make-pretrained.sh: trainer not found at $trainer (build it, or pass its path)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The training channel points straight at this directory: "files" limits it to pretrain.csv.
cat > "$work/job.json" <<JSON
{
  "schema": "trainyard.job/v1",
  "job_name": "digits-pretrain",
  "hyperparameters": {"learning_rate": 0.1, "batch_size": 32, "iterations": 300, "seed": 1},
  "channels": {
    "training": {"dir": "$digits_dir", "files": ["pretrain.csv"], "content_type": "text/csv"}
  },
  "model_dir": "$work/model",
  "output_dir": "$work/output/data",
  "progress_file": "$work/output/progress.jsonl",
  "failure_file": "$work/output/failure"
}
JSON

TRAINYARD_JOB_JSON="$work/job.json" "$trainer"
mkdir -p "$digits_dir/pretrained"
cp "$work/model/model.json" "$digits_dir/pretrained/model.json"
echo "wrote $digits_dir/pretrained/model.json"
