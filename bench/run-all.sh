#!/usr/bin/env bash
# Runs every benchmark in turn and prints each result: wrapper overhead, sweep launch rate, then
# the (slow, ~3.5 min, ~6 GiB scratch) unzip comparison. `make bench` calls this.
#
# Usage: bench/run-all.sh [BUILD_DIR]     (default: build)
#   BENCH_SKIP_UNPACK=1   skip bench/unpack/run.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$repo/$build
status=0

run_one() {
  local name=$1; shift
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
if [[ ${BENCH_SKIP_UNPACK:-0} = 1 ]]; then
  echo
  echo "######## unpack: skipped (BENCH_SKIP_UNPACK=1)"
else
  run_one "unpack vs unzip" bash "$repo/bench/unpack/run.sh" "$build/bench/unpack/bench_unpack"
fi
exit $status
