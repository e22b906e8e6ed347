#!/usr/bin/env bash
# Jobs per second through `trainyard server` against `trainyard run`, in the same run: N jobs
# whose command is `true`, 2 at a time (the sweep's max_parallel; `run --parallel 2`), each with
# the same one-line training dataset. The server's time runs from POST /api/v1/sweeps to the
# sweep's last job ended (polled every 20 ms); run's is the whole command. Short trials are what
# a search runs by the hundred: a freed slot must be refilled at once.
# Target: server >= 0.8x of `trainyard run`'s jobs/s.
#
# Usage: bench/server/job_rate.sh [BUILD_DIR]     (default: build)
#   BENCH_JOBS   jobs in each sweep (default 500)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-build}"
jobs=${BENCH_JOBS:-500}

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-job-rate-XXXXXX")
trap bench_cleanup EXIT
now_ns() { date +%s%N; }
values=$(seq -s, 1 "$jobs")

echo "== job rate: $jobs jobs of \`true\`, 2 at a time: trainyard server vs trainyard run"
printf 'x,y\n1,2\n' > "$work/small.csv"
t0=$(now_ns)
"$trainyard" run --name rate --param "i=$values" --parallel 2 --train "$work/small.csv" \
  --wrapper "$wrap" --out "$work/run" -- true > "$work/run.log" 2>&1 \
  || { echo "trainyard run failed:" >&2; tail -20 "$work/run.log" >&2; exit 1; }
run_ns=$(( $(now_ns) - t0 ))

bench_start_server --max-running 2
dataset=$(bench_small_dataset)
python3 - "$dataset" "$jobs" > "$work/sweep.json" << 'PY'
import json, sys
print(json.dumps({"name": "rate", "trainer": {"command": ["true"]}, "executor": "local",
                  "channels": {"training": sys.argv[1]}, "max_parallel": 2,
                  "grid": {"i": list(range(int(sys.argv[2])))}}))
PY
t0=$(now_ns)
sweep=$(api -H 'Content-Type: application/json' --data-binary @"$work/sweep.json" \
  "$url/api/v1/sweeps" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
python3 - "$url" "$token" "$sweep" "$jobs" << 'PY'
import json, sys, time, urllib.request
url, token, sweep, jobs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
request = urllib.request.Request(f"{url}/api/v1/sweeps/{sweep}",
                                 headers={"Authorization": f"Bearer {token}"})
deadline = time.time() + 600
while time.time() < deadline:
    counts = json.load(urllib.request.urlopen(request))["counts"]
    if sum(counts.get(s, 0) for s in ("Completed", "Failed", "Stopped")) == jobs:
        if counts.get("Completed", 0) != jobs:
            sys.exit(f"not every job completed: {counts}")
        sys.exit(0)
    time.sleep(0.02)
sys.exit("the sweep did not end within 600 s")
PY
server_ns=$(( $(now_ns) - t0 ))

python3 - "$jobs" "$run_ns" "$server_ns" << 'PY'
import sys
jobs, run_s, server_s = int(sys.argv[1]), int(sys.argv[2]) / 1e9, int(sys.argv[3]) / 1e9
run_rate, server_rate = jobs / run_s, jobs / server_s
print(f"trainyard run:    {run_s:7.2f} s  {run_rate:7.1f} jobs/s")
print(f"trainyard server: {server_s:7.2f} s  {server_rate:7.1f} jobs/s")
ratio = server_rate / run_rate
print(f"server / run: {ratio:.2f}x; target >= 0.8x: {'MET' if ratio >= 0.8 else 'MISSED'}")
PY
