package io.hce.memory.internal.heap;

/**
 * Which used blocks of a shard to evict, and in what order, when a request finds no free block: the seam
 * between the allocator and the eviction order, so that one can change without the other.
 *
 * <p>A policy is told nothing on the hot paths: a read or a touch sets the block's reference bit
 * ({@link HeapShard#markReferenced}), one bit in a bitmap beside the region, and that is all a policy may
 * learn of use. It runs under the shard's lock, walks the shard through {@link HeapShard}'s block methods and
 * evicts with {@link HeapShard#evict}, which never takes a pinned block.
 */
interface EvictionPolicy {

    /**
     * Evicts blocks until a free block of at least {@code blockSize} bytes exists, or gives up.
     *
     * @param shard     the shard, whose lock the caller holds
     * @param blockSize the block size needed, header included
     * @param sink      told of each victim before its memory is reused
     * @param listener  passed to the sink with each victim
     * @return the header offset of a free block of at least {@code blockSize}, or -1 when every block that
     *         could be evicted has been looked at and none made room (the rest is pinned)
     */
    long makeRoom(HeapShard shard, long blockSize, VictimSink sink, Object listener);

    /**
     * A block was just carved at the hand: out of the free block {@link #makeRoom} returned, or off the shard's
     * frontier (where the last sweep stopped) by a request that found no other free block.
     *
     * @param block     its header offset
     * @param blockSize its size
     */
    void allocatedAt(long block, long blockSize);

    /** @return a policy of the kind the heap uses: {@link ClockEviction} */
    static EvictionPolicy standard() {
        return new ClockEviction();
    }
}
