package io.hce.memory.benchmarks;

import io.hce.memory.FixedHeap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Hit ratio of a cache over a {@link FixedHeap} (CLOCK in address order) against an exact LRU over the same
 * bytes: a Zipf(0.99) trace of 1M requests over 100k keys with values of 100 … 8000 bytes (fixed per key),
 * caches of 10 % and 30 % of the working set. Prints a Markdown table. Deterministic; the trace is the one
 * of {@code FixedHeapHitRatioTest} in hce-memory-core (same seed, same generator), which asserts the target.
 *
 * <p>A miss puts the value; hits are counted after the first 200k requests (both caches are full by then).
 * The LRU charges each entry the heap's block size (size + 16-byte header, rounded up to 16). The replay is
 * single-threaded, so the sharded heap allocates and evicts in one home shard only.
 *
 * <pre>{@code java --enable-native-access=ALL-UNNAMED -cp hce-memory-benchmarks/target/benchmarks.jar \
 *     io.hce.memory.benchmarks.HitRatioSimulation}</pre>
 */
public final class HitRatioSimulation {

    private static final int KEYS = 100_000;
    private static final int REQUESTS = 1_000_000;
    private static final int WARM_UP = 200_000;
    private static final double SKEW = 0.99;
    private static final long SEED = 0x5EED_2025L;

    private HitRatioSimulation() {
    }

    public static void main(String[] args) {
        long start = System.nanoTime();
        SplittableRandom random = new SplittableRandom(SEED);
        int[] sizes = new int[KEYS];
        long workingSet = 0;
        for (int k = 0; k < KEYS; k++) {
            sizes[k] = 100 + random.nextInt(8000 - 100 + 1);
            workingSet += sizes[k];
        }
        double[] cdf = new double[KEYS]; // key k has Zipf rank k + 1
        double sum = 0;
        for (int k = 0; k < KEYS; k++) {
            sum += 1 / Math.pow(k + 1, SKEW);
            cdf[k] = sum;
        }
        int[] trace = new int[REQUESTS];
        for (int i = 0; i < REQUESTS; i++) {
            double u = random.nextDouble() * sum;
            int low = 0, high = KEYS - 1;
            while (low < high) {
                int mid = (low + high) >>> 1;
                if (cdf[mid] > u) {
                    high = mid;
                } else {
                    low = mid + 1;
                }
            }
            trace[i] = low;
        }

        double counted = REQUESTS - WARM_UP;
        StringBuilder out = new StringBuilder(String.format(
                "Zipf(%.2f), %,d requests over %,d keys, values 100..8000 B, working set %,d B; hit ratio over the"
                        + " requests after the first %,d; single-threaded replay.%n%n"
                        + "| cache | FixedHeap 1 shard | FixedHeap default shards | exact LRU | difference (1 shard − LRU)"
                        + " | difference (default − LRU) |%n|---|---:|---:|---:|---:|---:|%n",
                SKEW, REQUESTS, KEYS, workingSet, WARM_UP));
        for (double fraction : new double[] {0.10, 0.30}) {
            long capacity = (long) (workingSet * fraction) & -4096L;
            try (FixedHeap one = FixedHeap.create("hit-ratio-1", capacity, 1, false);
                 FixedHeap sharded = FixedHeap.create("hit-ratio-n", capacity)) {
                double oneShard = replayFixedHeap(trace, sizes, one) / counted;
                double defaultShards = replayFixedHeap(trace, sizes, sharded) / counted;
                double lru = replayLru(trace, sizes, capacity) / counted;
                out.append(String.format("| %d %% (%,d B) | %.2f %% | %.2f %% (%d shards) | %.2f %% | %+.2f points | %+.2f points |%n",
                        Math.round(fraction * 100), capacity, 100 * oneShard, 100 * defaultShards, sharded.shards(),
                        100 * lru, 100 * (oneShard - lru), 100 * (defaultShards - lru)));
            }
        }
        out.append(String.format("%n(%.1f s)%n", (System.nanoTime() - start) / 1e9));
        System.out.print(out);
    }

    /** A cache over {@code heap}: index key → handle; each block holds its key in its first 4 bytes. */
    private static long replayFixedHeap(int[] trace, int[] sizes, FixedHeap heap) {
        Map<Integer, Long> index = new HashMap<>();
        MemorySegment key = MemorySegment.ofArray(new int[1]);
        MemorySegment victimKey = MemorySegment.ofArray(new int[1]);
        long hits = 0;
        for (int i = 0; i < trace.length; i++) {
            int k = trace[i];
            Long handle = index.get(k);
            if (handle != null && heap.read(handle, 0, key, 0, 4)) {
                hits += i >= WARM_UP ? 1 : 0;
                continue;
            }
            long h = heap.allocateHandleOrEvict(sizes[k], victim -> {
                heap.read(victim, 0, victimKey, 0, 4);
                index.remove(victimKey.get(ValueLayout.JAVA_INT, 0));
            });
            key.set(ValueLayout.JAVA_INT, 0, k);
            heap.write(h, 0, key, 0, 4);
            index.put(k, h);
            heap.unpin(h);
        }
        return hits;
    }

    /** An exact LRU charged the heap's block size per entry against {@code capacity}. */
    private static long replayLru(int[] trace, int[] sizes, long capacity) {
        LinkedHashMap<Integer, Long> lru = new LinkedHashMap<>(KEYS, 0.75f, true);
        long used = 0;
        long hits = 0;
        for (int i = 0; i < trace.length; i++) {
            int k = trace[i];
            if (lru.get(k) != null) {
                hits += i >= WARM_UP ? 1 : 0;
                continue;
            }
            long cost = (sizes[k] + 16 + 15) & -16L;
            var eldest = lru.entrySet().iterator();
            while (used + cost > capacity) {
                used -= eldest.next().getValue();
                eldest.remove();
            }
            lru.put(k, cost);
            used += cost;
        }
        return hits;
    }
}
