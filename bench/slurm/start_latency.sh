#!/usr/bin/env bash
# Times submit -> user code running for a Slurm job: the slurm executor (Submit, job root laid
# out, batch script written, sbatch, trainyard-wrap on the node) against a bare `sbatch --wrap`
# of the same command, each alone on the idle node of a one-node cluster started from Debian's
# packages in a temp dir (tests/support/slurm_cluster.h), in interleaved pairs (order
# alternates). The user code's first act is creating a file; the time is when it appears.
# Prints p50/p90/max of each and the median per-pair extra. Target: extra <= 50 ms (median).
# Needs root and slurmctld, slurmd, slurm-client, munge (scripts/install-deps.sh).
# (How fast 1,000 jobs flow through `trainyard server` against an sbatch loop: flow.sh.)
#
# Usage: bench/slurm/start_latency.sh [BUILD_DIR]     (default: build)
#   BENCH_PAIRS       interleaved pairs (default 10)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$repo/$build
"$build/bench/slurm/bench_slurm_start" "${BENCH_PAIRS:-10}"
