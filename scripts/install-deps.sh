#!/usr/bin/env bash
# Installs the Debian packages that trainyard's build, tests and benchmarks need.
# Idempotent: packages already installed are skipped, so a second run costs a dpkg query.
set -euo pipefail

packages=(
  # build
  g++ cmake make pkg-config
  libarchive-dev libacl1-dev libzstd-dev liblz4-dev libxml2-dev
  libcurl4-openssl-dev nlohmann-json3-dev libcli11-dev
  # tests
  libgtest-dev libgmock-dev python3 python3-jsonschema zip unzip
  # benchmarks
  hyperfine
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
