#!/usr/bin/env bash
# Times submit -> user code running for a Slurm job: the slurm executor (Submit, job root laid
# out, batch script written, sbatch, trainyard-wrap on the node) against a bare `sbatch --wrap`
# of the same command, each alone on the idle node of a one-node cluster started from Debian's
# packages in a temp dir (tests/support/slurm_cluster.h), in interleaved pairs (order
# alternates). The user code's first act is creating a file; the time is when it appears.
# Prints p50/p90/max of each and the median per-pair extra. Target: extra <= 50 ms (median).
# Needs root and slurmctld, slurmd, slurm-client, munge (scripts/install-deps.sh).
#
# Then BENCH_FLOW_JOBS jobs of `true` at once through the executor against an sbatch loop of
# as many `sbatch --wrap true`, each until every job has ended: how fast jobs flow.
#
# Usage: bench/slurm/start_latency.sh [BUILD_DIR]     (default: build)
#   BENCH_PAIRS       interleaved pairs (default 10)
#   BENCH_FLOW_JOBS   jobs of the flow comparison (default 200; 0: skip it)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$repo/$build
"$build/bench/slurm/bench_slurm_start" "${BENCH_PAIRS:-10}"
flow=${BENCH_FLOW_JOBS:-200}
if ((flow > 0)); then "$build/bench/slurm/bench_slurm_start" flow "$flow"; fi
