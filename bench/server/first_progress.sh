#!/usr/bin/env bash
# Times, for a local job, POST /api/v1/sweeps (one job) -> the first `job.progress` event on
# GET /api/v1/events (server-sent events, subscribed before the POST). The trainer is a shell
# script that appends {"progress": 0.1} to job.json's progress_file at once, then sleeps 2 s (so
# the progress reaches the server through the wrapper's periodic report, not its final one).
# 20 runs, one job at a time (each run waits for the job's end). Also prints when the other
# events of the job arrived (job.created, each job.status), to show where the time goes.
# The server runs with --progress-interval 1 (its minimum: whole seconds).
# Target: p50 <= 50 ms.
#
# Usage: bench/server/first_progress.sh [BUILD_DIR]     (default: build)
#   BENCH_RUNS   runs (default 20)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-build}"
runs=${BENCH_RUNS:-20}

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-firstprog-XXXXXX")
trap bench_cleanup EXIT
bench_start_server
dataset=$(bench_small_dataset)

cat > "$work/trainer.sh" << 'SH'
#!/bin/sh
# Finds progress_file in job.json (written by trainyard-wrap, path in TRAINYARD_JOB_JSON).
f=$(sed -n 's/.*"progress_file": *"\([^"]*\)".*/\1/p' "$TRAINYARD_JOB_JSON")
echo '{"progress": 0.1}' >> "$f"
sleep 2
SH
chmod +x "$work/trainer.sh"

echo "== submit -> first job.progress: $runs runs, one local job each (--progress-interval 1)"
python3 - "$url" "$token" "$dataset" "$work/trainer.sh" "$runs" << 'PY'
import http.client, json, socket, statistics, sys, threading, time, urllib.parse

url, token, dataset, trainer, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port

events = []          # (perf_counter, type, job_name, data)
cond = threading.Condition()

def reader():
    s = socket.create_connection((host, port))
    s.sendall((f"GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode())
    buf = b""
    headers_done = False
    while True:
        chunk = s.recv(65536)
        now = time.perf_counter()
        if not chunk:
            return
        buf += chunk
        if not headers_done:
            if b"\r\n\r\n" not in buf:
                continue
            head, buf = buf.split(b"\r\n\r\n", 1)
            headers_done = True
            with cond:
                events.append((now, "_connected", "", {}))
                cond.notify_all()
        # Chunked transfer encoding or not: find "event:" / "data:" lines either way.
        while b"\n\n" in buf:
            block, buf = buf.split(b"\n\n", 1)
            etype, data = None, None
            for line in block.split(b"\n"):
                line = line.rstrip(b"\r")
                if line.startswith(b"event: "):
                    etype = line[7:].decode()
                elif line.startswith(b"data: "):
                    try:
                        data = json.loads(line[6:])
                    except ValueError:
                        data = None
            if etype and data:
                with cond:
                    events.append((now, etype, data.get("job_name", ""), data.get("data", {})))
                    cond.notify_all()

threading.Thread(target=reader, daemon=True).start()
def wait_for(pred, timeout):
    deadline = time.monotonic() + timeout
    with cond:
        while True:
            hit = next((e for e in events if pred(e)), None)
            if hit or time.monotonic() > deadline:
                return hit
            cond.wait(0.05)
if not wait_for(lambda e: e[1] == "_connected", 10):
    sys.exit("the event stream did not connect")

conn = http.client.HTTPConnection(host, port)
first_progress, phases = [], {}
for run in range(runs):
    body = json.dumps({"name": f"firstprog{run}", "trainer": {"command": [trainer]},
                       "executor": "local", "channels": {"training": dataset}})
    t0 = time.perf_counter()
    conn.request("POST", "/api/v1/sweeps", body,
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    answer = conn.getresponse()
    payload = answer.read()
    t_answer = time.perf_counter()
    if answer.status != 201:
        sys.exit(f"POST /api/v1/sweeps answered {answer.status}: {payload[:300]}")
    sweep = json.loads(payload)
    sweep_id = sweep["id"]
    job = None
    ev = wait_for(lambda e: e[0] >= t0 and e[1] == "job.created" and e[3] is not None and
                  True, 10)
    # The job name: from the job list (the sweep's only job).
    conn.request("GET", f"/api/v1/jobs?sweep={sweep_id}", headers={"Authorization": f"Bearer {token}"})
    job = json.loads(conn.getresponse().read())["jobs"][0]["name"]
    hit = wait_for(lambda e: e[1] == "job.progress" and e[2] == job, 15)
    if not hit:
        sys.exit(f"no job.progress event for {job} within 15 s")
    first_progress.append((hit[0] - t0) * 1000)
    phases.setdefault("POST answered", []).append((t_answer - t0) * 1000)
    end = wait_for(lambda e: e[1] == "job.status" and e[2] == job and
                   e[3].get("status") in ("Completed", "Failed", "Stopped"), 20)
    with cond:
        mine = [e for e in events if e[2] == job]
    seen = set()
    for t, etype, _, data in mine:
        key = etype if etype != "job.status" else \
            f"job.status {data.get('status')}/{data.get('secondary_status')}"
        if key not in seen:
            seen.add(key)
            phases.setdefault(key, []).append((t - t0) * 1000)
    if not end:
        sys.exit(f"{job} did not end within 20 s")

v = sorted(first_progress)
pct = lambda q: v[min(len(v) - 1, int(round(q * (len(v) - 1))))]
print("median arrival after the POST, per event (first of each kind per job):")
for key, vals in sorted(phases.items(), key=lambda kv: statistics.median(kv[1])):
    print(f"  {statistics.median(vals):9.1f} ms  {key}  (n={len(vals)})")
print(f"POST -> first job.progress: p50 {statistics.median(v):.1f} ms, p90 {pct(0.9):.1f} ms, "
      f"min {v[0]:.1f}, max {v[-1]:.1f} (n={len(v)})")
print(f"  target p50 <= 50 ms: {'MET' if statistics.median(v) <= 50 else 'MISSED'}")
PY
