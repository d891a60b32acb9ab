#!/usr/bin/env python3
"""Turns a JMH JSON result (-rf json -rff FILE) into the tables and target checks of BENCHMARKS.md.

Usage: python3 hce-memory-benchmarks/scripts/report.py FILE > tables.md
Every figure is the median of the measured iterations (JMH's 50th percentile), never hand-edited.
"""
import json
import sys
from collections import defaultdict


def load(path):
    with open(path) as f:
        runs = json.load(f)
    scores = {}    # (class, method, params) -> (median, unit)
    allocs = {}    # (class, method, params) -> B/op
    for run in runs:
        cls, method = run["benchmark"].rsplit(".", 1)
        cls = cls.rsplit(".", 1)[1]
        params = ",".join(f"{k}={v}" for k, v in sorted(run.get("params", {}).items()))
        primary = run["primaryMetric"]
        scores[(cls, method, params)] = (primary["scorePercentiles"]["50.0"], primary["scoreUnit"])
        for name, metric in run.get("secondaryMetrics", {}).items():
            if name == "gc.alloc.rate.norm":
                allocs[(cls, method, params)] = metric["scorePercentiles"]["50.0"]
            elif name == "operations" or name.endswith("Producer"):
                scores[(cls, method + ":" + name, params)] = (metric["scorePercentiles"]["50.0"], metric["scoreUnit"])
    return scores, allocs


def tables(scores, allocs):
    by_class = defaultdict(list)
    for (cls, method, params), value in scores.items():
        by_class[cls].append((method, params, value))
    out = []
    for cls in sorted(by_class):
        out.append(f"\n### {cls}\n")
        out.append("| benchmark | params | median | unit | B/op |")
        out.append("|---|---|---|---|---|")
        for method, params, (median, unit) in sorted(by_class[cls]):
            alloc = allocs.get((cls, method, params))
            out.append(f"| {method} | {params} | {median:.3f} | {unit} | {'' if alloc is None else f'{alloc:.0f}'} |")
    return "\n".join(out)


def ns(scores, cls, method, params=""):
    """Nanoseconds per operation, whatever the mode."""
    median, unit = scores[(cls, method, params)]
    return median if unit == "ns/op" else 1000.0 / median  # ops/us -> ns/op


def heap_targets(scores, allocs):
    """Issue 13's table: FixedHeap's speed-up over glibc (malloc's time per operation / FixedHeap's)."""
    rows = []
    fh = "FixedHeapBenchmark"

    def row(shape, value, goal, least):
        rows.append(f"| {shape} | {value:.2f}x | {goal}x | {least}x | "
                    f"{'yes' if value >= goal else 'least' if value >= least else '**no**'} |")

    def speedup(cls, heap_method, malloc_method, params=""):
        return ns(scores, cls, malloc_method, params) / ns(scores, cls, heap_method, params)

    shapes = [
        ("cache-resident: 1 MiB heap, 16..4096 B to 80 %, freed shuffled", fh, "shuffledFixedHeap:operations",
         "shuffledMalloc:operations", "heapMiB=1", 2, 1.5),
        ("16 MiB heap, same", fh, "shuffledFixedHeap:operations", "shuffledMalloc:operations", "heapMiB=16", 3, 2),
        ("Cachelot's own benchmark: 1 GiB, 4..4096 B to 80 %, freed in allocation order", fh,
         "inOrderFixedHeap:operations", "inOrderMalloc:operations", "heapMiB=1024", 8, 4),
        ("1 GiB, same sizes, freed shuffled", fh, "shuffledFixedHeap:operations", "shuffledMalloc:operations",
         "heapMiB=1024", 2, 1.5),
        ("1 GiB steady mix at 80 %", fh, "steadyFixedHeap", "steadyMalloc", "heapMiB=1024", 2, 1.5),
        ("full 64 MiB heap taking 100..8000 B values with allocateOrEvict / malloc new + free oldest",
         "FixedHeapEvictionBenchmark", "putFixedHeap", "putMalloc", "", 2, 1.5),
    ]
    for shape, cls, heap_method, malloc_method, params, goal, least in shapes:
        try:
            row(shape, speedup(cls, heap_method, malloc_method, params), goal, least)
        except KeyError:
            pass
    th = "FixedHeapThreadsBenchmark"
    try:
        one = scores[(th, "fixedHeap1", "")][0]
        row("throughput of two threads on one heap / one thread, 2 cores", scores[(th, "fixedHeap2", "")][0] / one, 1.8, 1.5)
        row("throughput of eight threads on one heap / one thread, 2 cores", scores[(th, "fixedHeap8", "")][0] / one, 1, 1)
        m1 = scores[(th, "malloc1", "")][0]
        rows.append(f"| (glibc, for reference: two threads / one, eight / one) | "
                    f"{scores[(th, 'malloc2', '')][0] / m1:.2f}x, {scores[(th, 'malloc8', '')][0] / m1:.2f}x | | | |")
    except KeyError:
        pass
    for cls, method, params in ((fh, "steadyFixedHeap", "heapMiB=16"), (fh, "shuffledFixedHeap", "heapMiB=1"),
                                ("FixedHeapEvictionBenchmark", "putFixedHeap", ""),
                                ("FixedHeapReadBenchmark", "read", "size=64"), ("FixedHeapReadBenchmark", "read", "size=1024")):
        b = allocs.get((cls, method, params))
        if b is not None:
            rows.append(f"| -prof gc {cls}.{method} {params} | {b:.1f} B/op | 0 | 0 | {'yes' if b < 1 else '**no**'} |")
    return "\n".join(["| shape | speed-up over malloc | goal | least acceptable | holds |", "|---|---|---|---|---|"] + rows)


def targets(scores, allocs):
    rows = []

    def check(name, value, goal, holds):
        rows.append(f"| {name} | {value} | {goal} | {'yes' if holds else '**no**'} |")

    t = "ThreadCacheHitBenchmark"
    for size in (64, 1024):
        p = f"size={size}"
        hce = ns(scores, t, "hce", p)
        r = hce / ns(scores, t, "mallocFreeCritical", p)
        check(f"1. hit {size} B / critical malloc+free", f"{r:.2f}x", "<= 0.6x", r <= 0.6)
        r = hce / ns(scores, t, "arenaOfConfined", p)
        check(f"1. hit {size} B / Arena.ofConfined()", f"{r:.2f}x", "<= 0.2x", r <= 0.2)
        r = hce / ns(scores, t, "nettyPooled", p)
        check(f"1. hit {size} B / Netty pooled", f"{r:.2f}x", "<= 0.1x", r <= 0.1)
        r = hce / ns(scores, t, "floor", p)
        check(f"1. hit {size} B / floor", f"{r:.2f}x", "<= 2.5x", r <= 2.5)
    r = ns(scores, t, "hce", "size=4096") / ns(scores, t, "mallocFreeCritical", "size=4096")
    check("1. hit 4 KiB / critical malloc+free", f"{r:.2f}x", "<= 0.3x", r <= 0.3)
    for size in (64, 1024):
        p = f"size={size}"
        r = ns(scores, t, "hceAddresses", p) / ns(scores, t, "mallocFreeCritical", p)
        check(f"1. hit {size} B by address / critical malloc+free", f"{r:.2f}x", "<= 0.6x", r <= 0.6)
    for method, api in (("hce", "segments"), ("hceAddresses", "addresses")):
        for size in (64, 1024):
            p = f"size={size}"
            r = ns(scores, "BurstBenchmark", method, p) / ns(scores, "BurstBenchmark", "mallocFreeCritical", p)
            check(f"1. burst {size} B, {api} / critical malloc+free, per op", f"{r:.2f}x", "<= 0.5x", r <= 0.5)
    pc = "ProducerConsumerBenchmark"
    for group, api in (("hce:hceProducer", "segments"), ("hceAddresses:hceAddressProducer", "addresses")):
        hce = scores[(pc, group, "")][0]
        r = hce / scores[(pc, "mallocFreeCritical:mallocProducer", "")][0]
        check(f"2. producer/consumer, {api}: throughput / critical malloc+free", f"{r:.1f}x", ">= 3x", r >= 3)
        r = hce / scores[(pc, "nettyPooled:nettyProducer", "")][0]
        check(f"2. producer/consumer, {api}: throughput / Netty pooled", f"{r:.1f}x", ">= 8x", r >= 8)
    pool = "PoolAllocatorBenchmark"
    r = ns(scores, pool, "pool") / ns(scores, pool, "threadCacheHit")
    check("3. pool, one thread / thread-cache hit", f"{r:.2f}x", "<= 1.5x", r <= 1.5)
    r = ns(scores, pool, "poolTwoThreads") / ns(scores, pool, "threadCacheHit")
    check("3. pool, two threads / thread-cache hit", f"{r:.2f}x", "<= 1.5x", r <= 1.5)
    r = ns(scores, pool, "poolTwoThreads") / ns(scores, pool, "mallocFreeCriticalTwoThreads")
    check("3. pool, two threads / critical malloc+free, two threads", f"{r:.2f}x", "(reported)", True)
    r = ns(scores, "ArenaBenchmark", "cachingArena") / ns(scores, "ArenaBenchmark", "confinedArena")
    check("4. Memory.newArena() + 4 allocations / Arena.ofConfined()", f"{r:.2f}x", "<= 0.5x", r <= 0.5)
    for cls, method, params in ((t, "hce", "size=64"), (t, "hce", "size=1024"), (t, "hceAddresses", "size=64"),
                                (pool, "pool", ""), (pc, "hceAddresses", "")):
        b = allocs.get((cls, method, params))
        if b is not None:
            check(f"7. -prof gc {cls}.{method} {params}", f"{b:.1f} B/op", "0 B/op", b < 1)
    return "\n".join(["| target | measured | goal | holds |", "|---|---|---|---|"] + rows)


if __name__ == "__main__":
    scores, allocs = load(sys.argv[1])
    if any(cls == "ThreadCacheHitBenchmark" for cls, _, _ in scores):
        print("## Targets (ratios of medians, same run)\n")
        print(targets(scores, allocs))
    if any(cls.startswith("FixedHeap") for cls, _, _ in scores):
        print("\n## FixedHeap against glibc (ratios of medians, same run)\n")
        print(heap_targets(scores, allocs))
    print("\n## All results (medians)")
    print(tables(scores, allocs))
