#!/usr/bin/env bash
# Splits the UCI digits data (1,797 rows, no header: 64 pixels 0-16, then the label 0-9)
# into three fixed, contiguous parts, so every run produces byte-identical files:
#   pretrain.csv  rows    1-400   (used only to train pretrained/model.json)
#   train.csv     rows  401-1400  (the training channel of the examples)
#   eval.csv      rows 1401-1797  (the evaluation channel)
# The rows of the source are already in no particular class order, so a contiguous split keeps
# every class in every part; no shuffling means no seed to remember.
#
# Usage: examples/data/digits/split.sh [SOURCE.csv.gz]
#   SOURCE defaults to /work/shared/data/digits.csv.gz (a copy of scikit-learn's
#   sklearn/datasets/data/digits.csv.gz, Debian package python3-sklearn).
# Writes next to this script.
set -euo pipefail

source_gz="${1:-/work/shared/data/digits.csv.gz}"
out_dir="$(cd "$(dirname "$0")" && pwd)"

# Normalise line endings once so the three outputs are plain LF CSV whatever the source used.
rows="$(mktemp)"
trap 'rm -f "$rows"' EXIT
gzip -dc "$source_gz" | tr -d '\r' | sed '/^$/d' > "$rows"

row_count="$(wc -l < "$rows")"
if [[ "$row_count" -ne 1797 ]]; then
  echo "split.sh: expected 1797 rows in $source_gz, found $row_count" >&2
  exit 1
fi

sed -n '1,400p'     "$rows" > "$out_dir/pretrain.csv"
sed -n '401,1400p'  "$rows" > "$out_dir/train.csv"
sed -n '1401,1797p' "$rows" > "$out_dir/eval.csv"

wc -l "$out_dir/pretrain.csv" "$out_dir/train.csv" "$out_dir/eval.csv"
