#!/usr/bin/env bash
# The SageMaker-compatible endpoint: CreateTrainingJob -> InProgress and -> the user's code
# running (target <= 100 ms with the local executor), against a bare posix_spawn of the same
# code; DescribeTrainingJob p50 under 100 concurrent pollers, against an empty handler.
#
# Usage: bench/sagemaker/endpoint.sh [BUILD_DIR] [JOBS] [POLL_SECONDS]   (defaults: build 30 10)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
[[ $build = /* ]] || build=$repo/$build
"$build/bench/sagemaker/bench_sagemaker_endpoint" "$build/apps/trainyard-wrap" "${2:-30}" "${3:-10}"
