#!/usr/bin/env python3
"""Softmax regression on 8x8 digit images, written the way SageMaker script mode expects.

It knows nothing about trainyard: hyperparameters arrive as `--name value` arguments and every
path comes from the SM_* environment variables that SageMaker (or trainyard-wrap) sets:

  SM_CHANNEL_TRAINING    directory with the training .csv files (required)
  SM_CHANNEL_EVALUATION  directory with evaluation .csv files (optional)
  SM_CHANNEL_PRETRAINED  directory with a model.json to start from (optional)
  SM_MODEL_DIR           where model.json is written
  SM_OUTPUT_DATA_DIR     where predictions.csv is written

CSV rows: 64 pixel values (0-16), then the label (0-9), no header. Pure standard library.
"""
import argparse
import json
import math
import os
import random
import sys
from operator import mul

FEATURES = 64
CLASSES = 10
PIXEL_SCALE = 16.0
MODEL_FORMAT = "trainyard.example.softmax/v1"


def parse_args():
    parser = argparse.ArgumentParser()
    # Hyperparameters: SageMaker passes each one as `--name value`.
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=100, help="number of SGD steps")
    parser.add_argument("--seed", type=int, default=1)
    # Paths default to the SageMaker environment, so the script also runs outside it.
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAINING"))
    parser.add_argument("--evaluation", default=os.environ.get("SM_CHANNEL_EVALUATION"))
    parser.add_argument("--pretrained", default=os.environ.get("SM_CHANNEL_PRETRAINED"))
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--output-data-dir", default=os.environ.get("SM_OUTPUT_DATA_DIR", "output"))
    args, unknown = parser.parse_known_args()
    if unknown:
        print("ignoring unknown arguments: %s" % " ".join(unknown))
    if args.learning_rate <= 0 or args.batch_size < 1 or args.iterations < 1:
        parser.error("need learning_rate > 0, batch_size >= 1 and iterations >= 1")
    if not args.train:
        parser.error("no training data: set SM_CHANNEL_TRAINING or pass --train")
    return args


def files_under(directory, name_filter):
    found = []
    for root, _, names in os.walk(directory):
        found += [os.path.join(root, name) for name in names if name_filter(name)]
    return sorted(found)


def load_csv_dir(directory):
    rows, labels = [], []
    for path in files_under(directory, lambda name: name.endswith(".csv")):
        with open(path) as csv_file:
            for line_number, line in enumerate(csv_file, 1):
                if not line.strip():
                    continue
                values = line.split(",")
                try:
                    if len(values) != FEATURES + 1:
                        raise ValueError("expected 65 values, found %d" % len(values))
                    rows.append([float(value) / PIXEL_SCALE for value in values[:FEATURES]])
                    label = int(values[FEATURES])
                    if not 0 <= label < CLASSES:
                        raise ValueError("label must be 0-9, got %d" % label)
                    labels.append(label)
                except ValueError as error:
                    sys.exit("%s:%d: %s" % (path, line_number, error))
    if not rows:
        sys.exit("no .csv rows under %s" % directory)
    return rows, labels


def probabilities(weights, bias, features):
    scores = [b + sum(map(mul, row, features)) for row, b in zip(weights, bias)]
    top = max(scores)  # subtracting the max keeps exp() from overflowing
    exps = [math.exp(score - top) for score in scores]
    total = sum(exps)
    return [e / total for e in exps]


def evaluate(weights, bias, rows, labels):
    loss, correct = 0.0, 0
    for features, label in zip(rows, labels):
        probs = probabilities(weights, bias, features)
        loss -= math.log(max(probs[label], 1e-300))
        correct += probs.index(max(probs)) == label
    return loss / len(rows), correct / len(rows)


def sgd_step(weights, bias, rows, labels, batch, learning_rate):
    weight_gradient = [[0.0] * FEATURES for _ in range(CLASSES)]
    bias_gradient = [0.0] * CLASSES
    for index in batch:
        features, label = rows[index], labels[index]
        probs = probabilities(weights, bias, features)
        for k in range(CLASSES):
            # d(cross-entropy)/d(score_k) = p_k - [k == label]
            score_gradient = probs[k] - (k == label)
            bias_gradient[k] += score_gradient
            weight_gradient[k] = [g + score_gradient * x
                                  for g, x in zip(weight_gradient[k], features)]
    step = learning_rate / len(batch)  # the gradient of the mean loss over the batch
    for k in range(CLASSES):
        bias[k] -= step * bias_gradient[k]
        weights[k] = [w - step * g for w, g in zip(weights[k], weight_gradient[k])]


def starting_model(pretrained_dir):
    models = []
    if pretrained_dir:
        models = files_under(pretrained_dir, lambda name: name == "model.json")
    if not models:
        return [[0.0] * FEATURES for _ in range(CLASSES)], [0.0] * CLASSES, 0
    with open(models[0]) as model_file:
        model = json.load(model_file)
    if model.get("format") != MODEL_FORMAT:
        sys.exit("%s: not a %s model" % (models[0], MODEL_FORMAT))
    print("starting from pretrained %s" % models[0])
    return model["weights"], model["bias"], model.get("trained_steps", 0)


def main():
    args = parse_args()
    rows, labels = load_csv_dir(args.train)
    weights, bias, trained_steps = starting_model(args.pretrained)
    rng = random.Random(args.seed)
    order, cursor = list(range(len(rows))), len(rows)
    report_every = max(1, args.iterations // 10)

    for step in range(args.iterations + 1):
        if step > 0:
            if cursor >= len(order):  # new epoch: reshuffle; batches never span two epochs
                rng.shuffle(order)
                cursor = 0
            batch = order[cursor:cursor + args.batch_size]
            cursor += len(batch)
            sgd_step(weights, bias, rows, labels, batch, args.learning_rate)
        if step % report_every == 0 or step == args.iterations:
            loss, accuracy = evaluate(weights, bias, rows, labels)
            print("step=%d/%d loss=%.4f accuracy=%.4f" % (step, args.iterations, loss, accuracy),
                  flush=True)

    os.makedirs(args.model_dir, exist_ok=True)
    with open(os.path.join(args.model_dir, "model.json"), "w") as model_file:
        json.dump({"format": MODEL_FORMAT, "features": FEATURES, "classes": CLASSES,
                   "weights": weights, "bias": bias,
                   "trained_steps": trained_steps + args.iterations}, model_file)

    if args.evaluation:
        eval_rows, eval_labels = load_csv_dir(args.evaluation)
        eval_loss, eval_accuracy = evaluate(weights, bias, eval_rows, eval_labels)
        print("eval_loss=%.4f eval_accuracy=%.4f" % (eval_loss, eval_accuracy), flush=True)
        os.makedirs(args.output_data_dir, exist_ok=True)
        with open(os.path.join(args.output_data_dir, "predictions.csv"), "w") as out:
            out.write("row,label,predicted,confidence\n")
            for number, (features, label) in enumerate(zip(eval_rows, eval_labels), 1):
                probs = probabilities(weights, bias, features)
                confidence = max(probs)
                out.write("%d,%d,%d,%.6f\n" % (number, label, probs.index(confidence), confidence))


if __name__ == "__main__":
    main()
