package io.hce.memory.internal.heap;

/**
 * The layout of a block in a {@link TlsfHeap} region: a 16-byte header followed by the payload.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-------------------------------------------------------------+-+
 *  |          Block size in bytes, header included (31 bits)      |U|  SIZE_AND_USED_OFFSET  (0)
 *  +-------------------------------------------------------------+-+
 *  |        Distance to the left neighbour's header, in bytes        |  LEFT_OFFSET_OFFSET    (4)
 *  +-----------------------------------------------------------------+
 *  |   Previous block in this block's list, as a granule index       |  PREVIOUS_OFFSET       (8)
 *  +-----------------------------------------------------------------+
 *  |   Next block in this block's list, as a granule index           |  NEXT_OFFSET          (12)
 *  +-----------------------------------------------------------------+
 *  |                    Payload (size - 16 bytes) ...                |  HEADER_LENGTH        (16)
 *  +-----------------------------------------------------------------+
 * </pre>
 * <ul>
 *   <li>The first word holds the size in its low 31 bits and the used flag (U) in bit 31, as in Cachelot's
 *       {@code meta}. Sizes are multiples of {@link #GRANULE}, so payloads are 16-byte aligned.</li>
 *   <li>The left offset chains every block to its left neighbour; the size chains it to its right one.</li>
 *   <li>A free block is in the free list of its size class; a used block is in the LRU list. The two
 *       links serve whichever list the block is in, so a block needs no bytes beyond its header for them,
 *       and free blocks need no payload at all. Links are granule indices (the block's offset in the
 *       region divided by 16), unsigned 32-bit, so a region spans up to {@link #MAX_REGION_BYTES}; 0 is no
 *       block (granule 0 is always a border).</li>
 *   <li><b>Border blocks</b> are headers alone (size 16, used), at both ends of every chunk: merging stops
 *       at them, and no block crosses a chunk's edge.</li>
 * </ul>
 * A header whose block has been merged into a neighbour gets size 0, a left offset no block can have
 * ({@code 0xDEADBEEF}, not a multiple of 16) and, as its previous link, its own granule salted per heap:
 * it never looks like a block again, and a second free of it is recognised as one.
 */
final class BlockLayout {

    static final int SIZE_AND_USED_OFFSET = 0;
    static final int LEFT_OFFSET_OFFSET = 4;
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

    /** The largest chunk: its blocks' sizes and offsets must fit 31 bits. */
    static final long MAX_CHUNK_BYTES = (1L << 31) - GRANULE;

    /** Links are unsigned 32-bit granule indices. */
    static final long MAX_REGION_BYTES = (1L << 32) * GRANULE;

    /** The link value meaning "no block". */
    static final int NO_BLOCK = 0;

    private BlockLayout() {
    }
}
