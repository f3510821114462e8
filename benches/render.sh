#!/usr/bin/env bash
# Times the HTML and PDF renderers against the JSON renderer of the same assessment, measured in
# the same run. For each target N it writes a snapshot that replicates the insecure sample's
# containers until the assessment holds about N results, then runs `dockproof report` (release
# build, end to end: load, evaluate, render, write the bundle) once per format, R times each,
# and prints the median wall time, the ratio to the JSON run, the peak resident memory, the file
# size and, for the PDF, the page count. The JSON run is the floor: it loads and evaluates the
# same snapshot and writes the assessment, so the ratio shows what each renderer adds.
#
#   benches/render.sh [R] [N...]      defaults: R=3, N=200 2000 10000
#
# Needs: python3, pdfinfo (poppler-utils). No Docker engine. DOCKPROOF_BIN: see below.
set -euo pipefail
cd "$(dirname "$0")/.."

reps=${1:-3}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(200 2000 10000)

# DOCKPROOF_BIN names an already built release binary (for example the static one the container
# image ships, see benches/fleet.sh) instead of building one here.
if [ -n "${DOCKPROOF_BIN:-}" ]; then
  bin=$DOCKPROOF_BIN
else
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-target}/release/dockproof
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$bin" "$work" "$reps" "${sizes[@]}" <<'PY'
import copy, json, os, statistics, subprocess, sys, time

bin_, work, reps, sizes = sys.argv[1], sys.argv[2], int(sys.argv[3]), [int(s) for s in sys.argv[4:]]
sample = json.load(open("samples/insecure-host.snapshot.json"))

def report(snapshot, fmt, out):
    """Runs one report; returns (seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen([bin_, "report", snapshot, "--format", fmt, "--out", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"dockproof report --format {fmt} failed on {snapshot}")
    return elapsed, usage.ru_maxrss / 1024

def snapshot_with(copies):
    snap = copy.deepcopy(sample)
    base = sample["engine"]["containers"]
    snap["engine"]["containers"] = []
    for i in range(copies):
        for c in base:
            c = copy.deepcopy(c)
            c["Id"] = f"{i:08x}" + c["Id"][8:]
            c["Name"] = f"{c['Name']}-{i}"
            snap["engine"]["containers"].append(c)
    path = os.path.join(work, f"snap-{copies}.json")
    json.dump(snap, open(path, "w"))
    return path

def results(snapshot):
    out = os.path.join(work, "probe")
    subprocess.run([bin_, "report", snapshot, "--format", "json", "--out", out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    n = len(json.load(open(os.path.join(out, "assessment.json")))["results"])
    subprocess.run(["rm", "-rf", out], check=True)
    return n

# Results that do not depend on the containers, and results per copy of the four containers.
one, two = results(snapshot_with(1)), results(snapshot_with(2))
per_copy, fixed = two - one, one - (two - one)

def pages(pdf):
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    return next(int(l.split()[1]) for l in info.splitlines() if l.startswith("Pages:"))

print(f"{'results':>8} {'format':<6} {'median s':>9} {'x json':>7} {'peak MiB':>9} {'size':>10} {'pages':>6}")
for target in sizes:
    copies = max(1, round((target - fixed) / per_copy))
    snapshot = snapshot_with(copies)
    n = results(snapshot)
    rows = {}
    for fmt, file in [("json", "assessment.json"), ("html", "report.html"), ("pdf", "report.pdf")]:
        runs = []
        for r in range(reps):
            out = os.path.join(work, f"b-{target}-{fmt}-{r}")
            runs.append(report(snapshot, fmt, out))
        secs = statistics.median(t for t, _ in runs)
        peak = max(m for _, m in runs)
        path = os.path.join(out, file)
        rows[fmt] = (secs, peak, os.path.getsize(path), pages(path) if fmt == "pdf" else None)
    for fmt, (secs, peak, size, npages) in rows.items():
        ratio = secs / rows["json"][0]
        print(f"{n:>8} {fmt:<6} {secs:>9.3f} {ratio:>7.2f} {peak:>9.1f} {size:>10} {npages or '':>6}")
PY
