#!/usr/bin/env bash
# Times `dockproof collect` and a full `dockproof scan` against the floor of the Engine API: one
# `docker inspect` of the same containers, measured in the same run. For each N it brings the
# number of labelled running containers up to N (busybox `sleep`, no network, small memory
# limit), runs each command R times and prints the median wall time, the ratio to the floor and
# dockproof's peak resident memory (the largest of the R runs). Everything it created is removed
# on exit, including on Ctrl-C.
#
#   benches/scan-vs-inspect.sh [R] [N...]      defaults: R=3, N = 50 200 1000
#   benches/scan-vs-inspect.sh 5 20 200
#
# Environment: FORMATS (default html,pdf,json, the scan default), JOBS (parallel `docker
# create` calls, default 8), BIN (a prebuilt dockproof; default: cargo build --release).
# Needs: docker, busybox-static (/bin/busybox), GNU time (/usr/bin/time), awk.
set -euo pipefail
cd "$(dirname "$0")/.."

reps=${1:-3}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(50 200 1000)
formats=${FORMATS:-html,pdf,json}
jobs=${JOBS:-8}
image=dockproof-bench/busybox:1
labels=(--label dockproof.test=1 --label dockproof.bench=1)

work=$(mktemp -d)
remove_containers() {
  docker ps -aq --filter label=dockproof.bench=1 | xargs -r -n 200 docker rm -f >/dev/null 2>&1 || true
}
cleanup() {
  trap - EXIT INT TERM
  echo "removing benchmark containers" >&2
  remove_containers
  docker image rm "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/root/bin"
cp /bin/busybox "$work/root/bin/busybox"
ln -s busybox "$work/root/bin/sleep"
tar -C "$work/root" -cf "$work/root.tar" .
docker import --change 'CMD ["/bin/sleep","3600"]' "$work/root.tar" "$image" >/dev/null

if [ -n "${BIN:-}" ]; then
  bin=$BIN
else
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-target}/release/dockproof
fi

# Starts containers until N labelled ones run. `docker create` in parallel, then `docker start`
# in batches of 100 ids: one CLI process per container is what makes this slow.
grow_to() {
  local want=$1 have
  have=$(docker ps -q --filter label=dockproof.bench=1 | wc -l)
  [ "$have" -lt "$want" ] || return 0
  seq "$((have + 1))" "$want" | xargs -P "$jobs" -I{} docker create "${labels[@]}" \
    --name "dpbench-{}" --network none --memory 16m --log-driver none "$image" >/dev/null
  docker ps -aq --filter label=dockproof.bench=1 --filter status=created |
    xargs -r -n 100 -P 2 docker start >/dev/null
}

# Runs a command R times; prints "median_seconds max_rss_kb".
measure() {
  local out=$work/runs
  : >"$out"
  for _ in $(seq 1 "$reps"); do
    rm -rf "$work/bundle"
    /usr/bin/time -f '%e %M' -a -o "$out" "$@" >/dev/null 2>"$work/err" ||
      { cat "$work/err" >&2; return 1; }
  done
  sort -n "$out" | awk '{t[NR]=$1; if ($2>m) m=$2} END {print t[int((NR+1)/2)], m}'
}

printf '%6s %8s %9s %7s %9s %7s %10s %8s\n' \
  N floor_s collect_s ×floor scan_s ×floor collect_MB scan_MB
for n in "${sizes[@]}"; do
  grow_to "$n"
  # Shrinking (a smaller N after a larger one) removes the highest-numbered containers.
  docker ps -q --filter label=dockproof.bench=1 | tail -n "+$((n + 1))" | xargs -r docker rm -f >/dev/null
  mapfile -t ids < <(docker ps -q --filter label=dockproof.bench=1)
  read -r floor _ < <(measure docker inspect "${ids[@]}")
  read -r collect cmem < <(measure "$bin" collect -o "$work/s.json")
  read -r scan smem < <(measure "$bin" scan --out "$work/bundle" --format "$formats")
  awk -v n="$n" -v f="$floor" -v c="$collect" -v s="$scan" -v cm="$cmem" -v sm="$smem" \
    'BEGIN {printf "%6d %8.2f %9.2f %7.2f %9.2f %7.2f %10.0f %8.0f\n", n, f, c, c/f, s, s/f, cm/1024, sm/1024}'
done
