#!/usr/bin/env bash
# Times start -> user code running for a container job: the container executor (Submit, job root
# laid out, `podman run ... IMAGE train -- sh -c ...` through trainyard-wrap) against a bare
# `podman run --entrypoint /bin/sh` of the same image over a mounted directory, in interleaved
# pairs in one process. The user code's first act is creating /opt/ml/started; the time is when
# that file appears on the host. Prints the median of each and the median per-pair extra.
# Uses podman with src/executor/container/containers.conf and the image examples/container/
# build-image.sh builds from this build (nothing is pulled).
# Target: extra <= 50 ms (median).
#
# Usage: bench/container/start_latency.sh [BUILD_DIR]     (default: build)
#   BENCH_PAIRS   interleaved pairs (default 15)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$repo/$build
pairs=${BENCH_PAIRS:-15}
bench=$build/bench/container/bench_container_start
wrap=$build/apps/trainyard-wrap
trainer=$build/examples/trainer/trainyard-example-trainer
for bin in "$bench" "$wrap" "$trainer"; do
  [[ -x $bin ]] || { echo "missing $bin; build it first (make build)" >&2; exit 2; }
done
command -v podman > /dev/null || { echo "skipped: podman is not installed" >&2; exit 0; }
export CONTAINERS_CONF=$repo/src/executor/container/containers.conf
image=localhost/trainyard-example-trainer:test
sh "$repo/examples/container/build-image.sh" "$wrap" "$trainer" "$image"

echo "== start -> user code running: container executor vs bare podman run, $pairs pairs"
echo "   podman $(podman version --format '{{.Client.Version}}'), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}')"
"$bench" "$image" "$CONTAINERS_CONF" "$pairs"
