package io.hce.memory.internal.cache;

import io.hce.memory.BucketCounter;
import io.hce.memory.BucketStatistics;
import io.hce.memory.CacheStatistics;

import java.util.ArrayList;
import java.util.List;

import static io.hce.memory.BucketCounter.CACHED_BYTES;
import static io.hce.memory.BucketCounter.FREES;
import static io.hce.memory.BucketCounter.HITS;
import static io.hce.memory.BucketCounter.MISSES;

/**
 * Counters summed over caches: the totals of ended threads, and the scratch of a statistics snapshot.
 * Not thread-safe; {@link CacheRegistry} guards every instance it keeps.
 */
final class CounterTotals {

    private static final int COUNTERS = BucketCounter.values().length;

    private final int bucketCount;
    /** Every bucket's counters, bucket by bucket, in {@link BucketCounter}'s order. */
    private final long[] counters;
    private long directAllocations;
    private long directFrees;
    private long reservedBytes;

    CounterTotals(int bucketCount) {
        this.bucketCount = bucketCount;
        this.counters = new long[bucketCount * COUNTERS];
    }

    void add(int bucket, BucketCounter counter, long value) {
        counters[bucket * COUNTERS + counter.ordinal()] += value;
    }

    private long get(int bucket, BucketCounter counter) {
        return counters[bucket * COUNTERS + counter.ordinal()];
    }

    void addDirect(long directAllocations, long directFrees, long reservedBytes) {
        this.directAllocations += directAllocations;
        this.directFrees += directFrees;
        this.reservedBytes += reservedBytes;
    }

    void addAll(CounterTotals other) {
        for (int i = 0; i < counters.length; i++) {
            counters[i] += other.counters[i];
        }
        addDirect(other.directAllocations, other.directFrees, other.reservedBytes);
    }

    CacheStatistics toStatistics(SizeClasses sizes) {
        List<BucketStatistics> buckets = new ArrayList<>(bucketCount);
        for (int b = 0; b < bucketCount; b++) {
            buckets.add(new BucketStatistics(sizes.blockSize(b), sizes.info().buckets().get(b).byteLimit(),
                    get(b, HITS), get(b, MISSES), get(b, FREES), get(b, CACHED_BYTES)));
        }
        return new CacheStatistics(buckets, reservedBytes, directAllocations, directFrees);
    }
}
