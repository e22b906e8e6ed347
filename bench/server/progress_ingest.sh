#!/usr/bin/env bash
# Progress ingestion: the job progress callback (POST /api/v1/jobs/NAME/progress, SQLite store)
# under load, with bench_progress_load (bench/server/progress_load.cc: keep-alive connections,
# epoll; the SSE clients in the same program, on their own thread). Four phases of
# BENCH_SECONDS each, against one `trainyard server`:
#   A  GET /healthz as fast as answers come, no SSE clients   (peer: the HTTP stack alone)
#   B  progress POSTs as fast as answers come, no SSE clients
#   C  progress POSTs as fast as answers come, 500 clients on GET /api/v1/events
#   G  progress POSTs as fast as answers come, 500 GraphQL subscribers (WebSocket,
#      graphql-transport-ws, jobUpdates of the job) instead of the SSE clients
#   D  progress POSTs paced at 5,000/s, 500 clients on GET /api/v1/events
# Each POST carries {"progress": 0.5, "bench_sent_ns": CLOCK_REALTIME}; delivery latency is
# receive - sent for every event reaching the first 20 clients; every client's events are counted,
# and each must end with the latest progress (a client that falls behind gets progress conflated).
# Also prints the CPU time the server (and its busiest threads) used in each phase.
# Targets (issue 17): >= 10,000 POSTs/s while 500 clients are connected (C), delivery p99
# <= 100 ms (C, G and D), no client dropped, each with the latest progress; G at >= 0.8x C's
# throughput.
#
# Usage: bench/server/progress_ingest.sh [BUILD_DIR]     (default: build)
#   BENCH_SECONDS       seconds per phase (default 10)
#   BENCH_CLIENTS       SSE clients (default 500)
#   BENCH_CONNECTIONS   keep-alive connections sending requests (default 8)
#   BENCH_RATE          phase D's pace (default 5000)
#   BENCH_PERF=1        also `perf record -g` the server during one phase and print its CPU by
#                       thread and the top symbols (where the time goes)
#   BENCH_PERF_PHASE    that phase (default C)
#   BENCH_PERF_KEEP     with BENCH_PERF=1: copy perf.data there (for perf report -g caller)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-build}"
seconds=${BENCH_SECONDS:-10}
clients=${BENCH_CLIENTS:-500}
connections=${BENCH_CONNECTIONS:-8}
rate=${BENCH_RATE:-5000}
load=$build/bench/server/bench_progress_load
[[ -x $load ]] || { echo "missing $load; build it first (cmake --build $build --target bench_progress_load)" >&2; exit 2; }
# 500 SSE sockets + connections: both ends in this machine.
ulimit -n 4096 2> /dev/null || true

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-ingest-XXXXXX")
sweep_id=
cleanup() {
  [[ -n $sweep_id && -n ${server_pid:-} ]] && api -o /dev/null -X POST "$url/api/v1/sweeps/$sweep_id/stop" || true
  bench_cleanup
}
trap cleanup EXIT
bench_start_server
dataset=$(bench_small_dataset)

# One job that runs (sleeps) for the whole benchmark: the callback is accepted only while it runs.
sweep_id=$(api -H 'Content-Type: application/json' --data-binary \
  "{\"name\":\"ingest\",\"trainer\":{\"command\":[\"sleep\",\"600\"]},\"channels\":{\"training\":\"$dataset\"}}" \
  "$url/api/v1/sweeps" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
job=$(api "$url/api/v1/jobs?sweep=$sweep_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["name"])')

# The job's token and callback URL. They live only in the trainyard-wrap process's environment;
# reading /proc/PID/environ of our own child is fine for a benchmark (nothing else should).
read -r job_token callback_url < <(python3 - "$job" "$server_pid" << 'PY'
import os, sys, time
job, server = sys.argv[1], sys.argv[2]
deadline = time.time() + 30
while time.time() < deadline:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if not open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[0].endswith(b"trainyard-wrap"):
                continue
            env = dict(kv.split(b"=", 1) for kv in open(f"/proc/{pid}/environ", "rb").read().split(b"\0") if b"=" in kv)
        except OSError:
            continue
        if env.get(b"TRAINING_JOB_NAME") == job.encode() and b"TRAINYARD_JOB_TOKEN" in env:
            print(env[b"TRAINYARD_JOB_TOKEN"].decode(), env[b"TRAINYARD_CALLBACK_URL"].decode())
            sys.exit(0)
    time.sleep(0.1)
sys.exit("no trainyard-wrap process for " + job)
PY
)
callback_path=/${callback_url#http://*/}
port=${url##*:}
echo "== progress ingestion: job $job, callback $callback_path, $seconds s per phase," \
  "$connections connections, $clients SSE clients"

cpu_ticks() {  # server utime+stime in clock ticks, then per-thread "tid ticks"
  awk '{print $14 + $15}' "/proc/$server_pid/stat"
}
thread_ticks() {
  local t
  for t in /proc/"$server_pid"/task/*; do
    awk -v t="${t##*/}" '{print t, $14 + $15}' "$t/stat" 2> /dev/null || true
  done
}
hz=$(getconf CLK_TCK)

perf_phase=
if [[ ${BENCH_PERF:-0} = 1 ]] && command -v perf > /dev/null; then perf_phase=${BENCH_PERF_PHASE:-C}; fi

perf_report() {  # the server's CPU by thread, then the top symbols (self time)
  echo "-- perf, phase $perf_phase: server CPU by thread, then the top symbols (self time)"
  # Into files, then the first lines (no pipe that `head` closes early: pipefail).
  perf report -i "$work/perf.data" --stdio --no-children -g none --sort pid \
    > "$work/perf-threads.txt" 2> /dev/null
  perf report -i "$work/perf.data" --stdio --no-children -g none --sort dso,sym \
    > "$work/perf-symbols.txt" 2> /dev/null
  awk '!/^#/ && NF && n++ < 8' "$work/perf-threads.txt"
  awk '!/^#/ && NF && n++ < 40' "$work/perf-symbols.txt"
  if [[ -n ${BENCH_PERF_KEEP:-} ]]; then cp "$work/perf.data" "$BENCH_PERF_KEEP"; fi
}

phase() {  # NAME then bench_progress_load arguments
  local name=$1; shift
  local c0 c1 perf_pid=
  if [[ $name = "$perf_phase" ]]; then
    perf record -q -g -p "$server_pid" -o "$work/perf.data" -- sleep "$(( seconds + 1 ))" \
      > "$work/perf.log" 2>&1 &
    perf_pid=$!
  fi
  c0=$(cpu_ticks); thread_ticks > "$work/threads0"
  "$load" --port "$port" --connections "$connections" --duration "$seconds" "$@" > "$work/$name.out" \
    2> "$work/$name.err" || { echo "phase $name failed:" >&2; cat "$work/$name.err" >&2; exit 1; }
  c1=$(cpu_ticks); thread_ticks > "$work/threads1"
  if [[ -n $perf_pid ]]; then
    wait "$perf_pid" || true
    perf_report
  fi
  echo "server_cpu_seconds $(( c1 - c0 ))" | awk -v hz="$hz" '{printf "%s %.2f\n", $1, $2 / hz}' >> "$work/$name.out"
  # The server's busiest threads in this phase (a thread that is new or gone counts from 0).
  awk 'NR == FNR {a[$1] = $2; next} {d = $2 - a[$1]; if (d > 0) print d, $1}' \
    "$work/threads0" "$work/threads1" | sort -rn | head -4 |
    awk -v hz="$hz" '{printf "busiest_thread %s %.2f\n", $2, $1 / hz}' >> "$work/$name.out"
  [[ -s $work/$name.err ]] && sed 's/^/  (stderr) /' "$work/$name.err" | head -5
  return 0
}

sse=(--clients "$clients" --sse-path "/api/v1/events" --sse-bearer "$token" --sampled 20)
post=(--method POST --path "$callback_path" --bearer "$job_token" --job "$job")
phase A --method GET --path /healthz
phase B "${post[@]}"
phase C "${post[@]}" "${sse[@]}"
phase G "${post[@]}" --clients "$clients" --sse-path /graphql --sse-bearer "$token" --sampled 20 \
  --ws-job "$job"
phase D "${post[@]}" "${sse[@]}" --rate "$rate"

python3 - "$work" "$clients" "$seconds" "$rate" << 'PY'
import sys
work, clients, seconds, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(name):
    d, busiest = {}, []
    for line in open(f"{work}/{name}.out"):
        k, *v = line.split()
        if k == "busiest_thread":
            busiest.append(f"tid {v[0]} {float(v[1]):.2f} s")
        else:
            d[k] = float(v[0])
    d["busiest"] = ", ".join(busiest)
    return d
titles = {"A": "GET /healthz, no SSE clients (peer)",
          "B": "progress POST, no SSE clients",
          "C": f"progress POST, {clients} SSE clients",
          "G": f"progress POST, {clients} GraphQL subscribers (WebSocket)",
          "D": f"progress POST paced at {rate}/s, {clients} SSE clients"}
res = {}
for name, title in titles.items():
    d = res[name] = load(name)
    print(f"{name} {title}: {d['requests_per_second']:.0f} req/s ({d['requests_ok']:.0f} ok, "
          f"{d['requests_failed']:.0f} non-2xx, {d['errors']:.0f} errors in {d['seconds']:.1f} s); "
          f"answer p50 {d['answer_ms_p50']:.2f} ms, p99 {d['answer_ms_p99']:.2f} ms; "
          f"CPU: server {d['server_cpu_seconds']:.2f} s, load generator {d['load_generator_cpu_seconds']:.2f} s")
    print(f"    busiest server threads: {d['busiest']}")
    if "sse_clients_connected" in d and d.get("latency_samples") is not None and "events_total" in d:
        print(f"    SSE: {d['sse_clients_connected']:.0f} connected, {d['sse_clients_dropped']:.0f} dropped "
              f"by the end; events per client min {d['events_per_client_min']:.0f} / median "
              f"{d['events_per_client_median']:.0f} of {d['requests_ok']:.0f} POSTs (a slow client gets "
              f"progress conflated); {d['sse_clients_with_latest_progress']:.0f} with the latest progress; "
              f"{d['events_delivered_per_second']:.0f} events/s delivered in all")
        print(f"    delivery latency ({d['latency_samples']:.0f} samples, first 20 clients): "
              f"p50 {d['delivery_ms_p50']:.1f} ms, p90 {d['delivery_ms_p90']:.1f}, "
              f"p99 {d['delivery_ms_p99']:.1f}, max {d['delivery_ms_max']:.1f}")
c, dd = res["C"], res["D"]
print(f"target >= 10,000 POSTs/s with {clients} clients connected: {c['requests_per_second']:.0f}/s "
      f"{'MET' if c['requests_per_second'] >= 10000 else 'MISSED'}")
g = res["G"]
print(f"target GraphQL subscribers >= 0.8x the event stream's throughput: G {g['requests_per_second']:.0f}/s "
      f"vs C {c['requests_per_second']:.0f}/s ({g['requests_per_second'] / max(c['requests_per_second'], 1):.2f}x) "
      f"{'MET' if g['requests_per_second'] >= 0.8 * c['requests_per_second'] else 'MISSED'}")
for name in ("C", "G", "D"):
    d = res[name]
    # Progress is conflated for a client that falls behind: what each must have is the latest.
    lost = d["sse_clients_dropped"] > 0 or d["sse_clients_with_latest_progress"] < clients
    ok = d["delivery_ms_p99"] <= 100 and d["latency_samples"] > 0 and not lost
    print(f"target delivery p99 <= 100 ms ({name}): p99 {d['delivery_ms_p99']:.1f} ms"
          f"{', clients dropped or without the latest progress' if lost else ''}: {'MET' if ok else 'MISSED'}")
PY
