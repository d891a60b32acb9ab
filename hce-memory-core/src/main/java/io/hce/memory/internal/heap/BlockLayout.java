package io.hce.memory.internal.heap;

/**
 * The layout of a block in a {@link HeapShard}: a 16-byte header followed by the payload, and the shard's
 * block-start bitmap beside the region.
 *
 * <pre>
 *   A used block                                     A free block
 *   0               4               8                0               4               8      12
 *  +-------------+-+---------------+----------------+ +-------------+-+---------------+------+------+
 *  | size (31)   |U| left offset   | state (64 bits)| | size (31)   |0| left offset   | prev | next |
 *  +-------------+-+---------------+----------------+ +-------------+-+---------------+------+------+
 *  | payload (size - 16 bytes) ...                  | | (nothing: free blocks need no payload)   |
 *
 *   SIZE_AND_USED_OFFSET (0), LEFT_OFFSET_OFFSET (4), STATE_OFFSET (8) = PREVIOUS_OFFSET (8), NEXT_OFFSET (12)
 * </pre>
 * <ul>
 *   <li>The first word holds the block's size, header included, in its low 31 bits and the used flag
 *       (U) in bit 31, as in Cachelot's {@code meta}. Sizes are multiples of {@link #GRANULE}, so payloads
 *       are 16-byte aligned. The left offset chains every block to its left neighbour, the size to its right
 *       one: merging finds both in O(1). One left offset may be stale: the one right of the shard's frontier
 *       (its free block at the eviction hand), whose size the shard holds ({@code HeapShard.leftOf}).</li>
 *   <li>A used block's second half is its {@linkplain BlockState state}: the stamp that names this
 *       allocation of the block, its pin count and its flags. Written only under the shard's lock, it is
 *       read without it by optimistic readers.</li>
 *   <li>A free block's second half links it into the free list of its size class, as granule indices
 *       (the block's offset in the shard divided by 16; 0 is no block, granule 0 being the left border). The
 *       previous link is stored shifted left by 4 with the {@code OWNED} flag set, so the bits where a state keeps
 *       its flags hold OWNED alone in a free block: read as a state, a free block's links are never live,
 *       readable or pinned, and handles refuse owned states.</li>
 *   <li><b>Border blocks</b> are headers alone (size 16, used, state 0), at both ends of the shard: merging
 *       stops at them. State 0 has no stamp, so no handle ever names a border.</li>
 * </ul>
 *
 * <h2>The bitmaps</h2>
 * Beside the region, per shard, three bitmaps of one bit per granule: block starts; CLOCK's reference bits
 * (set at a block's start by reads and touches, without the lock); and owned blocks (set at the start of
 * each live block handed out as an address or a segment, so that such a block is freed, and its double free
 * refused, without reading its header). They lie apart, not interleaved: a walk in address order (a sweep,
 * frees in allocation order) then reads each as a dense stream that the prefetchers follow; interleaving them
 * by 64 granules, tried, made such walks touch four times the lines and in-order frees at 1 GiB 20% slower.
 *
 * <h3>Block starts</h3>
 * One bit per granule of the shard, set where a block (used or free) starts. Split sets a bit, merge clears
 * the absorbed header's bit. It is what makes a stale reference certain to be recognised: once a block is
 * merged away, the bytes of its old header may become another value's payload and hold anything, but its
 * bit is clear, so its position is no longer read as a header. Each bitmap costs 1/128 of the region
 * (0.8%): the three, 2.3%.
 */
final class BlockLayout {

    static final int SIZE_AND_USED_OFFSET = 0;
    static final int LEFT_OFFSET_OFFSET = 4;
    static final int STATE_OFFSET = 8;
    static final int PREVIOUS_OFFSET = 8;
    static final int NEXT_OFFSET = 12;
    static final int HEADER_LENGTH = 16;

    static final int GRANULE_SHIFT = 4;
    static final int GRANULE = 1 << GRANULE_SHIFT;

    static final int USED_FLAG = 0x8000_0000;
    static final int SIZE_MASK = 0x7FFF_FFFF;

    /** The smallest block: a header and one granule of payload. A smaller remainder is not split off. */
    static final int MIN_BLOCK_SIZE = HEADER_LENGTH + GRANULE;

    /** A border block is a header alone. */
    static final int BORDER_SIZE = HEADER_LENGTH;

    /** The largest shard: a handle names a block by a 26-bit granule index within its shard. */
    static final long MAX_SHARD_BYTES = 1L << 30;

    /** The link value meaning "no block". */
    static final int NO_BLOCK = 0;

    /** Bytes of one bitmap for a shard of {@code shardBytes}: one bit a granule, in whole longs. */
    static long bitmapBytesFor(long shardBytes) {
        long granules = shardBytes >>> GRANULE_SHIFT;
        return ((granules + 63) >>> 6) << 3;
    }

    private BlockLayout() {
    }
}
