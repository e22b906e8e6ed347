#!/usr/bin/env python3
"""Softmax regression on 8x8 digit images in PyTorch, driven only by trainyard's job.json.

The path of job.json comes from TRAINYARD_JOB_JSON (or the first argument). Everything else,
hyperparameters, channels and output locations, is read from that one file:

  channels.training    .csv files to train on (required)
  channels.evaluation  .csv files to evaluate on (optional; writes output_dir/predictions.csv)
  channels.pretrained  a model.json (trainyard.example.softmax/v1) to fine-tune (optional)
  model_dir            gets model.pt (the nn.Linear state_dict)
  progress_file        gets one JSON line per report, for trainyard to show

Exit status: 0 done, 1 bad job or data (reason also in failure_file), 143 stopped by SIGTERM
(the model so far is saved first, as SageMaker uploads model_dir even after a stop).
"""
import json
import os
import signal
import sys

import torch
from torch import nn

FEATURES = 64
CLASSES = 10
PIXEL_SCALE = 16.0
MODEL_FORMAT = "trainyard.example.softmax/v1"
PROGRESS_REPORTS = 50
STOPPED_EXIT_CODE = 143


class JobError(Exception):
    """A problem with job.json or the data, reported to the user as is."""


def number(hyperparameters, name, default, integer=False, minimum=None, exclusive=False):
    """Hyperparameters may arrive as 32, 32.0 or "32"; all mean the same."""
    value = hyperparameters.get(name, default)
    try:
        if isinstance(value, bool):
            raise ValueError
        parsed = float(value)
        if integer:
            if parsed != int(parsed):
                raise ValueError
            parsed = int(parsed)
    except (TypeError, ValueError, OverflowError):
        raise JobError("hyperparameter '%s' must be a%s, got %r"
                       % (name, "n integer" if integer else " number", value)) from None
    if minimum is not None and (parsed <= minimum if exclusive else parsed < minimum):
        raise JobError("hyperparameter '%s' must be %s %s, got %r"
                       % (name, ">" if exclusive else ">=", minimum, value))
    return parsed


def channel_files(job, name, wanted):
    """Absolute paths of the channel's files that `wanted` accepts, or None without the channel."""
    channel = job.get("channels", {}).get(name)
    if channel is None:
        return None
    files = channel.get("files")
    if files is None:  # a hand-written job.json may leave the listing out
        files = [os.path.relpath(os.path.join(root, f), channel["dir"])
                 for root, _, names in os.walk(channel["dir"]) for f in names]
    return sorted(os.path.join(channel["dir"], f) for f in files if wanted(f))


def load_csv(name, paths):
    if not paths:
        raise JobError("channel '%s' has no .csv files" % name)
    rows, labels = [], []
    for path in paths:
        with open(path) as csv_file:
            for line_number, line in enumerate(csv_file, 1):
                if not line.strip():
                    continue
                values = line.split(",")
                try:
                    if len(values) != FEATURES + 1:
                        raise ValueError("expected 65 values, found %d" % len(values))
                    label = int(values[FEATURES])
                    if not 0 <= label < CLASSES:
                        raise ValueError("label must be 0-9, got %d" % label)
                    rows.append([float(v) / PIXEL_SCALE for v in values[:FEATURES]])
                    labels.append(label)
                except ValueError as error:
                    raise JobError("%s:%d: %s" % (path, line_number, error)) from None
    if not rows:
        raise JobError("channel '%s' has only empty .csv files" % name)
    return torch.tensor(rows), torch.tensor(labels)


def load_pretrained(model, paths):
    if not paths:
        return 0
    with open(paths[0]) as model_file:
        saved = json.load(model_file)
    if saved.get("format") != MODEL_FORMAT:
        raise JobError("%s: not a %s model" % (paths[0], MODEL_FORMAT))
    with torch.no_grad():
        model.weight.copy_(torch.tensor(saved["weights"]))
        model.bias.copy_(torch.tensor(saved["bias"]))
    print("starting from pretrained %s" % paths[0])
    return int(saved.get("trained_steps", 0))


@torch.no_grad()
def evaluate(model, features, labels):
    logits = model(features)
    loss = nn.functional.cross_entropy(logits, labels).item()
    accuracy = (logits.argmax(dim=1) == labels).float().mean().item()
    return loss, accuracy


class ProgressFile:
    def __init__(self, path):
        self.path = path
        if path:
            os.makedirs(os.path.dirname(path), exist_ok=True)

    def append(self, record):
        if self.path:  # one whole line per write, flushed: trainyard rereads the file while we run
            with open(self.path, "a") as progress:
                progress.write(json.dumps(record) + "\n")
                progress.flush()


def train(job):
    hyperparameters = job.get("hyperparameters") or {}
    learning_rate = number(hyperparameters, "learning_rate", 0.1, minimum=0, exclusive=True)
    batch_size = number(hyperparameters, "batch_size", 32, integer=True, minimum=1)
    iterations = number(hyperparameters, "iterations", 200, integer=True, minimum=1)
    seed = number(hyperparameters, "seed", 1, integer=True, minimum=0)

    training_files = channel_files(job, "training", lambda f: f.endswith(".csv"))
    if training_files is None:
        raise JobError("channel 'training' is missing from job.json")
    features, labels = load_csv("training", training_files)
    evaluation_files = channel_files(job, "evaluation", lambda f: f.endswith(".csv"))
    evaluation = load_csv("evaluation", evaluation_files) if evaluation_files is not None else None

    torch.manual_seed(seed)
    # Zeros, like the C++ trainer, so runs from scratch start at loss ln(10) and compare directly.
    model = nn.Linear(FEATURES, CLASSES)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    trained_before = load_pretrained(
        model, channel_files(job, "pretrained", lambda f: os.path.basename(f) == "model.json"))
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    progress = ProgressFile(job.get("progress_file"))

    stop_requested = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stop_requested.append(signum))

    def report(step, rows_seen, message=None, extra_metrics=None):
        loss, accuracy = evaluate(model, features, labels)
        print(message or "step=%d/%d loss=%.4f accuracy=%.4f" % (step, iterations, loss, accuracy),
              flush=True)
        metrics = {"loss": loss, "accuracy": accuracy, **(extra_metrics or {})}
        record = {"progress": step / iterations, "step": step, "total_steps": iterations,
                  "epoch": round(rows_seen / len(labels), 6),
                  "metrics": {name: round(value, 6) for name, value in metrics.items()}}
        if message:
            record["message"] = message
        progress.append(record)

    generator = torch.Generator().manual_seed(seed)
    order, cursor, rows_seen, step = None, len(labels), 0, 0
    report_every = max(1, iterations // PROGRESS_REPORTS)
    report(0, 0)  # the starting loss, before any update: lower when fine-tuning
    while step < iterations and not stop_requested:
        if cursor >= len(labels):  # new epoch: reshuffle; batches never span two epochs
            order, cursor = torch.randperm(len(labels), generator=generator), 0
        batch = order[cursor:cursor + batch_size]
        cursor += len(batch)
        rows_seen += len(batch)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(features[batch]), labels[batch]).backward()
        optimizer.step()
        step += 1
        if step % report_every == 0 or step == iterations:
            report(step, rows_seen)

    model_dir = job["model_dir"]
    os.makedirs(model_dir, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(model_dir, "model.pt"))
    print("wrote %s (%d steps in all)" % (os.path.join(model_dir, "model.pt"),
                                          trained_before + step))
    if step < iterations:
        report(step, rows_seen,
               message="stopped by SIGTERM after %d of %d steps; model saved" % (step, iterations))
        return STOPPED_EXIT_CODE

    if evaluation is not None:
        eval_features, eval_labels = evaluation
        eval_loss, eval_accuracy = evaluate(model, eval_features, eval_labels)
        print("eval_loss=%.4f eval_accuracy=%.4f" % (eval_loss, eval_accuracy), flush=True)
        report(step, rows_seen, message="evaluated on %d rows" % len(eval_labels),
               extra_metrics={"eval_loss": eval_loss, "eval_accuracy": eval_accuracy})
        output_dir = job.get("output_dir")
        if output_dir:
            os.makedirs(output_dir, exist_ok=True)
            with torch.no_grad():
                confidence, predicted = torch.softmax(model(eval_features), dim=1).max(dim=1)
            with open(os.path.join(output_dir, "predictions.csv"), "w") as out:
                out.write("row,label,predicted,confidence\n")
                for row, (label, guess, p) in enumerate(
                        zip(eval_labels.tolist(), predicted.tolist(), confidence.tolist()), 1):
                    out.write("%d,%d,%d,%.6f\n" % (row, label, guess, p))
    return 0


def main():
    job_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TRAINYARD_JOB_JSON")
    if not job_path:
        sys.exit("set TRAINYARD_JOB_JSON or pass the path of job.json")
    with open(job_path) as job_file:
        job = json.load(job_file)
    try:
        return train(job)
    except (JobError, OSError) as error:
        message = str(error)
        print("train.py: %s" % message, file=sys.stderr)
        if job.get("failure_file"):  # SageMaker's convention: the reason goes here
            os.makedirs(os.path.dirname(job["failure_file"]), exist_ok=True)
            with open(job["failure_file"], "w") as failure:
                failure.write(message + "\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
