"""The processes of bench/replicas/replicas.py: PostgreSQL 15, `trainyard server` replicas and
nginx, each started on loopback in the benchmark's temp dir and stopped by it; the CPU time of
groups of processes; the jobs' tokens from their trainyard-wrap processes."""

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HZ = os.sysconf("SC_CLK_TCK")
PG_USER = "trainyard"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fail(message):
    sys.exit(f"replicas bench: {message}")


# ---- CPU accounting ------------------------------------------------------------------------------
def proc_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            kids.append(int(entry))
    return kids


def machine_busy_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    return v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)


class CpuGroups:
    """Per-pid tick snapshots of named groups; a pid new in the second snapshot counts from 0."""

    def __init__(self):
        self.groups = {}  # name -> function returning the group's pids now

    def snapshot(self):
        snap = {name: {pid: proc_ticks(pid) for pid in pids()}
                for name, pids in self.groups.items()}
        snap["_machine"] = machine_busy_ticks()
        return snap

    def seconds(self, before, after):
        out = {}
        for name in self.groups:
            ticks = sum(max(0, t - before[name].get(pid, 0)) for pid, t in after[name].items())
            out[name] = ticks / HZ
        out["machine"] = (after["_machine"] - before["_machine"]) / HZ
        return out


# ---- PostgreSQL ----------------------------------------------------------------------------------
class Postgres:
    def __init__(self, work):
        self.bin_dir = os.environ.get("TRAINYARD_POSTGRES_BIN_DIR") or "/usr/lib/postgresql/15/bin"
        for binary in ("initdb", "postgres"):
            if not os.access(os.path.join(self.bin_dir, binary), os.X_OK):
                fail(f"PostgreSQL 15 is not installed: no {self.bin_dir}/{binary} "
                     "(Debian's postgresql-15; scripts/install-deps.sh installs it)")
        self.dir = os.path.join(work, "postgres")
        self.data = os.path.join(self.dir, "data")
        self.socket_dir = os.path.join(self.dir, "socket")
        os.makedirs(self.socket_dir)
        self.as_user = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            nobody = pwd.getpwnam("nobody")
            self.as_user = [f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                            "--clear-groups"]
            subprocess.run(["chown", "-R", f"{nobody.pw_uid}:{nobody.pw_gid}", self.dir],
                           check=True)
        made = subprocess.run(
            self.argv([f"{self.bin_dir}/initdb", "-D", self.data, "-U", PG_USER, "--auth=trust",
                       "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]),
            capture_output=True, text=True)
        if made.returncode != 0:
            fail("initdb failed: " + made.stdout[-2000:] + made.stderr[-2000:])
        self.port = free_port()
        self.log = open(os.path.join(work, "postgres.log"), "w")
        self.proc = subprocess.Popen(
            self.argv([f"{self.bin_dir}/postgres", "-D", self.data, "-p", str(self.port),
                       "-k", self.socket_dir, "-c", "listen_addresses=127.0.0.1",
                       "-c", "max_connections=100", "-c", "shared_buffers=128MB",
                       "-c", "synchronous_commit=off",
                       "-c", "shared_preload_libraries=pg_stat_statements"]),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            ok = subprocess.run(self.psql("postgres", "SELECT 1"), capture_output=True)
            if ok.returncode == 0:
                break
            if self.proc.poll() is not None or time.time() > deadline:
                fail("postgres did not start: " + open(self.log.name).read()[-2000:])
            time.sleep(0.1)
        self.sql("postgres", "CREATE DATABASE bench")
        self.sql("bench", "CREATE EXTENSION pg_stat_statements")
        self.url = f"postgresql://{PG_USER}@127.0.0.1:{self.port}/bench"

    def argv(self, argv):
        # setpriv: as nobody when root, and asked to stop (SIGINT: fast shutdown) if we die first.
        return ["setpriv", "--pdeathsig", "INT", *self.as_user, "--", *argv]

    def psql(self, db, query):
        return ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", PG_USER, "-d", db, "-c", query]

    def sql(self, db, query):
        done = subprocess.run(self.psql(db, query), capture_output=True, text=True)
        if done.returncode != 0:
            fail(f"psql {query!r}: {done.stderr.strip()}")
        return [line.split("\t") for line in done.stdout.splitlines() if line]

    def pids(self):
        return [self.proc.pid, *self.server_pids()]

    def server_pids(self):
        # setpriv execs postgres, so proc.pid is the postmaster; its children are the backends.
        return children(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- trainyard servers ---------------------------------------------------------------------------
class Server:
    def __init__(self, args, work, name, token, extra):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data_dir = os.path.join(work, name)
        os.makedirs(data_dir)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}
        self.log_path = os.path.join(work, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [args.trainyard, "server", "--data-dir", data_dir, "--listen", f"127.0.0.1:{self.port}",
             "--token", token, "--max-running", str(args.running), "--progress-interval", "60",
             *extra],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                fail(f"trainyard server {name} did not start: "
                     + open(self.log_path).read()[-3000:])
            time.sleep(0.1)

    def health(self):
        """The status of GET /healthz: 200, 503 while draining, 0 when it does not answer."""
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                return answer.status
        except urllib.error.HTTPError as e:
            return e.code
        except (OSError, urllib.error.URLError):
            return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def api(url, token, path, method="GET", body=None, content_type="application/json"):
    request = urllib.request.Request(url + path, data=body, method=method,
                                     headers={"Authorization": f"Bearer {token}"})
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = answer.read()
    except urllib.error.HTTPError as e:
        fail(f"{method} {path}: {e.code} {e.read()[:500]!r}")
    return json.loads(text) if text else None


def wrap_processes():
    """(job name, job token, callback URL, pid) of every trainyard-wrap process.

    The job's token and callback URL live only in its trainyard-wrap process's environment;
    reading /proc/PID/environ of our own descendants is fine for a benchmark (nothing else
    should)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if not f.read().split(b"\0")[0].endswith(b"trainyard-wrap"):
                    continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        except OSError:
            continue
        if b"TRAINYARD_JOB_TOKEN" in env and b"TRAINING_JOB_NAME" in env:
            found.append((env[b"TRAINING_JOB_NAME"].decode(), env[b"TRAINYARD_JOB_TOKEN"].decode(),
                          env[b"TRAINYARD_CALLBACK_URL"].decode(), int(pid)))
    return found


def nginx_config_from_docs(ports, listen_port):
    """docs/scale-out.md's ```nginx block, pointed at the loopback replicas."""
    text = open(os.path.join(REPO, "docs", "scale-out.md")).read()
    found = re.search(r"```nginx\n(.*?)```", text, re.S)
    if not found:
        fail("docs/scale-out.md has no ```nginx block")
    block, hosts = [], 0
    for line in found.group(1).splitlines():
        stripped = line.strip()
        if re.match(r"server\s+host\d+:\d+", stripped):
            line = re.sub(r"host\d+:\d+", f"127.0.0.1:{ports[hosts]}", line)
            hosts += 1
        elif stripped.startswith("listen "):
            line = f"    listen 127.0.0.1:{listen_port};"
        elif stripped.startswith("ssl_") or stripped.startswith("http2"):
            continue  # TLS is the load balancer's own business, not under test here
        block.append(line)
    if hosts != len(ports):
        fail(f"docs/scale-out.md's nginx block has {hosts} `server hostN:PORT` lines, "
             f"not {len(ports)}")
    return "\n".join(block)


def nginx_installed():
    return bool(shutil.which("nginx")) or os.access("/usr/sbin/nginx", os.X_OK)


class Nginx:
    def __init__(self, work, ports):
        self.bin = shutil.which("nginx") or "/usr/sbin/nginx"
        self.prefix = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.prefix, "logs"))
        self.port = free_port()
        user = "user root;" if os.geteuid() == 0 else ""
        conf = f"""{user}
worker_processes auto;
daemon off;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {self.prefix}/body;
  proxy_temp_path {self.prefix}/proxy;
  fastcgi_temp_path {self.prefix}/fastcgi;
  uwsgi_temp_path {self.prefix}/uwsgi;
  scgi_temp_path {self.prefix}/scgi;
{nginx_config_from_docs(ports, self.port)}
}}
"""
        self.conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        test = subprocess.run([self.bin, "-t", "-p", self.prefix, "-c", self.conf],
                              capture_output=True, text=True)
        if test.returncode != 0:
            fail("nginx -t refused the configuration of docs/scale-out.md:\n" + test.stderr + conf)
        self.proc = subprocess.Popen([self.bin, "-p", self.prefix, "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except (OSError, urllib.error.URLError):
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                fail("nginx did not start: " + open(f"{self.prefix}/logs/error.log").read()[-2000:])
            time.sleep(0.1)

    def pids(self):
        return [self.proc.pid, *children(self.proc.pid)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
