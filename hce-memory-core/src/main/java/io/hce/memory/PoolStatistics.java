package io.hce.memory;

/**
 * A snapshot of a {@link PoolAllocator}'s counters. Each counter is exact once threads stop; while they
 * allocate, each is a recent value (never one that a later snapshot goes back on), not a moment across them.
 *
 * @param name         the pool's name
 * @param blockSize    the size of every block, in bytes
 * @param capacity     the most blocks the pool keeps for reuse
 * @param hits         allocations served by a cached block
 * @param misses       allocations that called {@code malloc}
 * @param frees        deallocations that called {@code free()} because the pool had no room for the block
 * @param cachedBlocks blocks held for reuse now
 */
public record PoolStatistics(String name, long blockSize, int capacity, long hits, long misses, long frees,
                             int cachedBlocks) {
}
