#!/usr/bin/env bash
# Times `dockproof collect` and `dockproof scan` against the floor of the Engine API: one
# `docker inspect` of the same containers. Starts N labelled containers (default 20) from a
# locally built busybox image, runs each command R times (default 5), prints the median wall
# times and the ratios to the floor, then removes everything it created.
#
#   benches/scan-vs-inspect.sh [N] [R]
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-20}
reps=${2:-5}
image=dockproof-bench/busybox:1
label=dockproof.bench=1

cleanup() {
  ids=$(docker ps -aq --filter "label=$label")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
  docker image rm "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
work=$(mktemp -d)
trap cleanup EXIT

if ! docker image inspect "$image" >/dev/null 2>&1; then
  mkdir -p "$work/root/bin"
  cp /bin/busybox "$work/root/bin/busybox"
  ln -s busybox "$work/root/bin/sleep"
  tar -C "$work/root" -cf "$work/root.tar" .
  docker import --change 'CMD ["/bin/sleep","86400"]' "$work/root.tar" "$image" >/dev/null
fi

cargo build --release --quiet
bin=target/release/dockproof

echo "starting $n containers" >&2
for i in $(seq 1 "$n"); do
  docker run -d --label "$label" --name "dpbench-$i" "$image" >/dev/null
done
ids=$(docker ps -q --filter "label=$label")

# median of R runs of a command, in seconds
median() {
  local times=()
  for _ in $(seq 1 "$reps"); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

floor=$(median docker inspect $ids)
collect=$(median "$bin" collect -o "$work/s.json")
scan_run() { rm -rf "$work/bundle"; "$bin" scan --out "$work/bundle" --format html,json; }
scan=$(median scan_run)

printf '%-28s %8s %8s\n' "command ($n containers)" "median s" "x floor"
printf '%-28s %8.3f %8.2f\n' "docker inspect (floor)" "$floor" 1
printf '%-28s %8.3f %8.2f\n' "dockproof collect" "$collect" "$(echo "$collect / $floor" | bc -l)"
printf '%-28s %8.3f %8.2f\n' "dockproof scan (html,json)" "$scan" "$(echo "$scan / $floor" | bc -l)"
