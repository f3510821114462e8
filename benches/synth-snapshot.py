#!/usr/bin/env python3
"""Writes a snapshot with N containers, made by repeating the containers of a sample snapshot
under new names and ids, for repeatable profiles of `dockproof report` without a live engine.

    benches/synth-snapshot.py 1000 > /tmp/synth-1000.json
    benches/synth-snapshot.py 1000 samples/hardened-host.snapshot.json > /tmp/h.json
"""
import copy
import hashlib
import json
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
source = sys.argv[2] if len(sys.argv) > 2 else "samples/insecure-host.snapshot.json"
with open(source) as f:
    snap = json.load(f)

templates = snap["engine"]["containers"]
containers = []
for i in range(n):
    c = copy.deepcopy(templates[i % len(templates)])
    base = c.get("Name", "/c").lstrip("/")
    c["Name"] = f"/{base}-{i:05d}"
    c["Id"] = hashlib.sha256(f"{base}-{i}".encode()).hexdigest()
    containers.append(c)
containers.sort(key=lambda c: (c["Name"], c["Id"]))
snap["engine"]["containers"] = containers
json.dump(snap, sys.stdout, indent=2)
sys.stdout.write("\n")
