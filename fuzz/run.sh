#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS, growing its corpus in BUILD/fuzz/corpus/<target> from
# the seeds in fuzz/seeds/<target>. A crash stops the run with the fuzzer's report and leaves
# the input that caused it (crash-*) in the current directory.
set -euo pipefail
build_dir=${1:-build-fuzz}
seconds=${2:-60}
for target in fuzz_multipart fuzz_json_requests fuzz_request_target fuzz_graphql fuzz_websocket_frames; do
  corpus="$build_dir/fuzz/corpus/$target"
  log="$build_dir/fuzz/$target.log"
  mkdir -p "$corpus"
  echo "== $target: $seconds s"
  if ! "$build_dir/fuzz/$target" -max_total_time="$seconds" -print_final_stats=1 \
    "$corpus" "fuzz/seeds/$target" >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: $target failed (full output in $log)" >&2
    exit 1
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$log"
done
echo "fuzz: no crash in ${seconds} s per target"
