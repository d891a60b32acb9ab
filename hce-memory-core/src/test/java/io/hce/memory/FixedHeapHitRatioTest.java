package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hit ratio of a cache over a {@link FixedHeap} (CLOCK in address order) next to an exact LRU over the
 * same bytes, on a Zipf(0.99) trace of 1M requests over 100k keys whose values are 100 … 8000 bytes, with
 * caches of 10 % and 30 % of the working set. The policy must stay within one point of LRU.
 *
 * <p>Every key has one fixed value size, drawn once (seeded). A cache is a look-aside cache: a get that
 * misses puts the key's value. Hits are counted after a warm-up of the first {@value #WARM_UP} requests,
 * in both caches alike: until a cache is full the two policies hold the same keys, and the 30 % caches
 * fill only at about request 130k. The heap holds each value in a block of its full size, of which only the first four
 * bytes are written: the key, which the eviction callback reads back to drop the victim from the index.
 * The LRU charges each entry what the heap's block costs (size + 16-byte header, rounded up to 16) against
 * the same capacity. The replay is single-threaded, so a sharded heap allocates and evicts in one home
 * shard; it is reported beside the one-shard heap, and only the one-shard heap is held to the target.
 */
class FixedHeapHitRatioTest {

    static final int KEYS = 100_000;
    static final int REQUESTS = 1_000_000;
    static final int WARM_UP = 200_000; // past the fill: the 30 % caches first evict at request ~130k
    static final double SKEW = 0.99;
    static final long SEED = 0x5EED_2025L;

    /** A deterministic trace: each key's value size, and the keys requested. */
    record Trace(int[] sizes, int[] requests, long workingSet) {

        static Trace zipf(int keys, int requests, double skew, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            int[] sizes = new int[keys];
            long workingSet = 0;
            for (int k = 0; k < keys; k++) {
                sizes[k] = 100 + random.nextInt(8000 - 100 + 1);
                workingSet += sizes[k];
            }
            double[] cdf = new double[keys]; // key k has rank k + 1
            double sum = 0;
            for (int k = 0; k < keys; k++) {
                sum += 1 / Math.pow(k + 1, skew);
                cdf[k] = sum;
            }
            int[] trace = new int[requests];
            for (int i = 0; i < requests; i++) {
                double u = random.nextDouble() * sum;
                int low = 0, high = keys - 1; // the first key whose cdf exceeds u
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
            return new Trace(sizes, trace, workingSet);
        }
    }

    /** What a heap's block of {@code size} bytes costs: its 16-byte header, the whole rounded up to 16. */
    static long blockSize(int size) {
        return (size + 16 + 15) & -16L;
    }

    /** Replays the trace into a cache over {@code heap}; returns the hits after the warm-up. */
    static long replayFixedHeap(Trace trace, FixedHeap heap) {
        Map<Integer, Long> index = new HashMap<>();
        MemorySegment key = MemorySegment.ofArray(new int[1]);
        MemorySegment found = MemorySegment.ofArray(new int[1]);
        MemorySegment victimKey = MemorySegment.ofArray(new int[1]);
        long hits = 0;
        for (int i = 0; i < trace.requests().length; i++) {
            int k = trace.requests()[i];
            Long handle = index.get(k);
            if (handle != null) {
                if (heap.read(handle, 0, found, 0, 4)) {
                    assertEquals(k, found.get(ValueLayout.JAVA_INT, 0), "the value read is another key's");
                    if (i >= WARM_UP) {
                        hits++;
                    }
                    continue;
                }
                index.remove(k); // stale; cannot happen single-threaded, as eviction drops the key
            }
            long h = heap.allocateHandleOrEvict(trace.sizes()[k], victim -> {
                assertTrue(heap.read(victim, 0, victimKey, 0, 4), "a victim can be read in its callback");
                Long removed = index.remove(victimKey.get(ValueLayout.JAVA_INT, 0));
                assertEquals(victim, removed, "the victim is the key's current handle");
            });
            key.set(ValueLayout.JAVA_INT, 0, k);
            heap.write(h, 0, key, 0, 4);
            index.put(k, h);
            heap.unpin(h);
        }
        heap.verify();
        return hits;
    }

    /** Replays the trace into an exact LRU charged the heap's block sizes; returns the hits after the warm-up. */
    static long replayLru(Trace trace, long capacity) {
        LinkedHashMap<Integer, Long> lru = new LinkedHashMap<>(KEYS, 0.75f, true);
        long used = 0;
        long hits = 0;
        for (int i = 0; i < trace.requests().length; i++) {
            int k = trace.requests()[i];
            if (lru.get(k) != null) {
                if (i >= WARM_UP) {
                    hits++;
                }
                continue;
            }
            long cost = blockSize(trace.sizes()[k]);
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

    @Test
    void clockInAddressOrderIsWithinOnePointOfExactLru() {
        long start = System.nanoTime();
        Trace trace = Trace.zipf(KEYS, REQUESTS, SKEW, SEED);
        double counted = REQUESTS - WARM_UP;
        StringBuilder table = new StringBuilder(String.format(
                "Zipf(%.2f), %,d requests over %,d keys, values 100..8000 B, working set %,d B;"
                        + " hit ratio (%%) over the requests after the first %,d%n"
                        + "%-5s %13s %8s %16s %9s %12s %12s%n",
                SKEW, REQUESTS, KEYS, trace.workingSet(), WARM_UP,
                "cache", "capacity (B)", "1 shard", "default shards", "exact LRU", "1 shard-LRU", "default-LRU"));
        double[] fractions = {0.10, 0.30};
        double[] oneShard = new double[2];
        double[] lru = new double[2];
        for (int s = 0; s < fractions.length; s++) {
            long capacity = (long) (trace.workingSet() * fractions[s]) & -4096L;
            try (FixedHeap one = FixedHeap.create("hit-ratio-1", capacity, 1, false);
                 FixedHeap sharded = FixedHeap.create("hit-ratio-n", capacity)) {
                oneShard[s] = replayFixedHeap(trace, one) / counted;
                double shardedRatio = replayFixedHeap(trace, sharded) / counted;
                lru[s] = replayLru(trace, capacity) / counted;
                table.append(String.format("%-5s %,13d %8.2f %8.2f (%2d sh) %9.2f %+12.2f %+12.2f%n",
                        Math.round(fractions[s] * 100) + " %", capacity, 100 * oneShard[s], 100 * shardedRatio,
                        sharded.shards(), 100 * lru[s], 100 * (oneShard[s] - lru[s]), 100 * (shardedRatio - lru[s])));
            }
        }
        table.append(String.format("(%.1f s)%n", (System.nanoTime() - start) / 1e9));
        System.out.print(table);
        for (int s = 0; s < fractions.length; s++) {
            assertTrue(oneShard[s] >= lru[s] - 0.01, "at " + Math.round(fractions[s] * 100)
                    + " % the one-shard FixedHeap's hit ratio is more than one point below exact LRU's:\n" + table);
        }
    }
}
