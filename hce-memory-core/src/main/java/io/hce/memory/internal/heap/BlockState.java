package io.hce.memory.internal.heap;

/**
 * The state word of a used block ({@link BlockLayout#STATE_OFFSET}), and the handles that name blocks.
 *
 * <pre>
 *   state   63            32 31                     8 7        0
 *          +----------------+-----------------------+----------+
 *          |     stamp      |      pins (24 bits)   |  flags   |     flags: LIVE 1, EVICTING 4, OWNED 8
 *          +----------------+-----------------------+----------+
 *
 *   handle  63            32 31     26 25                       0
 *          +----------------+---------+-------------------------+
 *          |     stamp      |  shard  | granule within the shard|
 *          +----------------+---------+-------------------------+
 * </pre>
 *
 * <h2>Vocabulary</h2>
 * <dl>
 *   <dt>stamp</dt><dd>names one allocation of a handle's block: each shard hands out stamps from a counter
 *       (never 0), so a handle kept after its block was freed does not match the stamp of whatever is there
 *       now. An owned block's stamp names nothing a caller holds, and may outlive an allocation of it.</dd>
 *   <dt>pin</dt><dd>a reader's or writer's claim that the block's memory is not reused under it: a block
 *       with pins is never evicted, and a free of it is completed by the last unpin.</dd>
 *   <dt>live</dt><dd>handed out and neither freed nor being evicted: it can be pinned, read and touched.</dd>
 *   <dt>evicting</dt><dd>claimed by eviction (only ever with no pins): still readable, no longer pinnable.</dd>
 *   <dt>freed</dt><dd>neither live nor evicting: what {@code free} leaves; the block is released to the
 *       free lists by whoever brings its pins to 0.</dd>
 *   <dt>owned</dt><dd>handed out as a segment or an address: live while its bit in the shard's owned bitmap
 *       is set; its owner frees it under the shard's lock by clearing that bit, which is safe because no
 *       handle (no stamp) of it was ever given out.</dd>
 * </dl>
 * The word is written only under the shard's lock, with release stores, and read without it by optimistic
 * readers; the ordering rules are in the package documentation. CLOCK's reference bits are not here but in a
 * bitmap of their own ({@code HeapShard.markReferenced}), so that a reader never writes a header.
 */
final class BlockState {

    static final long LIVE = 1;
    static final long EVICTING = 4;
    static final long OWNED = 8;

    static final int PIN_SHIFT = 8;
    static final long ONE_PIN = 1L << PIN_SHIFT;
    static final long PIN_MASK = 0xFF_FFFFL << PIN_SHIFT;
    static final long MAX_PINS = 0xFF_FFFFL;

    static final int SHARD_SHIFT = 26;
    static final int SHARD_BITS = 6;
    static final int MAX_SHARDS = 1 << SHARD_BITS;
    static final long GRANULE_MASK = (1L << SHARD_SHIFT) - 1;

    private BlockState() {
    }

    /**
     * @param pins 0 for a block handed out as a segment or an address (owned: its stamp is never given out, so
     *             it cannot be pinned or freed by handle), 1 for a block handed out as a handle, pinned by its creator
     * @return the state of a block just handed out
     */
    static long live(int stamp, long pins) {
        return ((long) stamp << 32) | (pins << PIN_SHIFT) | LIVE | (pins == 0 ? OWNED : 0);
    }

    static int stamp(long state) {
        return (int) (state >>> 32);
    }

    static long pins(long state) {
        return (state & PIN_MASK) >>> PIN_SHIFT;
    }

    static boolean isLive(long state) {
        return (state & LIVE) != 0;
    }

    /** @return whether the block can be read: live, or being evicted (its memory is intact until released) */
    static boolean isReadable(long state) {
        return (state & (LIVE | EVICTING)) != 0;
    }

    /** @return whether nothing holds the block any more: freed, no pins; whoever made it so releases it */
    static boolean isReleasable(long state) {
        return (state & (LIVE | EVICTING | PIN_MASK)) == 0;
    }

    static long handle(int stamp, int shard, long block) {
        return ((long) stamp << 32) | ((long) shard << SHARD_SHIFT) | (block >>> BlockLayout.GRANULE_SHIFT);
    }

    static int stampOf(long handle) {
        return (int) (handle >>> 32);
    }

    static int shardOf(long handle) {
        return (int) (handle >>> SHARD_SHIFT) & (MAX_SHARDS - 1);
    }

    /** @return the block's header offset in its shard */
    static long blockOf(long handle) {
        return (handle & GRANULE_MASK) << BlockLayout.GRANULE_SHIFT;
    }
}
