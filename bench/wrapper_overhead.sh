#!/usr/bin/env bash
# Times the example trainer run directly against the same trainer run through trainyard-wrap, on
# the same SageMaker-shaped job root, in interleaved pairs so that machine drift hits both equally.
# Prints the median wall time of each, the median per-pair extra, and trainyard-wrap's peak RSS.
# Targets: extra <= 5 ms (median), wrapper peak RSS <= 10 MB.
#
# Usage: bench/wrapper_overhead.sh [BUILD_DIR]     (default: build)
#   BENCH_PAIRS   interleaved pairs (default 25, at least 20 recommended)
#   BENCH_ITERS   the trainer's "iterations" hyperparameter (default 50)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$repo/$build
wrap=$build/apps/trainyard-wrap
trainer=$build/examples/trainer/trainyard-example-trainer
pairs=${BENCH_PAIRS:-25}
iters=${BENCH_ITERS:-50}
for bin in "$wrap" "$trainer"; do
  [[ -x $bin ]] || { echo "missing $bin; build it first (make build)" >&2; exit 2; }
done
command -v python3 > /dev/null || { echo "needs python3" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-wrap-XXXXXX")
trap 'rm -rf "$work"' EXIT
# Nothing in this benchmark may talk to a server.
unset TRAINYARD_CALLBACK_URL TRAINYARD_JOB_TOKEN TRAINYARD_COMMAND TRAINYARD_JOB_JSON

root=$work/ml
mkdir -p "$root/input/config" "$root/input/data/training"
cp "$repo/examples/data/digits/train.csv" "$root/input/data/training/"
printf '{"iterations":"%s"}\n' "$iters" > "$root/input/config/hyperparameters.json"
cat > "$root/input/config/inputdataconfig.json" << 'JSON'
{"training":{"TrainingInputMode":"File","S3DistributionType":"FullyReplicated","RecordWrapperType":"None"}}
JSON

# Write job.json once through the wrapper, so the direct runs read the same file.
TRAINYARD_ML_ROOT=$root "$wrap" -- true > /dev/null
[[ -s $root/job.json ]] || { echo "trainyard-wrap did not write $root/job.json" >&2; exit 1; }

echo "== wrapper overhead: example trainer (iterations=$iters), $pairs interleaved pairs"
python3 - "$root" "$wrap" "$trainer" "$pairs" << 'PY'
import os, resource, shutil, statistics, subprocess, sys, time

root, wrap, trainer, pairs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
base = {k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}
direct_env = dict(base, TRAINYARD_JOB_JSON=os.path.join(root, "job.json"))
wrapped_env = dict(base, TRAINYARD_ML_ROOT=root)

def run(argv, env):
    # Every run starts from the same state: the trainer appends to the progress file and the
    # wrapper reads all of it, so a file left by earlier runs would grow and skew the timings.
    for name in ("progress.jsonl", "trainyard-metrics.jsonl"):
        try:
            os.remove(os.path.join(root, "output", name))
        except FileNotFoundError:
            pass
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t0) * 1000.0

# One warm-up of each (page cache, dynamic loader).
run([trainer], direct_env)
run([wrap, "--", trainer], wrapped_env)
direct, wrapped = [], []
for i in range(pairs):
    order = [("d", [trainer], direct_env), ("w", [wrap, "--", trainer], wrapped_env)]
    if i % 2:
        order.reverse()  # alternate which goes first
    for tag, argv, env in order:
        (direct if tag == "d" else wrapped).append(run(argv, env))
extra = [w - d for w, d in zip(wrapped, direct)]

# Peak RSS of trainyard-wrap itself: run it alone with `true` (a tiny child), so the largest
# child RSS the kernel reports is the wrapper's.
if shutil.which("/usr/bin/time"):
    out = subprocess.run(["/usr/bin/time", "-f", "%M", wrap, "--", "true"], env=wrapped_env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    rss_kib = int(out.stderr.strip().splitlines()[-1])
    how = "/usr/bin/time -f %M"
else:
    subprocess.run([wrap, "--", "true"], env=wrapped_env, stdout=subprocess.DEVNULL, check=True)
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    how = "getrusage(RUSAGE_CHILDREN)"

med = statistics.median
print(f"direct  median {med(direct):8.2f} ms   (min {min(direct):.2f}, max {max(direct):.2f})")
print(f"wrapped median {med(wrapped):8.2f} ms   (min {min(wrapped):.2f}, max {max(wrapped):.2f})")
print(f"extra   median {med(extra):8.2f} ms   per pair (wrapped - direct); target <= 5 ms: "
      f"{'MET' if med(extra) <= 5 else 'MISSED'}")
print(f"trainyard-wrap peak RSS {rss_kib / 1024:.1f} MiB ({rss_kib} KiB, {how}); target <= 10 MB: "
      f"{'MET' if rss_kib * 1024 <= 10_000_000 else 'MISSED'}")
PY
