#!/usr/bin/env bash
# Upload and download of one 2 GiB file (random bytes) through `trainyard server`'s API against
# nginx (Debian's package, started here as a non-daemon on a loopback port with its own temp
# prefix: a `dav_methods PUT` location for uploads, static files for downloads). Both with curl,
# interleaved, BENCH_REPS times each, median throughput:
#   upload    curl -T FILE -X POST  $url/api/v1/datasets?name=..&kind=training  (raw body)
#             curl -T FILE          http://nginx/up/blob                         (PUT)
#   download  curl -o /dev/null     $url/api/v1/datasets/ID/content
#             curl -o /dev/null     http://nginx/blob                            (the same file)
# Both uploads stream the file (-T), both send no `Expect: 100-continue` (curl would otherwise
# wait for a 100 answer first), and both servers write the body to the same /tmp file system.
# While each transfer runs, the server's VmRSS (/proc/PID/status) is sampled every 50 ms; the
# figure is peak minus before. CPU time (utime + stime) of the server and of nginx per transfer
# is printed too, to show where the time goes.
# Targets: throughput >= 0.8x nginx's (each direction); server RSS growth <= 64 MB.
#
# Usage: bench/server/transfer.sh [BUILD_DIR]     (default: build)
#   BENCH_REPS      repetitions of each transfer (default 3)
#   BENCH_SIZE      the file's size for head -c (default 2G)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-build}"
reps=${BENCH_REPS:-3}
size=${BENCH_SIZE:-2G}

# nginx: installed here only when missing (scripts/install-deps.sh lists it with the benchmarks).
# The Debian package may start a system nginx on port 80; that one is stopped again.
if ! command -v nginx > /dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  echo "installing nginx (apt-get)"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nginx > /dev/null ||
    { "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nginx > /dev/null; }
  if pgrep -x nginx > /dev/null; then
    "${sudo_cmd[@]}" systemctl stop nginx 2> /dev/null || "${sudo_cmd[@]}" service nginx stop 2> /dev/null ||
      "${sudo_cmd[@]}" nginx -s quit 2> /dev/null || true
    "${sudo_cmd[@]}" systemctl disable nginx 2> /dev/null || true
  fi
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

tmp=${TMPDIR:-/tmp}
bytes=$(numfmt --from=iec "$size")
# The file, the server's stored copy, nginx's copy and its body temp file: ~4x the size.
need_kib=$(( bytes * 4 / 1024 + 1024 * 1024 ))
free_kib=$(df -Pk "$tmp" | awk 'NR == 2 {print $4}')
if (( free_kib < need_kib )); then
  echo "needs $(( need_kib / 1024 / 1024 )) GiB free in $tmp, has $(( free_kib / 1024 / 1024 )) GiB" >&2
  exit 2
fi

work=$(mktemp -d "$tmp/bench-transfer-XXXXXX")
nginx_pid=
cleanup() {
  if [[ -n $nginx_pid ]]; then
    kill -QUIT "$nginx_pid" 2> /dev/null || true
    wait "$nginx_pid" 2> /dev/null || true
  fi
  bench_cleanup
}
trap cleanup EXIT

echo "== transfer: $size of random bytes, upload and download, trainyard server vs nginx, $reps reps"
head -c "$size" /dev/urandom > "$work/blob"
sha=$(sha256sum "$work/blob" | cut -d' ' -f1)

bench_start_server

# nginx, non-daemon, everything under $work/nginx.
ngx=$work/nginx
mkdir -p "$ngx/root/up" "$ngx/body" "$ngx/logs"
chmod 755 "$work" "$ngx" "$ngx/root" "$ngx/root/up" "$ngx/body"
ln "$work/blob" "$ngx/root/blob"  # the same file (and page cache) the uploads read
chmod 644 "$work/blob"
nginx_port=$(bench_free_port)
user_line=
[[ $(id -u) -eq 0 ]] && user_line="user root;"
cat > "$ngx/nginx.conf" << EOF
$user_line
daemon off;
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $ngx/body;
  proxy_temp_path $ngx/body;
  fastcgi_temp_path $ngx/body;
  uwsgi_temp_path $ngx/body;
  scgi_temp_path $ngx/body;
  types { application/octet-stream bin; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$nginx_port;
    root $ngx/root;
    location /up/ {
      dav_methods PUT;
      client_max_body_size 0;
      client_body_temp_path $ngx/body;
      create_full_put_path on;
    }
  }
}
EOF
"$nginx_bin" -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/logs/error.log" > "$ngx/logs/stdout" 2>&1 &
nginx_pid=$!
for (( i = 0; i < 100; i++ )); do
  curl -fsS -o /dev/null "http://127.0.0.1:$nginx_port/blob" -r 0-0 2> /dev/null && break
  kill -0 "$nginx_pid" 2> /dev/null || { cat "$ngx/logs/"* >&2; exit 1; }
  sleep 0.1
done
nginx_worker=$(pgrep -P "$nginx_pid" | head -1 || true)
[[ -n $nginx_worker ]] || nginx_worker=$nginx_pid

# Samples VmRSS of PID every 50 ms until STOPFILE exists; prints "before_kib peak_kib cpu_s"
# (cpu_s: utime + stime of PID and its children threads during the sampling).
cat > "$work/sample.py" << 'PY'
import os, sys, time
pid, stop = sys.argv[1], sys.argv[2]
hz = os.sysconf("SC_CLK_TCK")
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz
before, c0 = rss(), cpu()
peak = before
open(stop + ".ready", "w").close()
while not os.path.exists(stop):
    peak = max(peak, rss())
    time.sleep(0.05)
peak = max(peak, rss())
print(before, peak, f"{cpu() - c0:.2f}")
PY

# transfer NAME -- curl args: runs curl with samplers on the server and nginx worker; appends
# "name seconds http_code server_before server_peak server_cpu nginx_cpu" to results.
transfer() {
  local name=$1; shift
  local stop=$work/stop.$RANDOM
  python3 "$work/sample.py" "$server_pid" "$stop" > "$stop.server" &
  local s1=$!
  python3 "$work/sample.py" "$nginx_worker" "$stop" > "$stop.nginx" &
  local s2=$!
  while [[ ! -e $stop.ready ]]; do sleep 0.01; done
  sleep 0.1
  local out
  out=$(curl -sS -H 'Expect:' -w '%{time_total} %{http_code} %{size_upload} %{size_download}' "$@")
  touch "$stop"
  wait "$s1" "$s2"
  read -r t code up down <<< "${out##*$'\n'}"
  echo "$name $t $code $up $down $(cat "$stop.server") $(cut -d' ' -f3 "$stop.nginx")" >> "$work/results"
  rm -f "$stop" "$stop".*
}

: > "$work/results"
download_id=
for (( r = 1; r <= reps; r++ )); do
  # Alternate which goes first.
  for who in $( (( r % 2 )) && echo "server nginx" || echo "nginx server"); do
    if [[ $who = server ]]; then
      transfer server_upload -o "$work/upload.json" -T "$work/blob" -X POST \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/octet-stream' \
        "$url/api/v1/datasets?name=blob$r&kind=training&filename=blob.bin"
      read -r id got_sha got_size < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["id"], d["sha256"], d["size"])' "$work/upload.json")
      [[ $got_sha = "$sha" && $got_size = "$bytes" ]] ||
        { echo "server upload: sha256/size mismatch ($got_sha $got_size)" >&2; exit 1; }
      # Keep one dataset for the downloads; free the disk of the others.
      if [[ -z $download_id ]]; then download_id=$id; else api -o /dev/null -X DELETE "$url/api/v1/datasets/$id"; fi
    else
      transfer nginx_upload -o /dev/null -T "$work/blob" "http://127.0.0.1:$nginx_port/up/blob"
      [[ $(stat -c %s "$ngx/root/up/blob") = "$bytes" ]] || { echo "nginx upload: wrong size" >&2; exit 1; }
    fi
  done
done
for (( r = 1; r <= reps; r++ )); do
  for who in $( (( r % 2 )) && echo "server nginx" || echo "nginx server"); do
    if [[ $who = server ]]; then
      transfer server_download -o /dev/null -H "Authorization: Bearer $token" \
        "$url/api/v1/datasets/$download_id/content"
    else
      transfer nginx_download -o /dev/null "http://127.0.0.1:$nginx_port/blob"
    fi
  done
done

python3 - "$work/results" "$bytes" << 'PY'
import statistics, sys
rows, size = [l.split() for l in open(sys.argv[1])], int(sys.argv[2])
by = {}
for name, t, code, up, down, before, peak, scpu, ncpu in rows:
    moved = int(float(up)) if "upload" in name else int(float(down))
    if not code.startswith("2") or moved != size:
        sys.exit(f"{name}: HTTP {code}, moved {moved} of {size} bytes")
    by.setdefault(name, []).append((float(t), (int(peak) - int(before)) / 1024, float(scpu), float(ncpu)))
mib = size / 2**20
for direction in ("upload", "download"):
    s, n = by[f"server_{direction}"], by[f"nginx_{direction}"]
    st, nt = statistics.median(x[0] for x in s), statistics.median(x[0] for x in n)
    ratio = (mib / st) / (mib / nt)
    print(f"{direction}: trainyard server median {st:.2f} s = {mib / st:.0f} MiB/s "
          f"(each {' '.join(f'{x[0]:.2f}' for x in s)} s; server CPU {' '.join(f'{x[2]:.2f}' for x in s)} s)")
    print(f"{'':{len(direction)}}  nginx (peer)     median {nt:.2f} s = {mib / nt:.0f} MiB/s "
          f"(each {' '.join(f'{x[0]:.2f}' for x in n)} s; nginx worker CPU {' '.join(f'{x[3]:.2f}' for x in n)} s)")
    print(f"  ratio {ratio:.2f}x nginx; target >= 0.8x: {'MET' if ratio >= 0.8 else 'MISSED'}")
growth = max(x[1] for k in ("server_upload", "server_download") for x in by[k])
for k in ("server_upload", "server_download"):
    print(f"server RSS growth during {k.split('_')[1]}s: " + " ".join(f"{x[1]:.1f}" for x in by[k]) + " MiB")
print(f"server RSS growth, worst: {growth:.1f} MiB ({growth * 2**20 / 1e6:.1f} MB); target <= 64 MB: "
      f"{'MET' if growth * 2**20 <= 64e6 else 'MISSED'}")
PY
