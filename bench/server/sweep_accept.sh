#!/usr/bin/env bash
# Times POST /api/v1/sweeps with a 10x10x10 grid (1,000 jobs) against `trainyard server`, ten
# times, so the store ends with 10 sweeps x 1,000 jobs; then times listing one sweep's jobs
# (GET /api/v1/jobs?sweep=ID&limit=100 and &limit=1000), 20 times each, with curl's time_total.
# The jobs run `sleep 600` under --max-running 1: one job sleeps, the rest stay queued, so no
# job eats the CPU while the requests are timed. Peer: GET /healthz (the same curl and HTTP
# stack doing no work), 20 times.
# Targets: sweep accepted in <= 1 s; listing one sweep's jobs out of 10,000 in <= 50 ms (median).
#
# Usage: bench/server/sweep_accept.sh [BUILD_DIR]     (default: build)
#   BENCH_SWEEPS   sweeps of 1,000 jobs (default 10)
#   BENCH_RUNS     timed listings of each kind (default 20)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-build}"
sweeps=${BENCH_SWEEPS:-10}
runs=${BENCH_RUNS:-20}

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-sweep-XXXXXX")
trap bench_cleanup EXIT
bench_start_server --max-running 1
dataset=$(bench_small_dataset)

python3 - "$dataset" > "$work/sweep.json" << 'PY'
import json, sys
print(json.dumps({"name": "accept", "trainer": {"command": ["sleep", "600"]}, "executor": "local",
                  "channels": {"training": sys.argv[1]},
                  "grid": {"a": list(range(10)), "b": list(range(10)), "c": list(range(10))}}))
PY

echo "== sweep accept: $sweeps sweeps of 10x10x10 = 1,000 jobs (trainer sleep 600, --max-running 1)"
: > "$work/accept.txt"
sweep_ids=()
for (( i = 0; i < sweeps; i++ )); do
  t=$(api -o "$work/answer.json" -w '%{http_code} %{time_total}' -H 'Content-Type: application/json' \
    --data-binary @"$work/sweep.json" "$url/api/v1/sweeps")
  read -r code seconds <<< "$t"
  [[ $code = 201 ]] || { echo "POST /api/v1/sweeps answered $code:" >&2; cat "$work/answer.json" >&2; exit 1; }
  sweep_ids+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/answer.json")")
  echo "$seconds" >> "$work/accept.txt"
done
total=$(api "$url/api/v1/jobs?limit=1000" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')
echo "jobs listed without a filter (limit=1000): $total"

target=${sweep_ids[$(( sweeps / 2 ))]}
time_get() {  # URL FILE -> appends time_total (s) per run to FILE, checks the count
  local u=$1 file=$2 want=$3 n
  : > "$file"
  api -o "$work/list.json" "$u"  # warm-up
  n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("jobs", [])))' "$work/list.json")
  [[ $want = - || $n = "$want" ]] || { echo "$u listed $n jobs, expected $want" >&2; exit 1; }
  for (( r = 0; r < runs; r++ )); do
    api -o /dev/null -w '%{time_total}\n' "$u" >> "$file"
  done
}
time_get "$url/healthz" "$work/healthz.txt" -
time_get "$url/api/v1/jobs?sweep=$target&limit=100" "$work/list100.txt" 100
time_get "$url/api/v1/jobs?sweep=$target&limit=1000" "$work/list1000.txt" 1000
api -o "$work/list.json" "$url/api/v1/jobs?sweep=$target&limit=1000"
bytes=$(stat -c %s "$work/list.json")

# Stop the sweeps so the one running job ends before the server does.
for id in "${sweep_ids[@]}"; do api -o /dev/null -X POST "$url/api/v1/sweeps/$id/stop"; done

python3 - "$work" "$sweeps" "$bytes" << 'PY'
import statistics, sys
work, sweeps, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name):
    return [float(x) * 1000 for x in open(f"{work}/{name}") if x.strip()]
acc = load("accept.txt")
print(f"POST /api/v1/sweeps (1,000 jobs): median {statistics.median(acc):.1f} ms, "
      f"min {min(acc):.1f}, max {max(acc):.1f} (n={len(acc)}); each: "
      + " ".join(f"{a:.0f}" for a in acc))
print(f"  target <= 1 s (every one): {'MET' if max(acc) <= 1000 else 'MISSED'}")
pct = lambda v, q: sorted(v)[min(len(v) - 1, int(round(q * (len(v) - 1))))]
for name, label, target in (("healthz.txt", "GET /healthz (peer)", None),
                            ("list100.txt", f"GET /api/v1/jobs?sweep=ID&limit=100 (of {sweeps * 1000})", 50),
                            ("list1000.txt", f"GET /api/v1/jobs?sweep=ID&limit=1000 ({nbytes} bytes)", 50)):
    v = load(name)
    line = (f"{label}: median {statistics.median(v):.2f} ms, p90 {pct(v, 0.9):.2f}, "
            f"min {min(v):.2f}, max {max(v):.2f} (n={len(v)})")
    if target:
        line += f"; target <= {target} ms: {'MET' if statistics.median(v) <= target else 'MISSED'}"
    print(line)
PY
