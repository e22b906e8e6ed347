#!/bin/sh
# Builds the image the container executor's tests and benchmark run, without a registry and
# without pulling anything: a root file system holding trainyard-wrap, the example trainer, a
# shell and a few coreutils, and exactly the shared libraries `ldd` says they need (libcurl too,
# which trainyard-wrap loads to call the server back), imported with `<runtime> import`.
# Real images are built from a Dockerfile instead (see Dockerfile here and docs/container.md).
#
# Usage: build-image.sh TRAINYARD_WRAP EXAMPLE_TRAINER [TAG]
#   TAG defaults to localhost/trainyard-example-trainer:test. RUNTIME=docker to use docker;
#   CONTAINERS_CONF is honoured (tests give src/executor/container/containers.conf).
# An image already built from the same files (label trainyard.content) is kept as it is.
set -eu

wrap=$1
trainer=$2
tag=${3:-localhost/trainyard-example-trainer:test}
runtime=${RUNTIME:-podman}
tools="/bin/dash /bin/sleep /bin/dirname /bin/cat /bin/ls /bin/mkdir /bin/rm /usr/bin/env /bin/true"
curl_library=$(ldconfig -p | awk '/libcurl\.so\.4 \(libc6,x86-64\)/ {print $NF; exit}')

# Everything that goes in, and what they link to; the label says which files the image holds.
libraries() {
  for file in "$@"; do
    ldd "$file" 2>/dev/null | awk '/=> \// {print $3} /^[[:space:]]*\/[^ ]*ld-linux/ {print $1}'
  done | sort -u
}
files="$wrap $trainer $tools $curl_library"
needed=$(libraries $files)
# shellcheck disable=SC2086 # word splitting wanted: paths without spaces
content=$(sha256sum $(readlink -f $files $needed) | sha256sum | cut -c1-16)
existing=$($runtime image inspect --format '{{index .Labels "trainyard.content"}}' "$tag" \
  2>/dev/null || true)
if [ "$existing" = "$content" ]; then
  echo "build-image.sh: $tag is up to date ($content)"
  exit 0
fi

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/trainyard-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/usr/local/bin" "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/opt/ml"
chmod 1777 "$rootfs/tmp"
cp "$wrap" "$rootfs/usr/local/bin/trainyard-wrap"
cp "$trainer" "$rootfs/usr/local/bin/trainyard-example-trainer"
for tool in $tools; do cp "$tool" "$rootfs/bin/"; done
ln -s dash "$rootfs/bin/sh"
for library in $needed $curl_library; do
  mkdir -p "$rootfs$(dirname "$library")"
  cp -L "$library" "$rootfs$library"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$rootfs/etc/passwd"
echo "root:x:0:" > "$rootfs/etc/group"

tar -C "$rootfs" -c . | $runtime import \
  --change 'ENTRYPOINT ["/usr/local/bin/trainyard-wrap"]' \
  --change 'CMD ["train"]' \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV TRAINYARD_COMMAND=trainyard-example-trainer' \
  --change "LABEL trainyard.content=$content" \
  - "$tag" >/dev/null
echo "build-image.sh: built $tag ($content)"
