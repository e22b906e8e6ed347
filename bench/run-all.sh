#!/usr/bin/env bash
# Runs every benchmark in turn and prints each result: wrapper overhead, sweep launch rate, the
# (slow, ~3.5 min, ~6 GiB scratch) unzip comparison, then the `trainyard server` benchmarks
# (bench/server/: sweep accept and listing, submit -> first progress event, progress ingestion
# with 500 SSE clients, the API under 5,000 idle and 500 slow-header connections, and the
# 2 GiB upload/download against nginx, ~5 min, ~8 GiB scratch), and API reads and progress
# ingestion with 1, 2 and 3 replicas on PostgreSQL against 1 server on SQLite, and through nginx
# (bench/replicas/replicas.py, ~3 min), and
# the container executor's start latency against a bare `podman run` (bench/container/), the
# slurm executor's against a bare `sbatch --wrap` (bench/slurm/, ~1 min), 1,000 jobs through
# `trainyard server` on Slurm against an sbatch loop (bench/slurm/flow.sh, ~15 min), and a
# 1 GiB file through the S3 endpoint by S3ObjectStore against awscli (bench/s3/, ~3 min), and the
# SageMaker-compatible endpoint's latencies (bench/sagemaker/, ~30 s), and the web UI's first
# screen of a 1,000-job sweep in Chromium (bench/web/, ~30 s), and the cost of one bayesian
# search suggestion (bench/search/, Google Benchmark, ~10 s), and the quality of the searches on
# Branin and Hartmann-6 against Optuna's TPE through a real server, then for 200 seeds in-process
# (bench/search/quality.py, ~12 min; installs Debian's python3-optuna when missing), and
# Hyperband against the full grid on the example trainer (bench/search/hyperband.py, ~5 min).
# `make bench` calls this.
#
# Usage: bench/run-all.sh [BUILD_DIR [FILTER]]     (default: build, every benchmark)
#   FILTER                run only the benchmarks whose name contains it (e.g. `server`,
#                         `transfer`, `progress`, `unpack`, `launch`)
#   BENCH_SKIP_UNPACK=1   skip bench/unpack/run.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$repo/$build
filter=${2:-}
status=0

run_one() {
  local name=$1; shift
  [[ -z $filter || $name = *"$filter"* ]] || return 0
  echo
  echo "######## $name"
  if ! "$@"; then
    echo "######## $name FAILED" >&2
    status=1
  fi
}

echo "benchmarks on $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), build dir $build"
run_one "wrapper overhead" bash "$repo/bench/wrapper_overhead.sh" "$build"
run_one "launch rate" bash "$repo/bench/launch_rate.sh" "$build"
if [[ ${BENCH_SKIP_UNPACK:-0} = 1 && ( -z $filter || "unpack vs unzip" = *"$filter"* ) ]]; then
  echo
  echo "######## unpack: skipped (BENCH_SKIP_UNPACK=1)"
else
  run_one "unpack vs unzip" bash "$repo/bench/unpack/run.sh" "$build/bench/unpack/bench_unpack"
fi
run_one "server: sweep accept and job listing" bash "$repo/bench/server/sweep_accept.sh" "$build"
run_one "server: job rate vs trainyard run" bash "$repo/bench/server/job_rate.sh" "$build"
run_one "server: submit to first progress event" bash "$repo/bench/server/first_progress.sh" "$build"
run_one "server: progress ingestion with SSE clients" bash "$repo/bench/server/progress_ingest.sh" "$build"
run_one "server: API under 5,000 idle + 500 slow-header connections" bash "$repo/bench/server/idle_connections.sh" "$build"
run_one "server: 2 GiB transfer vs nginx" bash "$repo/bench/server/transfer.sh" "$build"
run_one "replicas: API reads and progress, 1/2/3 replicas on PostgreSQL vs 1 on SQLite" \
  python3 "$repo/bench/replicas/replicas.py" --build-dir "$build"
run_one "container: start to user code vs bare podman run" bash "$repo/bench/container/start_latency.sh" "$build"
run_one "slurm: submit to user code vs bare sbatch --wrap" bash "$repo/bench/slurm/start_latency.sh" "$build"
run_one "slurm: 1,000 jobs through trainyard server vs an sbatch loop" bash "$repo/bench/slurm/flow.sh" "$build"
run_one "s3: 1 GiB through the S3 endpoint, S3ObjectStore vs awscli" bash "$repo/bench/s3/transfer.sh" "$build"
run_one "sagemaker: endpoint create/start latency and Describe under 100 pollers" bash "$repo/bench/sagemaker/endpoint.sh" "$build"
run_one "search: one bayesian suggestion with 1,000 finished trials" \
  "$build/bench/search/bench_search" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
run_one "search: quality against Optuna's TPE (Branin, Hartmann-6)" \
  python3 "$repo/bench/search/quality.py" --build-dir "$build"
run_one "search: hyperband against the full grid (example trainer)" \
  python3 "$repo/bench/search/hyperband.py" --build-dir "$build"
run_one "web: first screen of a 1,000-job sweep in Chromium" bash "$repo/bench/web/first_render.sh" "$build"
exit $status
