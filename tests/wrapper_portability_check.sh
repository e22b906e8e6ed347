#!/usr/bin/env bash
# trainyard-wrap goes into images it was not built for (docs/container.md): it may need only
# glibc (libc.so.6, libm.so.6) of version 2.35 or older, nothing else.
# Usage: tests/wrapper_portability_check.sh BUILD_DIR/apps/trainyard-wrap
set -euo pipefail
wrap=$1
# glibc's parts: the C library, libm and the dynamic loader (ld-linux-<arch>.so.N).
needed=$(readelf -d "$wrap" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
if [[ $(echo "$needed" | sed 's/ld-linux[^ ]*//') != " libc.so.6 libm.so.6 " ]]; then
  echo "trainyard-wrap needs more than glibc: $needed" >&2
  exit 1
fi
newest=$(objdump -T "$wrap" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
if [[ $(printf '%s\n2.35\n' "$newest" | sort -V | tail -1) != "2.35" ]]; then
  echo "trainyard-wrap needs glibc $newest, newer than 2.35" >&2
  exit 1
fi
echo "trainyard-wrap needs: $needed(glibc >= $newest)"
