package io.hce.memory;

/**
 * What one bucket of a {@link CachingAllocator} has done, summed over every thread that used it, live
 * or ended.
 *
 * @param blockSize   the bucket's block size, in bytes
 * @param byteLimit   the bytes one cache may keep in this bucket
 * @param hits        allocations served from a cache, without calling {@code malloc}
 * @param misses      allocations that called {@code malloc}
 * @param frees       deallocations that called {@code free()} because the caches were at their limit
 * @param cachedBytes bytes of this bucket's blocks held in caches now (thread caches and the shared
 *                    depot); a block of fewer than 16 bytes is held, and counted, as 16
 * @see BucketCounter the counters, described once for summing and meters
 */
public record BucketStatistics(long blockSize, long byteLimit, long hits, long misses, long frees, long cachedBytes) {

    /**
     * @return hits plus misses: every allocation this bucket served
     */
    public long allocations() {
        return hits + misses;
    }
}
