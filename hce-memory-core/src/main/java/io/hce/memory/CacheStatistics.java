package io.hce.memory;

import java.util.List;
import java.util.Objects;

/**
 * A snapshot of a {@link CachingAllocator}'s counters. Counters are read without stopping the threads
 * that write them, so a snapshot taken while threads allocate is a moment's approximation; one taken
 * when they are quiet is exact.
 *
 * @param buckets           one entry per bucket, in the order of {@link CacheInfo#buckets()}
 * @param reservedBytes     bytes obtained from {@code malloc} by this allocator and not yet freed: in
 *                          use or cached, in buckets or direct
 * @param directAllocations allocations larger than the largest bucket, served by {@code malloc} directly
 * @param directFrees       deallocations of such blocks
 */
public record CacheStatistics(List<BucketStatistics> buckets, long reservedBytes,
                              long directAllocations, long directFrees) {

    /**
     * @throws NullPointerException if {@code buckets} is {@code null}
     */
    public CacheStatistics {
        buckets = List.copyOf(Objects.requireNonNull(buckets, "buckets"));
    }

    /**
     * @return bytes held in caches now, over all buckets
     */
    public long cachedBytes() {
        return buckets.stream().mapToLong(BucketStatistics::cachedBytes).sum();
    }

    /**
     * @return allocations served from caches, over all buckets
     */
    public long hits() {
        return buckets.stream().mapToLong(BucketStatistics::hits).sum();
    }

    /**
     * @return allocations that called {@code malloc}, over all buckets (direct ones not included)
     */
    public long misses() {
        return buckets.stream().mapToLong(BucketStatistics::misses).sum();
    }
}
