#!/usr/bin/env bash
# How fast jobs flow through Slurm: N jobs of `true` (BENCH_FLOW_JOBS, default 1,000) as one
# sweep through `trainyard server` with the slurm executor (shared-directory mode), against a bash
# loop of N `sbatch --wrap true`, on the same one-node cluster in the same run, the server's
# phase first. Each phase is timed from its first submit (the POST of the sweep; the loop's first
# sbatch) to its last job ended (the sweep's counts, polled every second; the loop's: squeue
# showing none of its jobs, polled every second once the loop is done), and its submit
# throughput to its last sbatch answered (the server's log line "submitted to Slurm as job",
# timestamped; the loop's end).
#
# The cluster (tests/support/slurm_cluster.h, held by bench_slurm_cluster) is tuned as Slurm's
# high-throughput guide says: MaxJobCount far above N, MinJobAge=10 (ended jobs leave the
# controller's tables, and every squeue listing, after 10 s rather than 300), and
# SchedulerParameters that keep a burst of submissions from running a scheduling pass each
# (sched_min_interval: at most one per 0.1 s; max_rpc_cnt: none while 150 RPCs wait); the node
# declares BENCH_FLOW_SLOTS (default 8) CPUs, job slots for jobs
# that hardly use one (SlurmdParameters=config_overrides).
# Needs root and slurmctld, slurmd, slurm-client, munge (scripts/install-deps.sh).
#
# Usage: bench/slurm/flow.sh [BUILD_DIR]     (default: build)
#   BENCH_FLOW_JOBS    jobs in each phase (default 1000)
#   BENCH_FLOW_SLOTS   the node's CPUs (default 8)
set -euo pipefail
source "$(dirname "$0")/../server/lib.sh"
bench_init "${1:-build}"
jobs=${BENCH_FLOW_JOBS:-1000}
slots=${BENCH_FLOW_SLOTS:-8}
holder=$build/bench/slurm/bench_slurm_cluster
[[ -x $holder ]] || { echo "missing $holder; build it first" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-slurm-flow-XXXXXX")
cluster_pid=
cleanup() {
  bench_stop_server
  exec 3>&- 2> /dev/null || true  # the holder stops the cluster when its input closes
  [[ -n $cluster_pid ]] && wait "$cluster_pid" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT

mkfifo "$work/hold"
"$holder" --cpus "$slots" "MaxJobCount=$((jobs * 10 > 10000 ? jobs * 10 : 10000))" \
  "MinJobAge=10" \
  "SchedulerParameters=max_rpc_cnt=150,sched_min_interval=100000" \
  < "$work/hold" > "$work/cluster.out" 2>&1 &
cluster_pid=$!
exec 3> "$work/hold"
for (( i = 0; i < 600; i++ )); do
  grep -q '^ready$' "$work/cluster.out" && break
  kill -0 "$cluster_pid" 2> /dev/null || { cat "$work/cluster.out" >&2; exit 2; }
  sleep 0.1
done
grep -q '^ready$' "$work/cluster.out" || { echo "the cluster did not start" >&2; exit 2; }
SLURM_CONF=$(sed -n 's/^SLURM_CONF=//p' "$work/cluster.out")
partition=$(sed -n 's/^partition=//p' "$work/cluster.out")
export SLURM_CONF

echo "== slurm flow: $jobs jobs of \`true\` on one node ($slots job slots, $(nproc) cores)," \
  "trainyard server vs an sbatch loop; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# Follows the server's phase: the sweep's counts every second until every job has ended, then
# the time of the last sbatch answer from the server's log. Prints "<submitted s> <ended s>"
# from $1 (ns since the epoch).
follow_server() {
  python3 - "$@" << 'PY'
import datetime, json, re, sys, time, urllib.request
start, jobs, sweep_url, token, log = int(sys.argv[1]) / 1e9, int(sys.argv[2]), *sys.argv[3:6]
request = urllib.request.Request(sweep_url, headers={"Authorization": f"Bearer {token}"})
deadline = time.time() + 3600
while time.time() < deadline:
    counts = json.load(urllib.request.urlopen(request))["counts"]
    if sum(counts.get(s, 0) for s in ("Completed", "Failed", "Stopped")) == jobs:
        break
    time.sleep(1)
else:
    sys.exit(f"the sweep did not end within an hour: {counts}")
ended = time.time() - start
if counts.get("Completed", 0) != jobs:
    sys.exit(f"not every job completed: {counts}")
submits = [datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()
           for m in re.finditer(r"^(\S+) info executor: job=\S+ submitted to Slurm as job",
                                open(log).read(), re.M)]
if len(submits) != jobs:
    sys.exit(f"{len(submits)} of {jobs} submissions in the server's log")
print(f"{max(submits) - start:.2f} {ended:.2f}")
PY
}
now_ns() { date +%s%N; }

# Phase 1: trainyard server, the sweep's jobs all at once.
bench_start_server --slurm-partition "$partition" --executor-limit "slurm=$jobs" \
  --max-running "$jobs"
dataset=$(bench_small_dataset)
python3 - "$dataset" "$jobs" > "$work/sweep.json" << 'PY'
import json, sys
print(json.dumps({"name": "flow", "trainer": {"command": ["true"]}, "executor": "slurm",
                  "channels": {"training": sys.argv[1]}, "max_parallel": int(sys.argv[2]),
                  "grid": {"i": list(range(int(sys.argv[2])))}}))
PY
t0=$(now_ns)
sweep=$(api -H 'Content-Type: application/json' --data-binary @"$work/sweep.json" \
  "$url/api/v1/sweeps" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
read -r server_submitted server_ended < <(follow_server "$t0" "$jobs" \
  "$url/api/v1/sweeps/$sweep" "$token" "$work/server.log")
echo "load average after the server's phase: $(cut -d' ' -f1-3 /proc/loadavg)"
bench_stop_server

# Phase 2: the loop, on the same cluster once it is idle.
until listed=$(squeue --noheader --format=%i) && [[ -z $listed ]]; do sleep 1; done
: > "$work/loop-ids"
t0=$(now_ns)
for (( i = 0; i < jobs; i++ )); do
  sbatch --parsable --partition "$partition" --output=/dev/null --wrap true >> "$work/loop-ids"
done
loop_ns=$(( $(now_ns) - t0 ))
# Ended when squeue (pending, running, completing) lists none of the loop's jobs.
while true; do
  listed=$(squeue --noheader --format=%i) || { sleep 1; continue; }
  grep -qxFf "$work/loop-ids" <<< "$listed" || break
  sleep 1
done
loop_ended_ns=$(( $(now_ns) - t0 ))
echo "load average after the loop: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$jobs" "$server_submitted" "$server_ended" "$loop_ns" "$loop_ended_ns" << 'PY'
import sys
jobs = int(sys.argv[1])
server_submitted, server_ended = float(sys.argv[2]), float(sys.argv[3])
loop_submitted, loop_ended = int(sys.argv[4]) / 1e9, int(sys.argv[5]) / 1e9
print(f"{'':24} {'all submitted':>14} {'submits/s':>10} {'all ended':>10} {'jobs/s':>8}")
for name, submitted, ended in (("trainyard server", server_submitted, server_ended),
                               ("sbatch loop", loop_submitted, loop_ended)):
    print(f"{name:24} {submitted:12.1f} s {jobs / submitted:10.1f} {ended:8.1f} s "
          f"{jobs / ended:8.2f}")
print(f"trainyard / loop, jobs/s: {loop_ended / server_ended:.2f}x")
PY
