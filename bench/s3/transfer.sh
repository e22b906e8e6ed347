#!/usr/bin/env bash
# Upload and download of one 1 GiB file (random bytes) through `trainyard server`'s S3-compatible
# endpoint (--s3-listen, over the default local object store), by S3ObjectStore (bench_s3: 8 MiB
# parts, 4 in parallel, above 16 MiB) against Debian's awscli v2 (`aws s3 cp`: 8 MiB parts, 10
# threads, above 8 MiB), interleaved, BENCH_REPS times each, median wall time. Both sign every
# payload (plain HTTP), both stream the file from and to the same /tmp file system, and every
# download is compared with the original. Then SigV4 signatures per second of one thread.
# Target: S3ObjectStore at least as fast as awscli (ratio awscli time / trainyard time >= 1).
#
# Usage: bench/s3/transfer.sh [BUILD_DIR]     (default: build)
#   BENCH_REPS      repetitions of each transfer (default 3)
#   BENCH_SIZE      the file's size for head -c (default 1G)
set -euo pipefail
source "$(dirname "$0")/../server/lib.sh"
bench_init "${1:-build}"
reps=${BENCH_REPS:-3}
size=${BENCH_SIZE:-1G}
bench_s3=$build/bench/s3/bench_s3
aws=/usr/bin/aws
[[ -x $bench_s3 ]] || { echo "missing $bench_s3; build it first (make build)" >&2; exit 2; }
[[ -x $aws ]] || { echo "needs Debian's awscli at $aws (scripts/install-deps.sh)" >&2; exit 2; }

work=$(mktemp -d)
trap bench_cleanup EXIT
head -c "$size" /dev/urandom > "$work/blob"
bytes=$(stat -c %s "$work/blob")

s3_port=$(bench_free_port)
endpoint=http://127.0.0.1:$s3_port
export TRAINYARD_S3_ACCESS_KEY_ID=AKIDBENCH TRAINYARD_S3_SECRET_ACCESS_KEY=bench-secret-$RANDOM
bench_start_server --s3-listen "127.0.0.1:$s3_port"
# Both clients find the same keys the same way; nothing from the user's ~/.aws.
export AWS_ACCESS_KEY_ID=$TRAINYARD_S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$TRAINYARD_S3_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_ENDPOINT_URL_S3=$endpoint
"$aws" --endpoint-url "$endpoint" s3 mb s3://bench > /dev/null

seconds() { date +%s.%N; }
timed() {  # timed VAR command...: runs the command, appends its wall time to the array VAR
  local -n into=$1
  shift
  local start
  start=$(seconds)
  "$@" > /dev/null
  into+=("$(awk -v a="$(seconds)" -v b="$start" 'BEGIN { print a - b }')")
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

aws_up=() aws_down=() ty_up=() ty_down=()
for (( rep = 1; rep <= reps; rep++ )); do
  timed aws_up "$aws" --endpoint-url "$endpoint" s3 cp --only-show-errors "$work/blob" s3://bench/aws/blob
  timed ty_up "$bench_s3" put s3://bench/ty blob "$work/blob"
  timed aws_down "$aws" --endpoint-url "$endpoint" s3 cp --only-show-errors s3://bench/aws/blob "$work/down-aws"
  timed ty_down "$bench_s3" get s3://bench/ty blob "$work/down-ty"
  cmp "$work/blob" "$work/down-aws"
  cmp "$work/blob" "$work/down-ty"
  rm -f "$work/down-aws" "$work/down-ty"
  echo "rep $rep: up awscli ${aws_up[-1]} s, trainyard ${ty_up[-1]} s; down awscli ${aws_down[-1]} s, trainyard ${ty_down[-1]} s"
done

report() {  # report NAME AWS_MEDIAN TY_MEDIAN
  awk -v name="$1" -v a="$2" -v t="$3" -v b="$bytes" 'BEGIN {
    printf "%-9s awscli %6.2f s (%6.1f MiB/s)   S3ObjectStore %6.2f s (%6.1f MiB/s)   ratio %.2fx %s\n",
      name, a, b / 1048576 / a, t, b / 1048576 / t, a / t, (a / t >= 1 ? "(target >= 1x: met)" : "(target >= 1x: MISSED)") }'
}
echo "size $bytes bytes, $reps reps, medians:"
report upload "$(median "${aws_up[@]}")" "$(median "${ty_up[@]}")"
report download "$(median "${aws_down[@]}")" "$(median "${ty_down[@]}")"
"$bench_s3" sign 3
