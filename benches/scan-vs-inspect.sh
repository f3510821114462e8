#!/usr/bin/env bash
# Times `dockproof collect` and `dockproof scan` against the floor of the Engine API: one
# `docker inspect` of the same containers, measured in the same run. For each N it starts N
# labelled running containers from a locally built busybox image, runs each command R times,
# prints the median wall time, the ratio to the floor and the peak resident memory of dockproof,
# then removes everything it created.
#
#   benches/scan-vs-inspect.sh [R] [N...]      defaults: R=5, N=20
#   benches/scan-vs-inspect.sh 3 50 200 1000
#
# Needs: docker, busybox-static (/bin/busybox), GNU time (/usr/bin/time), bc.
set -euo pipefail
cd "$(dirname "$0")/.."

reps=${1:-5}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(20)
image=dockproof-bench/busybox:1
label=dockproof.bench=1

remove_containers() {
  ids=$(docker ps -aq --filter "label=$label")
  [ -z "$ids" ] || echo "$ids" | xargs -r -n 100 docker rm -f >/dev/null
}
cleanup() {
  remove_containers
  docker image rm "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
work=$(mktemp -d)
trap cleanup EXIT

mkdir -p "$work/root/bin"
cp /bin/busybox "$work/root/bin/busybox"
ln -s busybox "$work/root/bin/sleep"
tar -C "$work/root" -cf "$work/root.tar" .
docker import --change 'CMD ["/bin/sleep","86400"]' "$work/root.tar" "$image" >/dev/null

cargo build --release --quiet
bin=target/release/dockproof

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

# peak resident memory of one run, in MB
peak_mb() {
  /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1 || true
  echo "scale=1; $(tail -n 1 "$work/rss") / 1024" | bc
}

scan_run() { rm -rf "$work/bundle"; "$bin" scan --out "$work/bundle" --format html,json; }

printf '%6s %9s %9s %9s %8s %8s %9s %9s\n' N floor_s collect_s scan_s collect_x scan_x collect_MB scan_MB
for n in "${sizes[@]}"; do
  remove_containers
  seq 1 "$n" | xargs -P 4 -I{} docker run -d --label "$label" --name "dpbench-{}" "$image" >/dev/null
  ids=$(docker ps -q --filter "label=$label")
  floor=$(median docker inspect $ids)
  collect=$(median "$bin" collect -o "$work/s.json")
  scan=$(median scan_run)
  cmem=$(peak_mb "$bin" collect -o "$work/s.json")
  rm -rf "$work/bundle"
  smem=$(peak_mb "$bin" scan --out "$work/bundle" --format html,json)
  printf '%6d %9.3f %9.3f %9.3f %8.2f %8.2f %9.1f %9.1f\n' "$n" "$floor" "$collect" "$scan" \
    "$(echo "$collect / $floor" | bc -l)" "$(echo "$scan / $floor" | bc -l)" "$cmem" "$smem"
done
