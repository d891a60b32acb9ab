package io.hce.memory.internal.cache;

import io.hce.memory.BucketStatistics;
import io.hce.memory.CacheStatistics;

import java.util.ArrayList;
import java.util.List;

/**
 * Counters summed over caches: the totals of ended threads, and the scratch of a statistics snapshot.
 * Not thread-safe; {@link CacheRegistry} guards every instance it keeps.
 */
final class CounterTotals {

    private final long[] hits;
    private final long[] misses;
    private final long[] frees;
    private final long[] cachedBytes;
    private long directAllocations;
    private long directFrees;
    private long reservedBytes;

    CounterTotals(int bucketCount) {
        hits = new long[bucketCount];
        misses = new long[bucketCount];
        frees = new long[bucketCount];
        cachedBytes = new long[bucketCount];
    }

    void add(int bucket, long hits, long misses, long frees, long cachedBytes) {
        this.hits[bucket] += hits;
        this.misses[bucket] += misses;
        this.frees[bucket] += frees;
        this.cachedBytes[bucket] += cachedBytes;
    }

    void addDirect(long directAllocations, long directFrees, long reservedBytes) {
        this.directAllocations += directAllocations;
        this.directFrees += directFrees;
        this.reservedBytes += reservedBytes;
    }

    long reservedBytes() {
        return reservedBytes;
    }

    void addAll(CounterTotals other) {
        for (int b = 0; b < hits.length; b++) {
            add(b, other.hits[b], other.misses[b], other.frees[b], other.cachedBytes[b]);
        }
        addDirect(other.directAllocations, other.directFrees, other.reservedBytes);
    }

    CacheStatistics toStatistics(SizeClasses sizes) {
        List<BucketStatistics> buckets = new ArrayList<>(hits.length);
        for (int b = 0; b < hits.length; b++) {
            buckets.add(new BucketStatistics(sizes.blockSize(b), sizes.info().buckets().get(b).byteLimit(),
                    hits[b], misses[b], frees[b], cachedBytes[b]));
        }
        return new CacheStatistics(buckets, reservedBytes, directAllocations, directFrees);
    }
}
