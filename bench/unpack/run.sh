#!/usr/bin/env bash
# Times archive::Unpack (bench_unpack) against `unzip -q` on the same ~1 GiB zip of mixed
# training-data-like content, interleaved so that drift in the machine hits both equally, and
# prints the median seconds of each and their ratio (target: bench_unpack <= 1.2x unzip).
#
# Usage: bench/unpack/run.sh [PATH_TO_bench_unpack]
#   BENCH_DIR      where the scratch directory goes (default: $TMPDIR or /tmp); needs ~6 GiB
#   BENCH_DATA_MB  CSV megabytes (default 2100: with the 100 MiB of blobs, a ~1 GiB zip)
#   BENCH_RUNS     runs of each tool (default 3)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
bench_unpack=${1:-${BENCH_UNPACK:-$repo/build/bench/unpack/bench_unpack}}
data_mb=${BENCH_DATA_MB:-2100}
runs=${BENCH_RUNS:-3}
if [[ ! -x $bench_unpack ]]; then
  echo "bench_unpack not found at '$bench_unpack'; build it (cmake --build build --target" \
    "bench_unpack) or pass its path" >&2
  exit 2
fi
command -v zip > /dev/null && command -v unzip > /dev/null || { echo "needs zip and unzip" >&2; exit 2; }

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bench-unpack-XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- Build the input: CSV shards (the bulk), some incompressible blobs, many small JSON files. ---
echo "generating ~${data_mb} MiB of data in $work ..." >&2
source_dir=$work/source
mkdir -p "$source_dir"/train "$source_dir"/validation "$source_dir"/images "$source_dir"/meta
# One 32 MiB pool of random CSV rows; shards are slices of it at random offsets. Deflate only sees
# 32 KiB back, so the shards compress like independent CSV (about 2.2x with zip -1).
mawk -v seed=7 'BEGIN {
  srand(seed); split("cat,dog,bird,fish,horse,lizard,mouse,owl", labels, ",")
  for (i = 0; i < 520000; i++)
    printf "%d,2024-%02d-%02dT%02d:%02d:%02d,%.5f,%.3f,%.6e,%s,%d\n", i, 1 + int(rand() * 12),
      1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), int(rand() * 60), rand(),
      rand() * 1000 - 500, rand() * rand(), labels[1 + int(rand() * 8)], int(rand() * 10000)
}' > "$work/pool.csv"
pool_bytes=$(stat -c %s "$work/pool.csv")
RANDOM=42
written=0
shard=0
while (( written < data_mb * 1024 * 1024 )); do
  size=$(( (2 << 20) + (RANDOM * 32768 + RANDOM) % (11 << 20) ))
  offset=$(( (RANDOM * 32768 + RANDOM) % (pool_bytes - size) ))
  split_dir=train
  (( shard % 5 == 4 )) && split_dir=validation
  dd if="$work/pool.csv" of="$source_dir/$split_dir/part-$(printf %05d $shard).csv" bs=1M \
    iflag=skip_bytes,count_bytes skip=$offset count=$size status=none
  written=$(( written + size ))
  shard=$(( shard + 1 ))
done
for i in $(seq 0 19); do
  head -c $(( 5 << 20 )) /dev/urandom > "$source_dir/images/blob-$i.bin"
done
for i in $(seq 0 199); do
  printf '{"shard": %d, "rows": %d, "schema": "id,timestamp,features,label"}\n' $i $(( i * 97 )) \
    > "$source_dir/meta/shard-$i.json"
done
rm "$work/pool.csv"
zip_file=$work/data.zip
(cd "$source_dir" && zip -1 -q -r "$zip_file" .)
rm -rf "$source_dir"
file_count=$(unzip -Z1 "$zip_file" | grep -vc '/$')
echo "zip: $(( $(stat -c %s "$zip_file") >> 20 )) MiB, $file_count files" >&2
cat "$zip_file" > /dev/null  # both tools start from a warm page cache

# --- Time both, interleaved; every run gets a fresh directory and starts with no dirty pages. ---
# Wall time is what the target is about; CPU time (user + sys) is printed too because it barely
# moves when other jobs compete for the cores, so it tells noise from a real difference.
TIMEFORMAT='%R %U %S'
run_timed() {  # run_timed COMMAND...; prints "wall_seconds cpu_seconds"
  local out=$work/out
  rm -rf "$out" && mkdir "$out" && sync
  { time "$@" "$out" > /dev/null 2> "$work/stderr"; } 2> "$work/time" ||
    { echo "$1 failed:" >&2; cat "$work/stderr" >&2; exit 1; }
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$work/time"
}
unzip_into() { unzip -q "$zip_file" -d "$1"; }
ours_wall=() ours_cpu=() theirs_wall=() theirs_cpu=()
for run in $(seq 1 "$runs"); do
  read -r wall cpu < <(run_timed "$bench_unpack" "$zip_file")
  ours_wall+=("$wall") ours_cpu+=("$cpu")
  read -r wall cpu < <(run_timed unzip_into)
  theirs_wall+=("$wall") theirs_cpu+=("$cpu")
  echo "run $run: bench_unpack ${ours_wall[-1]} s (cpu ${ours_cpu[-1]} s)," \
    "unzip -q ${theirs_wall[-1]} s (cpu ${theirs_cpu[-1]} s)" >&2
done
rm -rf "$work/out"

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ours=$(median "${ours_wall[@]}") theirs=$(median "${theirs_wall[@]}")
ours_c=$(median "${ours_cpu[@]}") theirs_c=$(median "${theirs_cpu[@]}")
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
echo "median bench_unpack: $ours s wall, $ours_c s cpu"
echo "median unzip -q:     $theirs s wall, $theirs_c s cpu"
echo "ratio bench_unpack/unzip: $(ratio "$ours" "$theirs") wall, $(ratio "$ours_c" "$theirs_c") cpu"
