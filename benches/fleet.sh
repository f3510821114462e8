#!/usr/bin/env bash
# Fleet benchmark: E replay engines of C containers each (benches/fleet-replay/replay.rs, answers
# recorded from a Docker Engine 20.10 in samples/insecure-host.snapshot.json), collected and
# reported, against a single-host scan of one of the same engines measured in the same run.
#
#   benches/fleet.sh [E] [C]        defaults: E=100, C=200
#
# Prints wall time and peak resident memory (GNU time) of:
#   baseline   `scan` of engine 0 alone (collect + evaluate + html,pdf,json bundle)
#   fleet      `scan --targets` of all E engines, when this build has --targets
#   collect    `collect` of every engine into one directory, one after the other (what the
#              DaemonSet leaves on its volume), then `report DIR` of it when report takes a
#              directory
#   serial     E single-host `scan`s one after the other (the way to a fleet without --targets)
# and each one's ratio to the baseline. Targets (issue 13): E=100 C=200 collected and reported in
# under 20 s; E=100 C=1000 under 1 GB peak. Image inventories are off (--images none): the replay
# engines serve no image export streams.
# Needs: /usr/bin/time (GNU), python3. No Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."

engines=${1:-100}
containers=${2:-200}
formats=html,pdf,json

# The binary measured is the one the container image ships (static, release), built in the
# target directory tests/image.rs uses, so one build serves both. DOCKPROOF_BIN and REPLAY_BIN
# name already built binaries instead (the example pulls in the dev-dependencies, whose
# features make a release build of it rebuild much of the dependency tree once).
if [ -n "${DOCKPROOF_BIN:-}" ] && [ -n "${REPLAY_BIN:-}" ]; then
  bin=$DOCKPROOF_BIN
  replay=$REPLAY_BIN
else
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/image}
  RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --quiet \
    --target x86_64-unknown-linux-gnu --bin dockproof --example fleet-replay
  bin=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/dockproof
  replay=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/examples/fleet-replay
fi
work=$(mktemp -d)
replay_pid=
cleanup() {
  [ -z "$replay_pid" ] || kill "$replay_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/sockets" "$work/snapshots" "$work/out"
"$replay" samples/insecure-host.snapshot.json "$work/sockets" \
  "$engines" "$containers" >"$work/replay.out" &
replay_pid=$!
for _ in $(seq 100); do grep -q ready "$work/replay.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$work/replay.out" || { echo "the replay engine did not start" >&2; exit 1; }

{
  echo "targets:"
  for i in $(seq 0 $((engines - 1))); do
    printf '  - name: engine-%d\n    docker_host: unix://%s/sockets/engine-%d.sock\n' "$i" "$work" "$i"
  done
} >"$work/targets.yaml"

# measure NAME COMMAND...: runs it under GNU time; appends "NAME seconds peak_kB" to results.
measure() {
  local name=$1
  shift
  if ! /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/$name.log" 2>&1; then
    # Exit 1 is "failures found", the normal outcome of scanning the insecure sample.
    grep -q 'exited with non-zero status 1$' "$work/time" \
      || { echo "$name failed:"; tail -5 "$work/$name.log"; exit 1; }
  fi
  echo "$name $(tail -n1 "$work/time")" >>"$work/results"
}

sock() { echo "unix://$work/sockets/engine-$1.sock"; }

measure baseline "$bin" scan -H "$(sock 0)" --images none --format $formats \
  --out "$work/out/baseline"

if "$bin" scan --help | grep -q -- '--targets'; then
  measure fleet "$bin" scan --targets "$work/targets.yaml" --images none --format $formats \
    --out "$work/out/fleet"
else
  echo "note: this build's scan has no --targets; the fleet scan is not measured" >&2
fi

# The per-node way: collect every engine into one directory, one after the other.
cat >"$work/collect-all" <<EOF
#!/usr/bin/env bash
set -e
for i in \$(seq 0 $((engines - 1))); do
  "$bin" collect -H "unix://$work/sockets/engine-\$i.sock" --images none \
    -o "$work/snapshots/engine-\$i.snapshot.json" >/dev/null 2>&1
done
EOF
chmod +x "$work/collect-all"
measure collect "$work/collect-all"
if "$bin" report "$work/snapshots/" --format $formats --out "$work/out/report-dir" \
  >"$work/report-dir.log" 2>&1 || [ $? = 1 ]; then
  measure report-dir "$bin" report "$work/snapshots/" --format $formats \
    --out "$work/out/report-dir-timed"
else
  echo "note: this build's report does not read a directory of snapshots ($(tail -n1 \
    "$work/report-dir.log")); not measured" >&2
fi

cat >"$work/serial" <<EOF
#!/usr/bin/env bash
set -e
for i in \$(seq 0 $((engines - 1))); do
  "$bin" scan -H "unix://$work/sockets/engine-\$i.sock" --images none --format $formats \
    --out "$work/out/serial-\$i" >/dev/null 2>&1 || [ \$? = 1 ]
done
EOF
chmod +x "$work/serial"
measure serial "$work/serial"

echo "fleet benchmark: $engines engines x $containers containers, formats $formats, $(nproc) cores"
python3 - "$work/results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
base_s, base_kb = float(rows[0][1]), int(rows[0][2])
print(f"{'run':<12}{'wall s':>9}{'x base':>9}{'peak MB':>10}{'x base':>9}")
for name, s, kb in rows:
    s, kb = float(s), int(kb)
    print(f"{name:<12}{s:>9.2f}{s / base_s:>9.1f}{kb / 1024:>10.1f}{kb / base_kb:>9.2f}")
PY
echo "(serial and collect peaks are the largest single process of the loop)"
