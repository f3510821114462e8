#!/usr/bin/env bash
# Shows that a fleet's memory follows its largest host, not its size: `dockproof report` over a
# directory of N snapshots against `report` of one of them, measured in the same run.
#
# Each snapshot replicates the insecure sample's containers to C containers (benches/
# synth-snapshot.py) under its own node name. The baseline is a single-host report of one such
# snapshot; then fleets of N copies are reported from a directory, as a DaemonSet's volume
# holds them. Printed per run: wall time, peak resident memory, and both as ratios to the
# baseline. Memory should stay near 1x while time grows with N.
#
#   benches/fleet-report.sh [C] [N...]     defaults: C=500, N=1 10 40
#
# DOCKPROOF_BIN=PATH uses that binary instead of building the release one (the memory ratio
# does not depend on the build profile; the times do). Needs: python3. No Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."

containers=${1:-500}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 10 40)

if [ -n "${DOCKPROOF_BIN:-}" ]; then
    bin=$DOCKPROOF_BIN
else
    cargo build --release --quiet
    bin=${CARGO_TARGET_DIR:-target}/release/dockproof
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/synth-snapshot.py "$containers" > "$work/one.json"

python3 - "$bin" "$work" "${sizes[@]}" <<'PY'
import os, shutil, subprocess, sys, time

bin_, work, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
one = os.path.join(work, "one.json")

def run(args, out):
    """Runs dockproof; returns (seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen([bin_] + args + ["--format", "html,pdf,json", "--out", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"dockproof {' '.join(args)} failed")
    shutil.rmtree(out)
    return elapsed, usage.ru_maxrss / 1024

base_t, base_m = run(["report", one], os.path.join(work, "single"))
print(f"{'run':<28} {'wall s':>8} {'x base':>7} {'peak MiB':>9} {'x base':>7}")
print(f"{'single host (baseline)':<28} {base_t:8.2f} {1:7.2f} {base_m:9.1f} {1:7.2f}")
for n in sizes:
    d = os.path.join(work, f"fleet-{n}")
    os.makedirs(d)
    for i in range(n):
        os.link(one, os.path.join(d, f"node-{i:04d}-20261201T000000Z.snapshot.json"))
    t, m = run(["report", d], os.path.join(work, f"out-{n}"))
    print(f"{f'fleet of {n} hosts':<28} {t:8.2f} {t / base_t:7.2f} {m:9.1f} {m / base_m:7.2f}")
    shutil.rmtree(d)
PY
