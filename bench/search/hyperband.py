#!/usr/bin/env python3
"""Hyperband against the full grid on the example trainer, in one run (docs/benchmarks.md).

The example trainer (softmax regression on the digits data) with `iterations` as Hyperband's
resource: a grid trains every configuration of the space to max_resource; hyperband searches the
same space (categorical ranges of the grid's values) with resource iterations=MIN..MAX, eta 3,
for SEEDS seeds. Both run as real jobs through a real `trainyard server`. The figures: the best
eval_accuracy each reached, and the training steps each spent: the steps each job really trained,
its last progress step less the iteration it resumed from (a promoted Hyperband job starts from
the checkpoint of the job it was promoted from; its log says "resuming from iteration N").
Issue 19's target: Hyperband within 1% of the grid's best with at most 1/3 of its steps.

  python3 bench/search/hyperband.py [--build-dir build] [--seeds 10] [--max-jobs 40]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from quality import Server  # noqa: E402  (a trainyard server on a free port)

LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
BATCH_SIZES = [4, 16, 64]
MIN_RESOURCE, MAX_RESOURCE, ETA = 9, 729, 3


def upload(server, build_dir, name, kind):
    environment = dict(os.environ, TRAINYARD_URL=server.url, TRAINYARD_TOKEN=server.token)
    output = subprocess.run(
        [os.path.join(build_dir, "apps", "trainyard"), "dataset", "upload",
         os.path.join(ROOT, "examples", "data", "digits", name), "--kind", kind, "--output", "json"],
        check=True, capture_output=True, text=True, env=environment).stdout
    import json
    return json.loads(output[output.index("{"):])["id"]


def ended(server, sweep_id):
    sweep = server.call("GET", f"/api/v1/sweeps/{sweep_id}")
    counts = sweep.get("counts", {})
    done = sum(counts.get(state, 0) for state in ("Completed", "Failed", "Stopped"))
    # A search queues its next job before the ended one's end is recorded: all ended is its end.
    return sweep if sweep["job_count"] > 0 and done == sweep["job_count"] else None


def summary(server, sweep_id):
    """(best eval_accuracy, steps spent, jobs) of an ended sweep."""
    jobs = server.call("GET", f"/api/v1/jobs?sweep={sweep_id}&limit=1000")["jobs"]
    failed = [job for job in jobs if job["status"] != "Completed"]
    if failed:
        raise RuntimeError(f"sweep {sweep_id}: {len(failed)} jobs did not complete: "
                           f"{failed[0]['status']} {failed[0].get('failure_reason')}")
    best = max(job["metrics"]["eval_accuracy"] for job in jobs)
    steps = sum(job["progress"]["step"] - resumed_from(server, job["name"]) for job in jobs)
    return best, steps, len(jobs)


def resumed_from(server, job):
    """The iteration the job's trainer resumed from (its log says so), 0 when it started afresh."""
    request = urllib.request.Request(f"{server.url}/api/v1/jobs/{job}/artifacts/log",
                                     headers={"Authorization": f"Bearer {server.token}"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        match = re.search(r"^resuming from iteration (\d+)$", answer.read().decode(), re.MULTILINE)
    return int(match.group(1)) if match else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--max-jobs", type=int, default=40)
    parser.add_argument("--max-running", type=int, default=2)
    args = parser.parse_args()
    print(f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs", flush=True)
    trainer = os.path.join(args.build_dir, "examples", "trainer", "trainyard-example-trainer")
    server = Server(args.build_dir, args.max_running)
    try:
        train = upload(server, args.build_dir, "train.csv", "training")
        evaluation = upload(server, args.build_dir, "eval.csv", "evaluation")
        base = {"trainer": {"command": [trainer]}, "channels": {"training": train,
                                                                 "evaluation": evaluation},
                "objective": {"metric": "eval_accuracy", "goal": "max"},
                "max_parallel": args.max_running}
        grid = server.call("POST", "/api/v1/sweeps", {
            **base, "name": "grid", "hyperparameters": {"iterations": MAX_RESOURCE},
            "grid": {"learning_rate": LEARNING_RATES, "batch_size": BATCH_SIZES}})
        searches = []
        for seed in range(args.seeds):
            created = server.call("POST", "/api/v1/sweeps", {
                **base, "name": f"hyperband-{seed}", "strategy": "hyperband",
                "ranges": {"learning_rate": {"type": "categorical", "values": LEARNING_RATES},
                           "batch_size": {"type": "categorical", "values": BATCH_SIZES}},
                "hyperband": {"resource": "iterations", "min_resource": MIN_RESOURCE,
                              "max_resource": MAX_RESOURCE, "eta": ETA},
                "max_jobs": args.max_jobs, "random_seed": seed})
            searches.append(created["id"])
        started = time.time()
        pending = [grid["id"]] + searches
        while pending:
            pending = [sweep for sweep in pending if ended(server, sweep) is None]
            if time.time() - started > 1800:
                raise RuntimeError(f"{len(pending)} sweeps still running after 30 minutes")
            time.sleep(1)
        grid_best, grid_steps, grid_jobs = summary(server, grid["id"])
        results = [summary(server, sweep) for sweep in searches]
    finally:
        server.stop()

    print(f"\nspace: learning_rate {LEARNING_RATES} x batch_size {BATCH_SIZES}; "
          f"iterations {MIN_RESOURCE}..{MAX_RESOURCE}, eta {ETA}")
    print(f"grid: {grid_jobs} jobs at {MAX_RESOURCE} iterations: best eval_accuracy "
          f"{grid_best:.4f}, {grid_steps} steps")
    print(f"{'hyperband seed':<15} {'jobs':>5} {'best':>8} {'vs grid':>8} {'steps':>7} {'of grid':>8}")
    for seed, (best, steps, jobs) in enumerate(results):
        print(f"{seed:<15} {jobs:>5} {best:>8.4f} {best / grid_best - 1:>+8.2%} {steps:>7} "
              f"{steps / grid_steps:>8.1%}")
    bests = [best for best, _, _ in results]
    steps = [steps for _, steps, _ in results]
    print(f"{'median':<15} {'':>5} {statistics.median(bests):>8.4f} "
          f"{statistics.median(bests) / grid_best - 1:>+8.2%} {statistics.median(steps):>7.0f} "
          f"{statistics.median(steps) / grid_steps:>8.1%}")
    within = sum(1 for best in bests if best >= 0.99 * grid_best)
    print(f"within 1% of the grid's best: {within} of {len(bests)} seeds; "
          f"target: within 1% with at most 1/3 of the grid's steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
