#!/usr/bin/env python3
"""A tiny trainer for bench/search/quality.py: a synthetic objective with a known optimum.

It reads job.json (TRAINYARD_JOB_JSON), computes the function its hyperparameter `function`
names (`branin` of x1, x2; `hartmann6` of x1..x6) and reports, in its progress file, a learning
curve of the metric `value` that converges to that value: 10 steps, the gap to the final value
halving each step, the last step the value itself. It saves the value as its model.
"""
import json
import math
import os
import sys

HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
              [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
              [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]


def branin(x1, x2):
    """Minimum 0.397887 at (-pi, 12.275), (pi, 2.275), (9.42478, 2.475); x1 in [-5, 10], x2 in [0, 15]."""
    b = 5.1 / (4 * math.pi ** 2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(x):
    """Minimum -3.32237 at (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573); x in [0, 1]^6."""
    total = 0.0
    for i in range(4):
        inner = sum(HARTMANN_A[i][j] * (x[j] - HARTMANN_P[i][j] * 1e-4) ** 2 for j in range(6))
        total -= HARTMANN_ALPHA[i] * math.exp(-inner)
    return total


def main():
    with open(os.environ["TRAINYARD_JOB_JSON"]) as f:
        job = json.load(f)
    hyperparameters = job["hyperparameters"]
    function = hyperparameters["function"]
    if function == "branin":
        value = branin(float(hyperparameters["x1"]), float(hyperparameters["x2"]))
    elif function == "hartmann6":
        value = hartmann6([float(hyperparameters[f"x{i}"]) for i in range(1, 7)])
    else:
        print(f"objective_trainer: unknown function '{function}'", file=sys.stderr)
        return 2
    steps = 10
    with open(job["progress_file"], "a") as progress:
        for step in range(1, steps + 1):
            gap = (abs(value) + 1) * 2.0 ** -(step - 1) if step < steps else 0.0
            line = {"step": step, "total_steps": steps, "progress": step / steps,
                    "metrics": {"value": value + gap}}
            progress.write(json.dumps(line) + "\n")
            progress.flush()
    with open(os.path.join(job["model_dir"], "value.json"), "w") as model:
        json.dump({"function": function, "value": value}, model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
