#!/usr/bin/env python3
"""Compares two builds' FixedHeap runs, each of several JMH JSON files (rounds alternated between the builds).

Usage: python3 hce-memory-benchmarks/scripts/compare.py 'before-*.json' 'after-*.json'
Each figure is the median of every measured iteration of all the files given for a build (for the fill
benchmarks, their "operations" counter: allocations and frees per microsecond). The speed-up over malloc is
glibc's time per operation over FixedHeap's, both from the same build's runs, so from the same JVM processes'
neighbourhood in time; "after / before" compares FixedHeap with itself. The last column divides by glibc's
median over both builds' runs (its code is the same in both), which damps glibc's own run-to-run swings.
"""
import glob
import json
import statistics
import sys
from collections import defaultdict

SHAPES = [("shuffled", "heapMiB=1"), ("shuffled", "heapMiB=16"), ("inOrder", "heapMiB=1024"),
          ("shuffled", "heapMiB=1024"), ("steady", "heapMiB=1024"), ("inOrder", "heapMiB=1"),
          ("inOrder", "heapMiB=16"), ("steady", "heapMiB=1"), ("steady", "heapMiB=16"), ("put", "")]


def medians(*patterns):
    values = defaultdict(list)
    for path in sorted(p for pattern in patterns for p in glob.glob(pattern)):
        with open(path) as f:
            for run in json.load(f):
                method = run["benchmark"].rsplit(".", 1)[1]
                # the default shard count (shards=1) is left out, so the shapes read as before that parameter
                params = ",".join(f"{k}={v}" for k, v in sorted(run.get("params", {}).items())
                                  if (k, v) != ("shards", "1"))
                metric = run["secondaryMetrics"].get("operations") or run["primaryMetric"]
                values[(method, params)] += [v for fork in metric["rawData"] for v in fork]
                units[(method, params)] = metric["scoreUnit"]
    return {key: statistics.median(v) for key, v in values.items()}


def per_operation_time(value, unit):
    return 1 / value if "/op" not in unit else value  # throughput (ops/us) or time (ns/op): smaller is faster


units = {}
before, after, pooled = medians(sys.argv[1]), medians(sys.argv[2]), medians(sys.argv[1], sys.argv[2])
print("| shape | params | FixedHeap before | FixedHeap after | after / before | speed-up over malloc before | after "
      "| after, over glibc of all runs |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for shape, params in SHAPES:
    ours, glibc = (shape + "FixedHeap", params), (shape + "Malloc", params)
    if ours not in after or ours not in before:
        continue
    unit = units[ours]
    t = lambda build, key: per_operation_time(build[key], unit)
    print(f"| {shape} | {params or '-'} | {before[ours]:.2f} {unit} | {after[ours]:.2f} {unit} "
          f"| {t(before, ours) / t(after, ours):.2f}x | {t(before, glibc) / t(before, ours):.2f}x "
          f"| {t(after, glibc) / t(after, ours):.2f}x | {t(pooled, glibc) / t(after, ours):.2f}x |")
