#!/usr/bin/env bash
# Times a sweep of N jobs whose command is `true` (`trainyard run --parallel 2`) end to end,
# against a shell loop that forks `true` N times, and prints jobs/second and the per-job overhead
# ((sweep time - loop time) / N). Target: overhead <= 10 ms per job.
# Also prints the median time of each phase of one job, from the secondary_status_transitions in
# OUT/<job>/status.json, to show where the time goes.
#
# Usage: bench/launch_rate.sh [BUILD_DIR]     (default: build)
#   BENCH_JOBS       jobs in the sweep (default 200)
#   BENCH_PARALLEL   --parallel (default 2)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$repo/$build
trainyard=$build/apps/trainyard
wrap=$build/apps/trainyard-wrap
jobs=${BENCH_JOBS:-200}
parallel=${BENCH_PARALLEL:-2}
for bin in "$trainyard" "$wrap"; do
  [[ -x $bin ]] || { echo "missing $bin; build it first (make build)" >&2; exit 2; }
done
command -v python3 > /dev/null || { echo "needs python3" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-launch-XXXXXX")
trap 'rm -rf "$work"' EXIT
unset TRAINYARD_CALLBACK_URL TRAINYARD_JOB_TOKEN TRAINYARD_COMMAND TRAINYARD_JOB_JSON \
  TRAINYARD_ML_ROOT

values=$(seq -s, 1 "$jobs")
now_ns() { date +%s%N; }

echo "== launch rate: $jobs jobs running \`true\`, --parallel $parallel"
t0=$(now_ns)
for (( i = 0; i < jobs; i++ )); do /usr/bin/true; done
t1=$(now_ns)
loop_ns=$(( t1 - t0 ))

t0=$(now_ns)
"$trainyard" run --name launch --param "i=$values" --parallel "$parallel" \
  --wrapper "$wrap" --out "$work/out" -- true > "$work/run.log" 2>&1 \
  || { echo "trainyard run failed:" >&2; tail -20 "$work/run.log" >&2; exit 1; }
t1=$(now_ns)
sweep_ns=$(( t1 - t0 ))

python3 - "$work/out" "$jobs" "$loop_ns" "$sweep_ns" "$parallel" << 'PY'
import datetime, glob, json, os, statistics, sys

out, jobs, loop_ns, sweep_ns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
parallel = int(sys.argv[5])
loop_s, sweep_s = loop_ns / 1e9, sweep_ns / 1e9
over_ms = (sweep_s - loop_s) / jobs * 1000
print(f"shell loop:    {loop_s:8.3f} s  ({jobs / loop_s:8.1f} forks/s)")
print(f"trainyard run: {sweep_s:8.3f} s  ({jobs / sweep_s:8.1f} jobs/s)")
print(f"overhead per job: {over_ms:.1f} ms  ((sweep - loop) / {jobs}); target <= 10 ms: "
      f"{'MET' if over_ms <= 10 else 'MISSED'}")

def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

# Phase durations per job from status.json (each transition's start to the next's).
phases, completed = {}, 0
for path in glob.glob(os.path.join(out, "*", "status.json")):
    try:
        st = json.load(open(path))
    except (OSError, ValueError):
        continue
    tr = st.get("secondary_status_transitions") or st.get("SecondaryStatusTransitions") or []
    if st.get("status", st.get("TrainingJobStatus")) in ("Completed",):
        completed += 1
    for t in tr:
        name = t.get("status") or t.get("Status")
        start = t.get("start_time") or t.get("StartTime")
        end = t.get("end_time") or t.get("EndTime")
        if name and start and end:
            try:
                phases.setdefault(name, []).append((ts(end) - ts(start)) * 1000)
            except (TypeError, ValueError):
                pass
print(f"jobs with status.json: {len(glob.glob(os.path.join(out, '*', 'status.json')))}, "
      f"Completed: {completed}")
if phases:
    print("per-job phase medians (status.json secondary_status_transitions):")
    for name, v in phases.items():
        print(f"  {name:<12} median {statistics.median(v):8.1f} ms  (n={len(v)})")
    in_job = sum(statistics.median(v) for v in phases.values())
    slot = sweep_s * parallel / jobs * 1000
    print(f"  sum of phase medians {in_job:.1f} ms per job; each of the {parallel} slots spends "
          f"{slot:.1f} ms per job, so ~{slot - in_job:.1f} ms per job is outside the phases "
          f"(scheduler polling, sweep setup/teardown)")
PY
