# Helpers shared by bench/server/*.sh (sourced, not run): build paths, a free loopback port, and
# a `trainyard server` started in the background on a temp data dir, as tests/server_fixture.cc
# starts one. The caller sets `work` (its temp dir) and a trap that calls bench_cleanup.
#
#   bench_init BUILD_DIR            sets repo, build, trainyard, wrap, trainer_dir
#   bench_free_port                 prints a free loopback port
#   bench_start_server [FLAGS...]   sets server_pid, url, token; waits for /healthz
#   bench_cleanup                   stops the server (TERM, then KILL) and removes $work

bench_init() {
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  build=${1:-build}
  [[ $build = /* ]] || build=$repo/$build
  trainyard=$build/apps/trainyard
  wrap=$build/apps/trainyard-wrap
  trainer_dir=$build/examples/trainer
  for bin in "$trainyard" "$wrap"; do
    [[ -x $bin ]] || { echo "missing $bin; build it first (make build)" >&2; exit 2; }
  done
  command -v python3 > /dev/null || { echo "needs python3" >&2; exit 2; }
  command -v curl > /dev/null || { echo "needs curl" >&2; exit 2; }
  # Nothing here may report to some other server.
  unset TRAINYARD_CALLBACK_URL TRAINYARD_JOB_TOKEN TRAINYARD_COMMAND TRAINYARD_JOB_JSON \
    TRAINYARD_ML_ROOT TRAINYARD_DATA_DIR TRAINYARD_LISTEN TRAINYARD_TOKEN TRAINYARD_MAX_RUNNING \
    TRAINYARD_METADATA TRAINYARD_OBJECTS TRAINYARD_PUBLIC_URL
  server_pid=
}

bench_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bench_start_server() {
  local port
  port=$(bench_free_port)
  token=bench-token-$RANDOM$RANDOM
  url=http://127.0.0.1:$port
  mkdir -p "$work/data"
  PATH=$trainer_dir:$PATH "$trainyard" server --data-dir "$work/data" --listen "127.0.0.1:$port" \
    --token "$token" --progress-interval 1 "$@" > "$work/server.log" 2>&1 &
  server_pid=$!
  local i
  for (( i = 0; i < 200; i++ )); do
    if curl -fsS -o /dev/null "$url/healthz" 2> /dev/null; then return 0; fi
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.1
  done
  echo "trainyard server did not start:" >&2
  tail -20 "$work/server.log" >&2
  exit 1
}

bench_stop_server() {
  [[ -n ${server_pid:-} ]] || return 0
  kill -TERM "$server_pid" 2> /dev/null || true
  local i
  for (( i = 0; i < 100; i++ )); do
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2> /dev/null || true
  wait "$server_pid" 2> /dev/null || true
  server_pid=
}

bench_cleanup() {
  bench_stop_server
  [[ -n ${work:-} ]] && rm -rf "$work"
}

# curl against the API with the server token.
api() { curl -sS -H "Authorization: Bearer $token" "$@"; }

# Uploads a tiny training dataset (sweeps need at least one channel); prints its id.
bench_small_dataset() {
  printf 'x,y\n1,2\n' > "$work/small.csv"
  api -H 'Content-Type: text/csv' --data-binary @"$work/small.csv" \
    "$url/api/v1/datasets?name=small&kind=training&filename=small.csv" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
