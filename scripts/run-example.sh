#!/usr/bin/env bash
# `make run`: a 2x2 sweep (learning rate x batch size) of the example trainer on the sample
# digits data, fine-tuning the pretrained model. Results go to runs/example (replaced each time).
set -euo pipefail
build_dir=${1:-build}
data=examples/data/digits
exec "$build_dir/apps/trainyard" run \
  --name example \
  --train "$data/train.csv" \
  --eval "$data/eval.csv" \
  --pretrained "$data/pretrained" \
  --param learning_rate=0.1,0.02 \
  --param batch_size=16,64 \
  --hp iterations=300 \
  --objective eval_accuracy:max \
  --parallel 2 \
  --out runs/example --overwrite \
  -- "$build_dir/examples/trainer/trainyard-example-trainer"
