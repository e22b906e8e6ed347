#!/usr/bin/env bash
# `make run`: trainyard server with the embedded defaults (SQLite, local files, local executor),
# the example trainer on the jobs' PATH and the sample digits data uploaded as datasets. Prints
# the URL, the token and a CLI example; Ctrl-C stops it cleanly (running jobs go on and are
# adopted at the next start). State stays in runs/server.
set -euo pipefail
build_dir=$(cd "${1:-build}" && pwd)
data_dir=runs/server
listen=${TRAINYARD_LISTEN:-127.0.0.1:8080}
mkdir -p "$data_dir"

# One token for this data dir, kept beside it so that the printed example keeps working.
if [[ ! -s "$data_dir/cli-token" ]]; then
  (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$data_dir/cli-token")
fi
export TRAINYARD_TOKEN=$(cat "$data_dir/cli-token")
export TRAINYARD_URL="http://$listen"
export PATH="$build_dir/examples/trainer:$build_dir/apps:$PATH"

trainyard server --data-dir "$data_dir" --listen "$listen" --token "$TRAINYARD_TOKEN" \
  --progress-interval 2 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server; exit 0' INT TERM

for _ in $(seq 100); do
  curl -fsS "$TRAINYARD_URL/healthz" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { wait $server; exit 1; }
  sleep 0.1
done

# The sample data, once per data dir.
declare -A ids
existing=$(trainyard dataset list --output json)
for entry in training:train.csv evaluation:eval.csv pretrained:pretrained/model.json; do
  kind=${entry%%:*}
  file=examples/data/digits/${entry#*:}
  name="digits-$kind"
  id=$(python3 -c 'import json,sys; d=[x["id"] for x in json.load(sys.stdin)["datasets"] if x["name"]==sys.argv[1]]; print(d[0] if d else "")' "$name" <<<"$existing")
  if [[ -z "$id" ]]; then
    id=$(trainyard dataset upload "$file" --kind "$kind" --name "$name" --output json |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  fi
  ids[$kind]=$id
done

cat <<TEXT

trainyard is running at $TRAINYARD_URL (data in $data_dir). Ctrl-C stops the server; jobs
still running go on and are followed again at its next start.

In a browser: open $TRAINYARD_URL and sign in with the token below (docs/web-ui.md).

In another terminal:
  export PATH="$build_dir/apps:\$PATH" TRAINYARD_URL=$TRAINYARD_URL TRAINYARD_TOKEN=$TRAINYARD_TOKEN
  trainyard dataset list
  trainyard sweep create --name digits --command trainyard-example-trainer \\
    --train ${ids[training]} --eval ${ids[evaluation]} --pretrained ${ids[pretrained]} \\
    --param learning_rate=0.1,0.02 --param batch_size=16,64 --hp iterations=300 \\
    --objective eval_accuracy:max --max-parallel 2
  trainyard job list
  trainyard sweep show SWEEP_ID
  trainyard job download JOB_NAME --artifact model

TEXT
wait $server
