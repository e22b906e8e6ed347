#!/bin/sh
# Makes a minimal glibc base image with no registry and nothing pulled, standing in for
# debian:bookworm-slim where no registry on the internet can be reached (the tests): a shell, a
# few coreutils, and exactly the shared libraries `ldd` says the given binaries need (libcurl
# too, which trainyard-wrap loads to call the server back), imported with `<runtime> import`.
# examples/container/Dockerfile is then built FROM it:
#
#   build-base-image.sh localhost/trainyard-base:test build/apps/trainyard-wrap \
#     build/examples/trainer/trainyard-example-trainer
#   podman build -f examples/container/Dockerfile --build-arg BASE_IMAGE=localhost/trainyard-base:test \
#     --build-arg APT_PACKAGES= -t team/trainer:v1 build
#
# Usage: build-base-image.sh TAG BINARY... (RUNTIME=docker to use docker; CONTAINERS_CONF is
# honoured). An image already made from the same files (label trainyard.content) is kept.
set -eu

tag=$1
shift
runtime=${RUNTIME:-podman}
tools="/bin/dash /bin/sleep /bin/dirname /bin/cat /bin/ls /bin/mkdir /bin/rm /usr/bin/env /bin/true"
curl_library=$(ldconfig -p | awk '/libcurl\.so\.4 \(libc6,x86-64\)/ {print $NF; exit}')

libraries() {
  for file in "$@"; do
    ldd "$file" 2>/dev/null | awk '/=> \// {print $3} /^[[:space:]]*\/[^ ]*ld-linux/ {print $1}'
  done | sort -u
}
needed=$(libraries "$@" $tools $curl_library)
# shellcheck disable=SC2086 # word splitting wanted: paths without spaces
content=$(sha256sum $(readlink -f $tools $curl_library $needed) | sha256sum | cut -c1-16)
existing=$($runtime image inspect --format '{{index .Labels "trainyard.content"}}' "$tag" \
  2>/dev/null || true)
if [ "$existing" = "$content" ]; then
  echo "build-base-image.sh: $tag is up to date ($content)"
  exit 0
fi

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/trainyard-base.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/usr/local/bin" "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/opt/ml"
chmod 1777 "$rootfs/tmp"
for tool in $tools; do cp "$tool" "$rootfs/bin/"; done
ln -s dash "$rootfs/bin/sh"
for library in $needed $curl_library; do
  mkdir -p "$rootfs$(dirname "$library")"
  cp -L "$library" "$rootfs$library"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$rootfs/etc/passwd"
echo "root:x:0:" > "$rootfs/etc/group"

tar -C "$rootfs" -c . | $runtime import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change "LABEL trainyard.content=$content" \
  - "$tag" >/dev/null
echo "build-base-image.sh: built $tag ($content)"
