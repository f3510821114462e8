#!/usr/bin/env bash
# Benchmark of the image inventory (issue 14):
#  1. inventory of N images (default 20) against `docker save` of the same images, same run:
#     inventory time = `collect --images all` minus `collect --images none` (the rest of the
#     collection), save time = sum of `docker save IMAGE > /dev/null`; target ratio <= 1.5;
#  2. peak memory (max RSS) of `collect --images in-use` with a container of one 1 GiB image;
#     target < 100 MB.
# Images are built offline (busybox-static, a dpkg status file, random payload), labelled
# dockproof.test=1 and removed at the end. Usage: benches/inventory.sh [N] [MB_PER_IMAGE] [BIG_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
MB=${2:-50}
BIG_MB=${3:-1024}
BIN=target/release/dockproof
[ -x "$BIN" ] || cargo build --release
BUSYBOX=$(command -v busybox || echo /bin/busybox)
[ -x "$BUSYBOX" ] || { echo "busybox-static is needed (apt-get install busybox-static)"; exit 2; }
WORK=$(mktemp -d)
PREFIX="dockproof-bench/inv-$$"
cleanup() {
  docker rm -f "bench-big-$$" >/dev/null 2>&1 || true
  docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$PREFIX" | xargs -r docker rmi -f >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

make_image() { # tag payload_mb layers
  local tag=$1 mb=$2 layers=$3 root="$WORK/root-$RANDOM"
  mkdir -p "$root/bin" "$root/var/lib/dpkg" "$root/usr/lib" "$root/etc" "$root/data"
  cp "$BUSYBOX" "$root/bin/busybox"
  cp tests/data/images/wheezy-vulnerable.status "$root/var/lib/dpkg/status"
  cp tests/data/images/wheezy.os-release "$root/usr/lib/os-release"
  ln -s ../usr/lib/os-release "$root/etc/os-release"
  head -c "$((mb * 1024 * 1024 / layers))" /dev/urandom > "$root/data/payload-0"
  tar -C "$root" -cf "$WORK/base.tar" .
  docker import --change 'LABEL dockproof.test=1' "$WORK/base.tar" "$tag-base" >/dev/null
  local from="$tag-base"
  for i in $(seq 1 $((layers - 1))); do
    local ctx="$WORK/ctx-$i"; mkdir -p "$ctx"
    head -c "$((mb * 1024 * 1024 / layers))" /dev/urandom > "$ctx/payload"
    printf 'FROM %s\nCOPY payload /data/payload-%s\n' "$from" "$i" > "$ctx/Dockerfile"
    DOCKER_BUILDKIT=0 docker build -q -t "$tag-l$i" "$ctx" >/dev/null 2>&1
    from="$tag-l$i"; rm -rf "$ctx"
  done
  docker tag "$from" "$tag"
  rm -rf "$root" "$WORK/base.tar"
}

now() { date +%s.%N; }
echo "building $N images of ${MB} MB (2 layers each)..."
for i in $(seq 1 "$N"); do make_image "$PREFIX:img$i" "$MB" 2; done

# `--images all` inventories every image on the engine, so `docker save` runs over the same set:
# the image ids the warm-up collection inventoried. Both sides are warmed once, then each is
# measured twice and the best run kept.
"$BIN" collect --images all -o "$WORK/all.json" >/dev/null 2>&1
python3 -c "import json;[print(i['image_id']) for i in json.load(open('$WORK/all.json')).get('inventories',[])]" > "$WORK/ids"
# An image another process removes meanwhile is skipped on both sides (a gap in the inventory).
save_all() { while read -r id; do docker save "$id" > /dev/null 2>&1 || true; done < "$WORK/ids"; }
save_all
best() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
save_runs=()
inv_runs=()
for run in 1 2; do
  t0=$(now); save_all; t1=$(now)
  save_runs+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); "$BIN" collect --images none -o "$WORK/none.json" >/dev/null 2>&1; t1=$(now)
  "$BIN" collect --images all -o "$WORK/all.json" >/dev/null 2>&1; t2=$(now)
  inv_runs+=("$(echo "($t2 - $t1) - ($t1 - $t0)" | bc)")
done
save=$(best "${save_runs[@]}")
inv=$(best "${inv_runs[@]}")
images=$(wc -l < "$WORK/ids")
total_mb=$(docker image inspect $(cat "$WORK/ids") --format '{{.Size}}' | awk '{s+=$1} END {printf "%.0f", s/1048576}')
echo "images inventoried: $images (every image on the engine, $N of them bench images; $total_mb MB in all)"
echo "docker save of the same $images images: ${save} s"
echo "inventory of all images:  ${inv} s"
python3 -c "print(f'ratio inventory / docker save: {float(\"$inv\") / float(\"$save\"):.2f} (target <= 1.5)')"

echo "building one ${BIG_MB} MB image (4 layers)..."
for i in $(seq 1 "$N"); do docker rmi -f "$PREFIX:img$i" >/dev/null; done
make_image "$PREFIX:big" "$BIG_MB" 4
docker run -d --label dockproof.test=1 --name "bench-big-$$" "$PREFIX:big" /bin/busybox sleep 600 >/dev/null
/usr/bin/time -v "$BIN" collect --images in-use -o "$WORK/big.json" 2> "$WORK/time.txt" >/dev/null
docker rm -f "bench-big-$$" >/dev/null
big_id=$(docker image inspect -f '{{.Id}}' "$PREFIX:big")
python3 - "$WORK/big.json" "$big_id" <<'PY'
import json, sys
inv = [i for i in json.load(open(sys.argv[1])).get("inventories", []) if i["image_id"] == sys.argv[2]]
if not inv:
    sys.exit("the big image was not inventoried")
i = inv[0]
print(f"big image inventoried: {len(i['layers'])} layers, {len(i['packages'])} packages, gaps {i['gaps']}")
PY
rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$WORK/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt")
echo "collect --images in-use with a running ${BIG_MB} MB image: peak RSS $((rss / 1024)) MB (target < 100 MB), wall $wall"
