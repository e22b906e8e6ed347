#!/usr/bin/env python3
"""The quality of trainyard's searches against Optuna's TPE, in one run (docs/benchmarks.md).

Branin and Hartmann-6, computed by a tiny trainer (objective_trainer.py) that reports a learning
curve converging to the value, run as real jobs through a real `trainyard server`: for each of
SEEDS seeds, a bayesian and a random search of TRIALS jobs (one at a time, so that each suggestion
sees every earlier result, as Optuna's sequential loop does), and one grid of TRIALS points. Then
Optuna's TPESampler, as configured by default (univariate) and with multivariate=True (and
RandomSampler, as a check on the random baseline) on the same functions
and seeds, called directly. The figure is the median over the seeds of the best value found after
TRIALS trials. Then the same searches for more seeds (--in-process-seeds, 200) without the
server: trainyard's by bench_search_quality (its suggestions are pure functions of the seed and
the trials: the server's are the same), Optuna's called directly. Last, Optuna's cost per
suggestion with 1,000 finished trials of 4 parameters, and bench_search's (trainyard's) in the
same run.

Optuna is Debian's python3-optuna: installed with apt-get when missing (the tests never need it).

  python3 bench/search/quality.py [--build-dir build] [--seeds 20] [--trials 30] [--max-running 4]
                                  [--in-process-seeds 200]
"""
import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TRAINER = os.path.join(HERE, "objective_trainer.py")
sys.path.insert(0, HERE)
import objective_trainer  # noqa: E402  (the functions, for Optuna and the optima)

FUNCTIONS = {
    "branin": {
        "optimum": 0.397887,
        "ranges": {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)},
        # 6 x 5 = 30 points, at the centres of equal cells.
        "grid": {"x1": [-3.75, -1.25, 1.25, 3.75, 6.25, 8.75], "x2": [1.5, 4.5, 7.5, 10.5, 13.5]},
        "fixed": {},
    },
    "hartmann6": {
        "optimum": -3.32237,
        "ranges": {f"x{i}": (0.0, 1.0) for i in range(1, 7)},
        # 30 points cannot span 6 dimensions (2^6 = 64): 3 x 5 x 2 over x1..x3, x4..x6 at 0.5.
        "grid": {"x1": [1 / 6, 0.5, 5 / 6], "x2": [0.1, 0.3, 0.5, 0.7, 0.9], "x3": [0.25, 0.75]},
        "fixed": {"x4": 0.5, "x5": 0.5, "x6": 0.5},
    },
}


def value_of(function, params):
    if function == "branin":
        return objective_trainer.branin(params["x1"], params["x2"])
    return objective_trainer.hartmann6([params[f"x{i}"] for i in range(1, 7)])


def ensure_optuna():
    try:
        import optuna  # noqa: F401
    except ImportError:
        if subprocess.run(["dpkg", "-s", "python3-optuna"], capture_output=True).returncode != 0:
            print("python3-optuna is missing: installing it with apt-get", flush=True)
            command = ["apt-get", "install", "-y", "python3-optuna"]
            if os.geteuid() != 0:
                command = ["sudo"] + command
            subprocess.run(command, check=True)
        # Debian's package is for Debian's Python: run there when this is another one.
        if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
            os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class Server:
    """A `trainyard server` on a free port with a temporary data dir and a token."""

    def __init__(self, build_dir, max_running):
        self.work = tempfile.mkdtemp(prefix="trainyard-search-quality-")
        self.token = secrets.token_hex(16)
        self.process = subprocess.Popen(
            [os.path.join(build_dir, "apps", "trainyard"), "server", "--data-dir",
             os.path.join(self.work, "data"), "--listen", "127.0.0.1:0", "--token", self.token,
             "--progress-interval", "1", "--max-running", str(max_running), "--log-level", "warn"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.url = None
        deadline = time.time() + 30
        output = ""
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            output += line
            match = re.search(r"listening on (http://[\d.]+:\d+)", line)
            if match:
                self.url = match.group(1)
                break
        if not self.url:
            self.stop()
            raise RuntimeError(f"the server did not start:\n{output}")
        # Keep reading its output so that it never blocks on a full pipe.
        import threading
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path}: HTTP {error.code}: {error.read().decode()}")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)
        shutil.rmtree(self.work, ignore_errors=True)


def create_sweeps(server, trials, seeds):
    """Every sweep at once; their ids by (function, strategy, seed)."""
    sweeps = {}
    for function, setup in FUNCTIONS.items():
        base = {"trainer": {"command": [sys.executable, TRAINER]},
                "objective": {"metric": "value", "goal": "min"}, "max_parallel": 1}
        fixed = {"function": function, **setup["fixed"]}
        grid = server.call("POST", "/api/v1/sweeps", {
            **base, "name": f"{function}-grid", "hyperparameters": fixed, "grid": setup["grid"]})
        sweeps[(function, "grid", 0)] = grid["id"]
        ranges = {name: {"type": "continuous", "min": low, "max": high, "scaling": "linear"}
                  for name, (low, high) in setup["ranges"].items()}
        for seed in range(seeds):
            for strategy in ("bayesian", "random"):
                created = server.call("POST", "/api/v1/sweeps", {
                    **base, "name": f"{function}-{strategy}-{seed}",
                    "hyperparameters": {"function": function}, "strategy": strategy,
                    "ranges": ranges, "max_jobs": trials, "random_seed": seed})
                sweeps[(function, strategy, seed)] = created["id"]
    return sweeps


def wait_for(server, sweeps, trials):
    """Polls until every sweep's jobs (a search's `trials`) have ended; the best value of each."""
    best = {}
    started = time.time()
    last_report = 0
    while len(best) < len(sweeps):
        for key, sweep_id in sweeps.items():
            if key in best:
                continue
            sweep = server.call("GET", f"/api/v1/sweeps/{sweep_id}")
            counts = sweep.get("counts", {})
            ended = sum(counts.get(state, 0) for state in ("Completed", "Failed", "Stopped"))
            # A search grows to `trials` jobs; a grid has its own count from the start.
            if sweep["job_count"] >= trials and ended >= sweep["job_count"]:
                if counts.get("Completed", 0) != sweep["job_count"]:
                    jobs = server.call("GET", f"/api/v1/jobs?sweep={sweep_id}&limit=100")["jobs"]
                    reasons = sorted({job["failure_reason"] for job in jobs if job["failure_reason"]})
                    raise RuntimeError(f"sweep {sweep_id} ({key}): not every job completed: {counts}: "
                                       + "; ".join(reasons))
                best[key] = sweep["best_job"]["value"]
        if time.time() - last_report > 30:
            last_report = time.time()
            print(f"  {len(best)}/{len(sweeps)} sweeps done after {time.time() - started:.0f} s",
                  flush=True)
        time.sleep(1)
    return best, time.time() - started


# Optuna's samplers measured, by the names the tables give them.
SAMPLERS = {"tpe": "TPESampler", "tpe-multivariate": "TPESampler multivariate",
            "random": "RandomSampler"}


def optuna_bests(optuna, function, sampler_name, trials, seeds):
    setup = FUNCTIONS[function]
    bests = []
    for seed in range(seeds):
        if sampler_name == "random":
            sampler = optuna.samplers.RandomSampler(seed=seed)
        else:
            sampler = optuna.samplers.TPESampler(seed=seed,
                                                 multivariate=sampler_name == "tpe-multivariate")
        study = optuna.create_study(sampler=sampler, direction="minimize")

        def objective(trial):
            params = {name: trial.suggest_float(name, low, high)
                      for name, (low, high) in setup["ranges"].items()}
            return value_of(function, params)
        study.optimize(objective, n_trials=trials)
        bests.append(study.best_value)
    return bests


def optuna_suggestion_cost(optuna, finished=1000, asks=20):
    """Median seconds (wall, CPU) of one TPE ask (4 parameters sampled) with `finished` trials, as
    bench_search's."""
    import math
    import random
    distributions = {
        "learning_rate": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
        "momentum": optuna.distributions.FloatDistribution(0.9, 0.999),
        "layers": optuna.distributions.IntDistribution(1, 8),
        "optimizer": optuna.distributions.CategoricalDistribution(["sgd", "adam", "rmsprop", "adagrad"]),
    }
    generator = random.Random(1)
    trials = []
    for _ in range(finished):
        params = {"learning_rate": 10 ** generator.uniform(-5, -1),
                  "momentum": generator.uniform(0.9, 0.999), "layers": generator.randint(1, 8),
                  "optimizer": generator.choice(["sgd", "adam", "rmsprop", "adagrad"])}
        value = (math.log10(params["learning_rate"]) + 3) ** 2 + params["layers"] / 8
        trials.append(optuna.trial.create_trial(params=params, distributions=distributions, value=value))
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=42))
    study.add_trials(trials)
    wall = []
    cpu = []
    for _ in range(asks):
        started = (time.perf_counter(), time.process_time())
        trial = study.ask(distributions)
        wall.append(time.perf_counter() - started[0])
        cpu.append(time.process_time() - started[1])
        study.tell(trial, state=optuna.trial.TrialState.FAIL)  # not a result: the next ask is alike
    return statistics.median(wall), statistics.median(cpu)


def in_process(optuna, build_dir, seeds, trials):
    """The same searches without the server, for many seeds: trainyard's suggestions are pure
    functions of the seed and the trials, so bench_search_quality gives what the server would."""
    print(f"\nmedian (q1, q3) over {seeds} seeds of the best value after {trials} trials, in-process",
          flush=True)
    binary = os.path.join(build_dir, "bench", "search", "bench_search_quality")
    if os.path.exists(binary):
        output = subprocess.run([binary, str(seeds), str(trials)], check=True, capture_output=True,
                                text=True).stdout
        print("".join(output.splitlines(keepends=True)[1:]), end="")
    else:
        print("  bench_search_quality is not built (cmake --build build --target bench_search_quality)")
    for function in FUNCTIONS:
        for sampler in SAMPLERS:
            values = optuna_bests(optuna, function, sampler, trials, seeds)
            quartiles = statistics.quantiles(values, n=4)
            name = SAMPLERS[sampler]
            print(f"{function:<10} Optuna {name:<24} {statistics.median(values):9.4f} "
                  f"({quartiles[0]:.4f}, {quartiles[2]:.4f})", flush=True)


def bench_search(build_dir):
    binary = os.path.join(build_dir, "bench", "search", "bench_search")
    if not os.path.exists(binary):
        return None
    output = subprocess.run([binary, "--benchmark_filter=/1000|BM_SuggestGp",
                             "--benchmark_repetitions=3",
                             "--benchmark_report_aggregates_only=true", "--benchmark_format=json"],
                            check=True, capture_output=True, text=True).stdout
    results = {}
    for benchmark in json.loads(output)["benchmarks"]:
        if benchmark.get("aggregate_name") == "median":
            results[benchmark["run_name"]] = (benchmark["real_time"], benchmark["cpu_time"],
                                              benchmark["time_unit"])
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--max-running", type=int, default=4)
    parser.add_argument("--in-process-seeds", type=int, default=200,
                        help="then trainyard's searches in-process (bench_search_quality) and "
                             "Optuna's for this many seeds, to tell them apart (0: skip)")
    args = parser.parse_args()
    optuna = ensure_optuna()
    print(f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs; "
          f"Optuna {optuna.__version__}", flush=True)

    server = Server(args.build_dir, args.max_running)
    try:
        sweeps = create_sweeps(server, args.trials, args.seeds)
        print(f"{len(sweeps)} sweeps of {args.trials} jobs on {server.url}", flush=True)
        best, seconds = wait_for(server, sweeps, args.trials)
    finally:
        server.stop()
    jobs = len(sweeps) * args.trials
    print(f"{jobs} jobs in {seconds:.0f} s ({jobs / seconds:.1f} jobs/s)")

    rows = []
    for function, setup in FUNCTIONS.items():
        results = {
            "trainyard bayesian": [best[(function, "bayesian", s)] for s in range(args.seeds)],
            "trainyard random": [best[(function, "random", s)] for s in range(args.seeds)],
            "trainyard grid": [best[(function, "grid", 0)]],
            **{f"Optuna {name}": optuna_bests(optuna, function, sampler, args.trials, args.seeds)
               for sampler, name in SAMPLERS.items()},
        }
        for name, values in results.items():
            quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
            rows.append((function, setup["optimum"], name, statistics.median(values), quartiles[0],
                         quartiles[2]))
    print(f"\nmedian over {args.seeds} seeds of the best value after {args.trials} trials "
          "(lower is better; the grid has no seed)")
    print(f"{'function':<10} {'optimum':>9}  {'search':<32} {'median':>9} {'q1':>9} {'q3':>9}")
    for function, optimum, name, median, q1, q3 in rows:
        print(f"{function:<10} {optimum:>9.4f}  {name:<32} {median:>9.4f} {q1:>9.4f} {q3:>9.4f}")

    if args.in_process_seeds > 0:
        in_process(optuna, args.build_dir, args.in_process_seeds, args.trials)

    wall, cpu = optuna_suggestion_cost(optuna)
    print("\none suggestion with 4 parameters (Optuna: 1,000 finished trials; trainyard: as the "
          "benchmark's name ends)")
    print(f"  Optuna TPESampler ask: {wall * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU (median of 20)")
    ours = bench_search(args.build_dir)
    if ours is None:
        print("  bench_search is not built (cmake --build build --target bench_search)")
    else:
        for name, (real, cpu, unit) in ours.items():
            print(f"  trainyard {name}: {real:.0f} {unit} wall, {cpu:.0f} {unit} CPU (median of 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
