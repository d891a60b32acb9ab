package io.hce.memory.internal.heap;

/**
 * CLOCK in address order: a hand sweeps the shard's blocks from left to right, giving each referenced
 * block a second chance (clearing its bit) and evicting the first unreferenced, unpinned ones it meets
 * until the free block they merge into fits the request.
 *
 * <h2>Why address order</h2>
 * A list-ordered LRU frees blocks scattered over the region, and freed blocks that are not adjacent do not
 * merge: the old heap evicted its LRU tail again and again until, by luck, two victims touched. Here the
 * victims are neighbours by construction: each one merges with the free block the hand has just made, so
 * a request of {@code b} bytes costs evictions of about {@code b} bytes of unreferenced blocks, and the
 * free space the sweep leaves behind lies in one place. Segcache (NSDI '21) and Cachelot's v2 go further
 * and evict whole segments or pages; S3-FIFO (SOSP '23) shows that FIFO-like orders with a reference bit
 * hold LRU's hit ratio. This policy keeps per-block eviction, so no live block is evicted for room that a
 * page-granular policy would take with it.
 *
 * <h2>Cost</h2>
 * {@code touch} and every read cost one bit in the shard's reference bitmap, set only when not already set,
 * with no lock and no atomic.
 * A sweep step reads one header; at a live owned block (an address's or a segment's), none: the owned and
 * block-start bitmaps say that it is live, unpinned and how large, and its eviction reads only the headers
 * of free neighbours ({@code HeapShard.evictOwned}). So the walk in address order does not wait on one cache
 * miss after another, as a walk through headers must. The first two turns honour reference bits (the first may only clear them);
 * a third, reached only when readers keep setting them again behind the hand, ignores them, so the call fails
 * only when every block is pinned. A call is O(blocks in the shard) at worst and O(1) amortised per evicted
 * block: each step clears a bit set since the hand last passed, passes a pinned block, or evicts.
 *
 * <p>Blocks carved at the hand start unreferenced but just behind it, so they get a whole turn before it comes
 * back: the shard carves them off the start of the free block the victims merged into (its frontier), and the
 * hand goes on from the rest, where the next victims merge into it. (A block that a quick list or a listed free
 * block serves lies wherever that block was.)
 */
final class ClockEviction implements EvictionPolicy {

    /** The header offset the hand points at, or 0 for "the shard's first block"; guarded by the shard's lock. */
    private long hand;

    @Override
    public long makeRoom(HeapShard shard, long blockSize, VictimSink sink, Object listener) {
        long end = shard.rightBorder();
        long block = hand == 0 ? HeapShard.FIRST_BLOCK : shard.blockAtOrAfter(hand);
        long turn = shard.byteSize();
        long budget = 3 * turn;
        boolean withoutHeaders = !sink.passesHandles();
        while (budget > 0) {
            boolean lastTurn = budget <= turn; // references set again behind the hand no longer count
            if (block >= end) {
                block = HeapShard.FIRST_BLOCK;
                continue;
            }
            boolean owned = withoutHeaders && shard.isOwned(block); // live, unpinned: the bitmaps say so
            long size = owned ? shard.sizeByStarts(block) : shard.sizeAt(block);
            budget -= size;
            if (!owned && !shard.isUsed(block)) {
                if (size >= blockSize) {
                    hand = block;
                    return block;
                }
                block += size;
                continue;
            }
            long state = owned ? 0 : shard.stateAt(block);
            if (!owned && (!BlockState.isLive(state) || BlockState.pins(state) != 0)) {
                block += size;
            } else if (shard.isReferenced(block) && !lastTurn) {
                shard.clearReferenced(block);
                block += size;
            } else {
                long merged = owned ? shard.evictOwned(block, size, sink, listener) : shard.evict(block, state, sink, listener);
                long mergedSize = shard.sizeAt(merged);
                if (mergedSize >= blockSize) {
                    hand = merged;
                    return merged;
                }
                block = merged + mergedSize;
            }
        }
        hand = block;
        return -1;
    }

    @Override
    public void allocatedAt(long block, long blockSize) {
        hand = block + blockSize;
    }
}
