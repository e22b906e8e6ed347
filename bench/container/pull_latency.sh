#!/usr/bin/env bash
# Times start -> user code running for a container job whose image is NOT on the host: the
# container executor (Submit, pull through its image puller, `podman run`) against a bare
# `podman pull` + `podman run` of the same image, interleaved pairs in one process, the image
# removed from the store before each run. The image is examples/container/Dockerfile built FROM
# a locally made base (build-base-image.sh), pushed to Debian's docker-registry started here on
# loopback (TLS with a certificate made by openssl, htpasswd basic auth, marked insecure in a
# registries.conf of this run's own; nothing in /etc is touched).
#
# Usage: bench/container/pull_latency.sh [BUILD_DIR]     (default: build)
#   BENCH_PAIRS   interleaved pairs (default 5)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build=$repo/$build
pairs=${BENCH_PAIRS:-5}
bench=$build/bench/container/bench_container_start
wrap=$build/apps/trainyard-wrap
trainer=$build/examples/trainer/trainyard-example-trainer
for bin in "$bench" "$wrap" "$trainer"; do
  [[ -x $bin ]] || { echo "missing $bin; build it first (make build)" >&2; exit 2; }
done
for tool in podman docker-registry htpasswd openssl; do
  command -v $tool > /dev/null || { echo "skipped: $tool is not installed" >&2; exit 0; }
done
export CONTAINERS_CONF=$repo/src/executor/container/containers.conf

dir=$(mktemp -d "${TMPDIR:-/tmp}/trainyard-pull-bench.XXXXXX")
registry_pid=""
cleanup() {
  # The registry may have ended by itself already; the directory goes either way.
  [[ -z $registry_pid ]] || kill "$registry_pid" 2> /dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
password=bench-$RANDOM$RANDOM
htpasswd -Bbc "$dir/htpasswd" bench "$password" 2> /dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2> /dev/null
cat > "$dir/config.yml" << YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $dir/storage}}
http: {addr: "$host", secret: "$password", tls: {certificate: $dir/cert.pem, key: $dir/key.pem}}
auth: {htpasswd: {realm: bench, path: $dir/htpasswd}}
YAML
docker-registry serve "$dir/config.yml" > "$dir/registry.log" 2>&1 &
registry_pid=$!
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$host" > "$dir/registries.conf"
export CONTAINERS_REGISTRIES_CONF=$dir/registries.conf
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$host" "$(printf 'bench:%s' "$password" | base64 -w0)" \
  > "$dir/auth.json"
export REGISTRY_AUTH_FILE=$dir/auth.json
for _ in $(seq 100); do
  curl -skf -u "bench:$password" "https://$host/v2/" > /dev/null && break
  sleep 0.1
done

base=localhost/trainyard-base:bench
image=$host/bench/trainer:v1
sh "$repo/examples/container/build-base-image.sh" "$base" "$wrap" "$trainer" > /dev/null
mkdir -p "$dir/context/apps" "$dir/context/examples/trainer"
cp "$wrap" "$dir/context/apps/"
cp "$trainer" "$dir/context/examples/trainer/"
podman build --quiet -f "$repo/examples/container/Dockerfile" --build-arg "BASE_IMAGE=$base" \
  --build-arg APT_PACKAGES= -t "$image" "$dir/context" > /dev/null
podman push --quiet "$image"
size=$(podman image inspect --format '{{.Size}}' "$image")
podman rmi "$image" > /dev/null

echo "== start -> user code running with a cold image store ($((size / 1000000)) MB image from a loopback registry): container executor vs bare podman pull + run, $pairs pairs"
echo "   podman $(podman version --format '{{.Client.Version}}'), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}')"
"$bench" "$image" "$CONTAINERS_CONF" "$pairs" cold
podman rmi --ignore "$image" > /dev/null
