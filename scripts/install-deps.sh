#!/usr/bin/env bash
# Installs the Debian packages that trainyard's build and tests need; with --bench, also those
# of the benchmarks (`make bench`). Idempotent: packages already installed are skipped, so a
# second run costs a dpkg query.
set -euo pipefail

packages=(
  # build
  g++ cmake make pkg-config
  # LLVM's linker: links the ~70 binaries (tests included) about 3x faster than GNU ld
  lld
  libarchive-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcli11-dev
  libboost-dev libsqlite3-dev libpcre2-dev
  # the PostgreSQL metadata store (src/metadata/postgres_*): libpq, PostgreSQL's own C client.
  # Not libpqxx: bookworm ships 6.4, whose API differs from today's 7.x, and it reports errors by
  # exceptions that would all be caught at the store anyway; libpq's results and SQLSTATEs map
  # straight onto Status, and libpq5 is on every machine that has a PostgreSQL client.
  libpq-dev
  # metric regexes in linear time (src/contract/metric_pattern.h), linked statically (libre2.a)
  libre2-dev
  # the log (src/common/log.h)
  libspdlog-dev
  # the SageMaker and CloudWatch Logs service models, built into trainyard (src/aws/service_model.h)
  python3-botocore
  # libarchive is linked statically (src/archive/CMakeLists.txt says why): its own dependencies
  nettle-dev libacl1-dev liblzma-dev libzstd-dev liblz4-dev libbz2-dev zlib1g-dev libxml2-dev
  # tests
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-jsonschema zip unzip curl
  # tests with clients nobody here wrote: the S3 endpoint against awscli and boto3, the S3 store
  # against s3rver (npm, see tests/npm); the container executor with podman over runc
  awscli python3-boto3 nodejs podman runc
  # the slurm executor's tests: a real one-node Slurm cluster (munged, slurmctld, slurmd, the
  # client commands; slurmrestd and the JWT plugin, auth/jwt, for the REST transport), which the
  # tests start themselves in a temp dir with their own slurm.conf, munge key and JWT key
  # (tests/support/slurm_cluster.h); they never use /etc/slurm nor the system's munge daemon
  slurmctld slurmd slurm-client munge slurmrestd slurm-wlm-jwt-plugin
  # the slurm executor pins a sweep's image to the digest its registry serves (skopeo inspect:
  # the manifest only, no pull; docs/slurm.md, "Images")
  skopeo
  # the container executor's pull tests: a real registry from Debian (docker-registry, the CNCF
  # distribution 2.8) on loopback with TLS and htpasswd basic auth (htpasswd -B from
  # apache2-utils), started by the tests themselves (tests/support/registry_fixture.h), never as
  # the package's own service (port 5000, where systemd runs); buildah builds
  # examples/container/Dockerfile as teams do
  docker-registry apache2-utils buildah
  # the PostgreSQL metadata store's tests start a real PostgreSQL 15 (tests/support/postgres_fixture.h)
  postgresql-15
  # the web UI's end-to-end test (tests/web/ui_test.mjs): Debian's Chromium, driven headless by
  # playwright-core (web/package.json), which never downloads a browser of its own
  chromium
)
if [[ "${1:-}" == "--bench" ]]; then
  # hyperfine times commands; nginx is the peer of the server's transfer benchmark and the load
  # balancer of bench/replicas/replicas.py
  packages+=(hyperfine nginx)
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done"
fi

# Node.js also builds the web UI (vite 7 needs 20.19+). NodeSource's nodejs package carries npm;
# Debian's own needs the npm package beside it.
if ! command -v npm >/dev/null; then
  echo "install-deps: installing npm"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm >/dev/null
fi

# npm packages, exactly as locked; again only when the lock changed since the last install.
root=$(cd "$(dirname "$0")/.." && pwd)
# web: the UI's build (vite, uPlot, Preact) and playwright-core for its test; the build runs the
# same `npm ci` when the lock is newer (web/npm_ci.cmake).
for project in tests/npm web; do
  lock="$root/$project/package-lock.json"
  stamp="$root/$project/node_modules/.package-lock.json"
  if [[ ! -f "$stamp" || "$lock" -nt "$stamp" ]]; then
    echo "install-deps: npm ci in $project"
    npm ci --prefix "$root/$project" --no-audit --no-fund --loglevel=error >/dev/null
  fi
done
