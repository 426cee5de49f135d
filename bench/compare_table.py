#!/usr/bin/env python3
"""Summarises bench/compare's rows: per (model, batch, length, case), min/median/max over rounds of each side's median
time, and the ratio of the two medians against the issue's target of 0.5 (ActScale at most half of PyTorch eager)."""
import csv, statistics, sys

TARGET = 0.5
rows = [r for r in csv.reader(open(sys.argv[1])) if r and r[0] in ("actscale", "pytorch") and r[5] != "load"]
cases = {}
for r in rows:
    key = f"{r[1]} {r[3]}x{r[4]} {r[5]}"
    cases.setdefault(key, {}).setdefault(r[0], []).append(float(r[6]))
spread = lambda v: f"{min(v):8.1f} {statistics.median(v):8.1f} {max(v):8.1f}"
print(f"\n{'case':34s} {'ActScale ms (min/med/max)':>27s}  {'PyTorch ms (min/med/max)':>27s}  ratio  target <= {TARGET}")
for key, impl in cases.items():
    a, p = impl.get("actscale", []), impl.get("pytorch", [])
    if not a or not p:
        continue
    ratio = statistics.median(a) / statistics.median(p)
    print(f"{key:34s} {spread(a)}  {spread(p)}  {ratio:5.2f}  {'met' if ratio <= TARGET else 'MISSED'}")
