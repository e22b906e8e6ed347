#!/usr/bin/env python3
"""API reads and progress ingestion with 1, 2 and 3 `trainyard server` replicas on one
PostgreSQL 15, and 1 server on SQLite, in one run (issue 18; docs/scale-out.md, docs/benchmarks.md).

What it starts, all on loopback and in one temp dir that it removes on exit:
  - PostgreSQL 15 from Debian's packages (/usr/lib/postgresql/15/bin, or
    $TRAINYARD_POSTGRES_BIN_DIR), as tests/support/postgres_fixture.cc starts it: initdb into the
    temp dir, run as `nobody` when this runs as root (PostgreSQL refuses root), a free loopback
    port and a private unix socket, trust on loopback; with pg_stat_statements loaded (where the
    database's time goes) and synchronous_commit=off (fsync stays on), the durability of the
    SQLite store's WAL with synchronous=NORMAL (a commit survives the process, not the machine);
  - `trainyard server` on SQLite (its data dir), then replica r1 on PostgreSQL, then r2 and r3
    beside it (`--metadata postgresql://...`, `--replica-id rN`, each its own `--data-dir`, one
    shared `--objects` dir, the same `--token` and `--max-running`);
  - nginx (Debian's package) with the load-balancer configuration of docs/scale-out.md, read
    from that page (its ```nginx block; the three `server hostN:8080` lines pointed at r1..r3 and
    `listen` at a loopback port, TLS lines left out), in front of the three replicas.

In each configuration the same store: one sweep of 1,000 jobs (`sleep 3600`) of which
--running (24) run (`--max-running 24`, all on the first server) and the rest stay queued. Then,
BENCH_SECONDS each, with bench_progress_load (bench/server/progress_load.cc: C keep-alive
connections on epoll, connection i to replica i % N, so requests spread round-robin over the
replicas), as fast as answers come:
  healthz    GET /healthz (peer: the HTTP stack doing no work)
  get_job    GET /api/v1/jobs/NAME, the 1,000 jobs in turn
  list_jobs  GET /api/v1/jobs?sweep=ID&limit=100
  progress   POST /api/v1/jobs/NAME/progress over the running jobs (each job's own token, read
             from its trainyard-wrap process's environment as bench/server/progress_ingest.sh
             reads it); a POST may reach any replica, which checks the token in the shared store
For every phase: requests/s, answer p50/p99, the answers per replica, and the CPU seconds of each
server, of PostgreSQL (postmaster and backends), of nginx, of the load generator, and of the
whole machine (/proc/stat: what the others on the machine used shows as "other"); for PostgreSQL
phases also the statements that took its time (pg_stat_statements, reset before each phase).
Through nginx besides: events pass through (20 SSE clients on /api/v1/events and then 20
GraphQL subscribers over WebSocket on /graphql, both through nginx, while progress is POSTed
through it: each must end with the latest progress), and draining (SIGUSR1 to r3 halfway through
a get_job phase through nginx: its /healthz must answer 503; then SIGTERM: the failed answers
are counted).

Usage: bench/replicas/replicas.py [--build-dir build] [--seconds 8] [--connections 12]
                                  [--running 24] [--no-nginx] [--json FILE]
Needs: the build's apps/trainyard and bench/server/bench_progress_load; postgresql-15 (and its
pg_stat_statements, in the same package); nginx (skipped, saying so, when missing).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types

from cluster import (REPO, CpuGroups, Nginx, Postgres, Server, api, fail, nginx_installed,
                     wrap_processes)


class Store:
    """The benchmark's records in one configuration: one sweep of 1,000 jobs, `running` of them
    running; the targets files for the load generator."""

    def __init__(self, args, work, label, server, token):
        self.url, self.token = server.url, token
        dataset = api(self.url, token,
                      "/api/v1/datasets?name=small&kind=training&filename=small.csv", "POST",
                      b"x,y\n1,2\n", "text/csv")["id"]
        sweep = {"name": f"bench-{label}", "trainer": {"command": ["sleep", "3600"]},
                 "executor": "local", "channels": {"training": dataset},
                 "grid": {"a": list(range(10)), "b": list(range(10)), "c": list(range(10))}}
        self.sweep = api(self.url, token, "/api/v1/sweeps", "POST",
                         json.dumps(sweep).encode())["id"]
        jobs = api(self.url, token, f"/api/v1/jobs?sweep={self.sweep}&limit=1000")["jobs"]
        names = {j["name"] for j in jobs}
        if len(names) != 1000:
            fail(f"the sweep listed {len(names)} jobs, not 1,000")
        deadline = time.time() + 120
        while True:
            running = [w for w in wrap_processes() if w[0] in names]
            if len(running) == args.running:
                break
            if time.time() > deadline:
                fail(f"{len(running)} of {args.running} jobs running after 120 s")
            time.sleep(0.2)
        base = os.path.join(work, label)
        self.files = {
            "get_job": self.write(base + "-get_job.txt",
                                  [f"/api/v1/jobs/{n}\t{token}\t-" for n in sorted(names)]),
            "list_jobs": self.write(base + "-list_jobs.txt",
                                    [f"/api/v1/jobs?sweep={self.sweep}&limit=100\t{token}\t-"]),
            "progress": self.write(base + "-progress.txt",
                                   [f"/{cb.split('/', 3)[3]}\t{tok}\t{n}"
                                    for n, tok, cb, _ in sorted(running)]),
            # One job only: what GraphQL subscribers of that job must all end with.
            "progress_one": self.write(base + "-progress_one.txt",
                                       [f"/{running[0][2].split('/', 3)[3]}\t{running[0][1]}\t"
                                        f"{running[0][0]}"]),
        }
        self.one_job = running[0][0]
        self.names = names

    @staticmethod
    def write(path, lines):
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def stop(self):
        """Stops the sweep and waits for its running jobs' processes to end (local jobs outlive
        their server otherwise)."""
        api(self.url, self.token, f"/api/v1/sweeps/{self.sweep}/stop", "POST")
        left = []
        deadline = time.time() + 60
        while time.time() < deadline:
            left = [w for w in wrap_processes() if w[0] in self.names]
            if not left:
                return
            time.sleep(0.2)
        print(f"warning: {len(left)} of the sweep's jobs still run 60 s after its stop",
              file=sys.stderr)


# ---- one phase -----------------------------------------------------------------------------------
def run_load(args, ports, load_args, seconds, cpu, on_half=None):
    before = cpu.snapshot()
    argv = [args.load, *sum((["--port", str(p)] for p in ports), []),
            "--connections", str(args.connections), "--duration", str(seconds), *load_args]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timer = None
    if on_half is not None:
        timer = threading.Timer(seconds / 2 + 0.5, on_half)
        timer.start()
    out, err = proc.communicate()
    if timer is not None:
        timer.join()
    after = cpu.snapshot()
    if proc.returncode != 0:
        fail(f"bench_progress_load {' '.join(load_args)}: {err.strip()}")
    result = {}
    for line in out.splitlines():
        key, value = line.split()
        result[key] = float(value)
    result["cpu"] = cpu.seconds(before, after)
    result["stderr"] = err.strip()
    result["by_port"] = {int(k.rsplit("_", 1)[1]): int(v) for k, v in result.items()
                         if k.startswith("requests_ok_port_")}
    return result


def pg_top(pg, limit=5):
    rows = pg.sql("bench", f"""
        SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 3),
               left(regexp_replace(query, '\\s+', ' ', 'g'), 100)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'bench')
        ORDER BY total_exec_time DESC LIMIT {limit}""")
    total = pg.sql("bench", """
        SELECT coalesce(sum(calls), 0), coalesce(round(sum(total_exec_time)::numeric, 1), 0)
        FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'bench')""")[0]
    return {"calls": int(total[0]), "exec_ms": float(total[1]),
            "top": [{"calls": int(r[0]), "total_ms": float(r[1]), "mean_ms": float(r[2]),
                     "query": r[3]} for r in rows]}


PHASES = ("healthz", "get_job", "list_jobs", "progress")


def run_phases(args, config, servers, ports, store, cpu, pg, results):
    for phase in PHASES:
        if phase == "healthz":
            load_args = ["--method", "GET", "--path", "/healthz"]
        elif phase == "progress":
            load_args = ["--method", "POST", "--targets", store.files["progress"]]
        else:
            load_args = ["--method", "GET", "--targets", store.files[phase]]
        if pg is not None:
            pg.sql("bench", "SELECT pg_stat_statements_reset()")
        r = run_load(args, ports, load_args, args.seconds, cpu)
        if pg is not None:
            r["pg"] = pg_top(pg)
        r["config"], r["phase"], r["replicas"] = config, phase, len(servers)
        results.append(r)
        print_phase(r, servers)


def print_phase(r, servers):
    names = {s.port: s.name for s in servers}
    cpu = r["cpu"]
    ours = sum(v for k, v in cpu.items() if k != "machine") + r["load_generator_cpu_seconds"]
    spread = ", ".join(f"{names.get(p, p)} {n}" for p, n in sorted(r["by_port"].items()))
    print(f"{r['config']:<10} {r['phase']:<10} {r['requests_per_second']:8.0f} req/s  "
          f"p50 {r['answer_ms_p50']:6.2f} ms  p99 {r['answer_ms_p99']:7.2f} ms  "
          f"({r['requests_failed']:.0f} non-2xx, {r['errors']:.0f} errors; {spread})")
    parts = [f"{k} {v:.2f}" for k, v in cpu.items() if k != "machine" and v > 0]
    parts.append(f"load generator {r['load_generator_cpu_seconds']:.2f}")
    parts.append(f"other {max(0.0, cpu['machine'] - ours):.2f}")
    print(f"{'':<21} CPU s over {r['seconds']:.1f} s: " + ", ".join(parts) +
          f" (machine busy {cpu['machine']:.2f} of {os.cpu_count() * r['seconds']:.1f} core-s)")
    if "pg" in r:
        pg = r["pg"]
        per = pg["calls"] / max(1.0, r["requests_ok"])
        print(f"{'':<21} PostgreSQL: {pg['calls']} statements ({per:.1f} per answer), "
              f"{pg['exec_ms'] / 1000:.2f} s executing; top:")
        for t in pg["top"][:3]:
            print(f"{'':<23} {t['total_ms']:8.1f} ms {t['calls']:7d} calls {t['mean_ms']:6.3f} ms  "
                  f"{t['query'][:90]}")
    if r["stderr"]:
        print(f"{'':<21} (load generator) {r['stderr'][:300]}")


# ---- nginx ---------------------------------------------------------------------------------------
def nginx_checks(args, nginx, servers, store, cpu, pg, results, token):
    config = "pg-3+nginx"
    port = [nginx.port]
    shown = [*servers, types.SimpleNamespace(port=nginx.port, name="via nginx")]
    for phase in ("healthz", "get_job", "progress"):
        if phase == "healthz":
            load_args = ["--method", "GET", "--path", "/healthz"]
        else:
            load_args = ["--method", "POST" if phase == "progress" else "GET",
                         "--targets", store.files[phase]]
        pg.sql("bench", "SELECT pg_stat_statements_reset()")
        r = run_load(args, port, load_args, args.seconds, cpu)
        r["pg"] = pg_top(pg)
        r["config"], r["phase"], r["replicas"] = config, phase, len(servers)
        results.append(r)
        print_phase(r, shown)
    # Events through nginx: progress of one job POSTed through nginx at 200/s while 20 SSE
    # clients, then 20 GraphQL subscribers of that job, listen through nginx. Each must end with
    # the latest progress sent.
    post = ["--method", "POST", "--targets", store.files["progress_one"], "--rate", "200"]
    checks = {}
    for kind, extra in (
            ("sse", ["--clients", "20", "--sse-path", "/api/v1/events", "--sse-bearer", token,
                     "--sampled", "20"]),
            ("graphql_ws", ["--clients", "20", "--sse-path", "/graphql", "--sse-bearer", token,
                            "--sampled", "20", "--ws-job", store.one_job])):
        r = run_load(args, port, post + extra, 4, cpu)
        ok = (r["sse_clients_connected"] == 20 and r["sse_clients_dropped"] == 0 and
              r.get("sse_bad_status", 0) == 0 and r["sse_clients_with_latest_progress"] == 20 and
              r["latency_samples"] > 0)
        checks[kind] = {"ok": ok, "connected": r["sse_clients_connected"],
                        "with_latest": r["sse_clients_with_latest_progress"],
                        "delivery_p50_ms": r["delivery_ms_p50"],
                        "delivery_p99_ms": r["delivery_ms_p99"],
                        "posts": r["requests_ok"]}
        print(f"{config:<10} {kind:<10} through nginx: "
              f"{r['sse_clients_connected']:.0f}/20 connected, "
              f"{r['sse_clients_with_latest_progress']:.0f}/20 with the latest progress after "
              f"{r['requests_ok']:.0f} POSTs, delivery p50 {r['delivery_ms_p50']:.1f} ms, "
              f"p99 {r['delivery_ms_p99']:.1f} ms: {'OK' if ok else 'FAILED'}")
    # Draining: SIGUSR1 to r3 halfway through a get_job phase through nginx (its /healthz must
    # turn 503 while it still serves), then SIGTERM.
    stopped = {}

    def stop_r3():
        r3 = servers[-1]
        r3.proc.send_signal(signal.SIGUSR1)
        deadline = time.time() + 5
        while r3.health() != 503 and time.time() < deadline:
            time.sleep(0.05)
        stopped["healthz_draining"] = r3.health()
        t0 = time.time()
        r3.stop()
        stopped["seconds"] = time.time() - t0

    r = run_load(args, port, ["--method", "GET", "--targets", store.files["get_job"]], args.seconds,
                 cpu, on_half=stop_r3)
    r["config"], r["phase"], r["replicas"] = config, "drain_r3", len(servers)
    results.append(r)
    print_phase(r, shown)
    checks["drain"] = {"ok": r["requests_failed"] == 0 and r["errors"] == 0
                       and stopped.get("healthz_draining") == 503,
                       "healthz_draining": stopped.get("healthz_draining"),
                       "failed": r["requests_failed"], "errors": r["errors"],
                       "answered": r["requests_ok"], "stop_seconds": stopped.get("seconds"),
                       "by_port": r["by_port"]}
    print(f"{config:<10} drain_r3   SIGUSR1 to r3 halfway (its /healthz: "
          f"{stopped.get('healthz_draining')}), then SIGTERM "
          f"(it stopped in {stopped.get('seconds', 0):.2f} s): "
          f"{r['requests_failed']:.0f} non-2xx, {r['errors']:.0f} connection errors of "
          f"{r['requests_ok']:.0f} answers: {'OK' if checks['drain']['ok'] else 'FAILED'}")
    return checks


# ---- the summary ---------------------------------------------------------------------------------
def summary(results):
    by = {(r["config"], r["phase"]): r for r in results}
    configs = []
    for r in results:
        if r["config"] not in configs:
            configs.append(r["config"])
    print("\n== requests/s (answer p50 / p99 ms); ratio to pg-1 and to sqlite-1")
    header = "| phase | " + " | ".join(configs) + " |"
    print(header)
    print("|" + "---|" * (len(configs) + 1))
    for phase in PHASES:
        cells = []
        for c in configs:
            r = by.get((c, phase))
            if r is None:
                cells.append("")
                continue
            cell = (f"{r['requests_per_second']:,.0f}/s ({r['answer_ms_p50']:.2f} / "
                    f"{r['answer_ms_p99']:.1f})")
            ratios = []
            for base in ("pg-1", "sqlite-1"):
                b = by.get((base, phase))
                if b is not None and base != c and b["requests_per_second"] > 0:
                    ratio = r["requests_per_second"] / b["requests_per_second"]
                    ratios.append(f"{ratio:.2f}x {base}")
            if ratios:
                cell += " " + ", ".join(ratios)
            cells.append(cell)
        print(f"| {phase} | " + " | ".join(cells) + " |")
    print("\n== CPU seconds per 1,000 answers: servers / PostgreSQL / nginx / load generator")
    for phase in PHASES:
        cells = []
        for c in configs:
            r = by.get((c, phase))
            if r is None:
                cells.append("")
                continue
            k = 1000 / max(1.0, r["requests_ok"])
            cpu = r["cpu"]
            servers = sum(v for name, v in cpu.items() if name.startswith(("r", "sqlite")))
            cells.append(f"{servers * k:.3f} / {cpu.get('postgres', 0) * k:.3f} / "
                         f"{cpu.get('nginx', 0) * k:.3f} / "
                         f"{r['load_generator_cpu_seconds'] * k:.3f}")
        print(f"| {phase} | " + " | ".join(cells) + " |")
    print("\n== CPU core-seconds of the machine's other processes in each phase "
          "(not this benchmark's)")
    for phase in PHASES:
        cells = []
        for c in configs:
            r = by.get((c, phase))
            if r is None:
                cells.append("")
                continue
            ours = sum(v for k, v in r["cpu"].items() if k != "machine")
            ours += r["load_generator_cpu_seconds"]
            cells.append(f"{max(0.0, r['cpu']['machine'] - ours):.1f} of "
                         f"{os.cpu_count() * r['seconds']:.0f}")
        print(f"| {phase} | " + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 8)))
    parser.add_argument("--connections", type=int,
                        default=int(os.environ.get("BENCH_CONNECTIONS", 12)))
    parser.add_argument("--running", type=int, default=24, help="jobs running in each store")
    parser.add_argument("--no-nginx", action="store_true")
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args()
    build = args.build_dir if os.path.isabs(args.build_dir) else os.path.join(REPO, args.build_dir)
    args.trainyard = os.path.join(build, "apps", "trainyard")
    args.load = os.path.join(build, "bench", "server", "bench_progress_load")
    for binary in (args.trainyard, args.load, os.path.join(build, "apps", "trainyard-wrap")):
        if not os.access(binary, os.X_OK):
            fail(f"missing {binary}; build it first (make build)")
    if args.running < args.connections:
        fail("--running must be at least --connections: each connection posts for its own jobs")
    use_nginx = not args.no_nginx
    if use_nginx and not nginx_installed():
        print("nginx is not installed: the checks through nginx are skipped "
              "(Debian's nginx; scripts/install-deps.sh --bench installs it)")
        use_nginx = False

    def stop_on_signal(number, frame):
        raise SystemExit(f"replicas bench: stopped by signal {number}")

    # Stopped from outside (Ctrl-C, a timeout): the finally below still stops the sweeps (local
    # jobs outlive their server), the servers, PostgreSQL and nginx, and removes the temp dir.
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, stop_on_signal)
    work = tempfile.mkdtemp(prefix="bench-replicas-")
    os.chmod(work, 0o755)  # PostgreSQL runs as nobody and reaches its dir inside
    token = "bench-token-" + os.urandom(8).hex()
    servers, stores, others = [], [], []
    pg = None
    results, checks = [], {}
    cpu = CpuGroups()
    load_average = open("/proc/loadavg").read().split()[:3]
    print(f"== replicas: {os.cpu_count()} cores, load average {' '.join(load_average)} at the "
          f"start; {args.seconds:g} s per phase, {args.connections} connections, {args.running} "
          "running jobs of a 1,000-job sweep per store")
    try:
        # 1 server on SQLite.
        sqlite = Server(args, work, "sqlite", token, [])
        servers.append(sqlite)
        cpu.groups = {"sqlite": lambda: [sqlite.proc.pid]}
        store = Store(args, work, "sqlite", sqlite, token)
        stores.append(store)
        run_phases(args, "sqlite-1", [sqlite], [sqlite.port], store, cpu, None, results)
        store.stop()
        stores.remove(store)
        sqlite.stop()
        servers.remove(sqlite)

        # 1, 2, 3 replicas on PostgreSQL, one object store.
        pg = Postgres(work)
        objects = os.path.join(work, "objects")
        os.makedirs(objects)
        replicas = []
        pg_store = None
        for n in (1, 2, 3):
            name = f"r{n}"
            replica = Server(args, work, name, token,
                             ["--metadata", pg.url, "--objects", "file://" + objects,
                              "--replica-id", name])
            replicas.append(replica)
            servers.append(replica)
            if pg_store is None:
                pg_store = Store(args, work, "pg", replica, token)
                stores.append(pg_store)
            cpu.groups = {s.name: (lambda s=s: [s.proc.pid]) for s in replicas}
            cpu.groups["postgres"] = pg.pids
            run_phases(args, f"pg-{n}", replicas, [s.port for s in replicas], pg_store, cpu, pg,
                       results)
        if use_nginx:
            nginx = Nginx(work, [s.port for s in replicas])
            others.append(nginx)
            cpu.groups["nginx"] = nginx.pids
            checks = nginx_checks(args, nginx, replicas, pg_store, cpu, pg, results, token)
        summary(results)
    finally:
        for store in stores:
            try:
                store.stop()
            except SystemExit as e:
                print(f"could not stop the sweep: {e}", file=sys.stderr)
        for other in others:
            other.stop()
        for server in servers:
            server.stop()
        if pg is not None:
            pg.stop()
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"results": results, "checks": checks,
                           "load_average_at_start": load_average}, f, indent=1)
        shutil.rmtree(work, ignore_errors=True)
    failed = [k for k, v in checks.items() if not v["ok"]]
    if failed:
        fail("checks through nginx failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()
