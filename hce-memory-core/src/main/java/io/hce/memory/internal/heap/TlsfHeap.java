package io.hce.memory.internal.heap;

import java.lang.foreign.MemorySegment;

import static io.hce.memory.internal.heap.BlockLayout.BORDER_SIZE;
import static io.hce.memory.internal.heap.BlockLayout.GRANULE;
import static io.hce.memory.internal.heap.BlockLayout.GRANULE_SHIFT;
import static io.hce.memory.internal.heap.BlockLayout.HEADER_LENGTH;
import static io.hce.memory.internal.heap.BlockLayout.LEFT_OFFSET_OFFSET;
import static io.hce.memory.internal.heap.BlockLayout.MAX_CHUNK_BYTES;
import static io.hce.memory.internal.heap.BlockLayout.MIN_BLOCK_SIZE;
import static io.hce.memory.internal.heap.BlockLayout.NEXT_OFFSET;
import static io.hce.memory.internal.heap.BlockLayout.NO_BLOCK;
import static io.hce.memory.internal.heap.BlockLayout.PREVIOUS_OFFSET;
import static io.hce.memory.internal.heap.BlockLayout.SIZE_AND_USED_OFFSET;
import static io.hce.memory.internal.heap.BlockLayout.SIZE_MASK;
import static io.hce.memory.internal.heap.BlockLayout.USED_FLAG;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Cachelot's memalloc: blocks carved out of one fixed region, found, split and merged in constant time,
 * with least-recently-used eviction. Not thread-safe.
 *
 * <h2>Region</h2>
 * The region is cut into {@code n} equal chunks of at most {@link BlockLayout#MAX_CHUNK_BYTES}, so sizes and
 * left offsets fit the header's 31 and 32 bits whatever the capacity. Each chunk starts as
 * {@code [border | one free block | border]}. Equal chunks mean that once everything is free, every free
 * block has the same size, {@link #maxBlockSize()}: the basis of eviction's guarantee below.
 *
 * <h2>Allocate</h2>
 * The request plus header, rounded to a granule, is the block size {@code b}. First the head of {@code b}'s
 * own class is looked at: it fits often (a cache's values of one size reuse each other's blocks, and the
 * last block of a class is found even when it is the largest there is), at the cost of one compare, no
 * walk. Otherwise {@link SizeClassIndex} finds the first non-empty class whose blocks are all at least
 * {@code b} (two bit scans). The block found is taken off its list and split when the rest can be a block;
 * the rest goes back to a free list. The block goes to the head of the LRU list.
 *
 * <h2>Free</h2>
 * The block is merged at once with a free left neighbour (found through its left offset) and a free right
 * neighbour (through its size); the absorbed headers are marked as merged. So two free blocks are never adjacent.
 *
 * <h2>Eviction</h2>
 * {@link #leastRecentlyUsed()} is the LRU list's tail; {@code touch} moves a block to the head. The caller
 * evicts the tail and retries until the request fits. In the worst case that is every used block: blocks
 * freed in LRU order need not be adjacent, and a fit is certain only when a whole chunk is free. Each
 * eviction is O(1) (unlink, merge, relink), and a block is evicted at most once per allocation of it, so
 * the work is O(1) amortised per evicted block. Once every block is evicted, every chunk is one free block
 * of {@link #maxBlockSize()}, the head of its class, so any request up to the maximum then fits.
 */
public final class TlsfHeap {

    /** Bytes from a block's offset to its payload: a segment handed out starts this far into its block. */
    public static final int HEADER_LENGTH = BlockLayout.HEADER_LENGTH;

    /** The left offset of a merged header: no real block has it (offsets are multiples of 16). */
    private static final long MERGED_MARK = 0xDEAD_BEEFL;

    /** Written into merged headers beside {@link #MERGED_MARK}, so stale marks of other heaps do not count. */
    private final int salt = new java.util.SplittableRandom().nextInt();

    private final MemorySegment region;
    private final long chunkSize;
    private final int chunkCount;
    private final SizeClassIndex index = new SizeClassIndex();
    private int lruHead = NO_BLOCK;
    private int lruTail = NO_BLOCK;
    private long usedBytes;
    private long freeBytes;
    private long usedBlocks;

    /**
     * Lays out the chunks in {@code region}.
     *
     * @param region the native memory to manage, 16-byte aligned
     */
    public TlsfHeap(MemorySegment region) {
        this.region = region;
        long capacity = region.byteSize();
        this.chunkCount = (int) ((capacity + MAX_CHUNK_BYTES - 1) / MAX_CHUNK_BYTES);
        this.chunkSize = chunkSizeFor(capacity);
        for (int chunk = 0; chunk < chunkCount; chunk++) {
            long start = chunk * chunkSize;
            long blockSize = chunkSize - 2L * BORDER_SIZE;
            writeHeader(start, BORDER_SIZE, true, 0);
            writeHeader(start + BORDER_SIZE, blockSize, false, BORDER_SIZE);
            writeHeader(start + BORDER_SIZE + blockSize, BORDER_SIZE, true, blockSize);
            insertFree(start + BORDER_SIZE, blockSize);
            freeBytes += blockSize;
        }
    }

    private static long chunkSizeFor(long capacity) {
        long chunks = (capacity + MAX_CHUNK_BYTES - 1) / MAX_CHUNK_BYTES;
        return capacity / chunks & -GRANULE;
    }

    /**
     * @param capacity a region's size
     * @return the largest payload any request can get in a region of that size
     */
    public static long maxPayloadFor(long capacity) {
        return chunkSizeFor(capacity) - 2L * BORDER_SIZE - HEADER_LENGTH;
    }

    /** @return the size of a whole chunk's free block: the largest block there can be */
    public long maxBlockSize() {
        return chunkSize - 2L * BORDER_SIZE;
    }

    /**
     * @param byteSize a payload size, 1 … {@link #maxPayloadFor}
     * @return the offset of the new block's header, or -1 when no free block fits
     */
    public long allocate(long byteSize) {
        long size = blockSizeFor(byteSize);
        long block = findFree(size);
        if (block < 0) {
            return -1;
        }
        long blockSize = sizeAt(block);
        removeFree(block, blockSize);
        long rest = blockSize - size;
        if (rest >= MIN_BLOCK_SIZE) {
            long restBlock = block + size;
            writeHeader(restBlock, rest, false, size);
            setLeftOffset(restBlock + rest, rest);
            insertFree(restBlock, rest);
            blockSize = size;
        }
        writeHeader(block, blockSize, true, leftOffsetAt(block));
        freeBytes -= blockSize;
        usedBytes += blockSize;
        usedBlocks++;
        pushLru(block);
        return block;
    }

    private static long blockSizeFor(long byteSize) {
        return Math.max(MIN_BLOCK_SIZE, (byteSize + HEADER_LENGTH + GRANULE - 1) & -GRANULE);
    }

    private long findFree(long size) {
        int own = index.head(SizeClassIndex.classOf(Math.min(size, SIZE_MASK)));
        if (own != NO_BLOCK && sizeAt(offsetOf(own)) >= size) {
            return offsetOf(own);
        }
        int sizeClass = index.findClassAtLeast(size);
        return sizeClass >= 0 ? offsetOf(index.head(sizeClass)) : -1;
    }

    /**
     * Frees a used block and merges it with its free neighbours.
     *
     * @param block a used block's header offset, checked with {@link #checkUsedBlock}
     */
    public void free(long block) {
        long size = sizeAt(block);
        unlinkLru(block);
        usedBytes -= size;
        freeBytes += size;
        usedBlocks--;
        long left = block - leftOffsetAt(block);
        if (!isUsed(left)) {
            long leftSize = sizeAt(left);
            removeFree(left, leftSize);
            markMerged(block);
            block = left;
            size += leftSize;
        }
        long right = block + size;
        if (!isUsed(right)) {
            long rightSize = sizeAt(right);
            removeFree(right, rightSize);
            markMerged(right);
            size += rightSize;
        }
        writeHeader(block, size, false, leftOffsetAt(block));
        setLeftOffset(block + size, size);
        insertFree(block, size);
    }

    /** Marks a used block as the most recently used. */
    public void touch(long block) {
        if (offsetOf(lruHead) != block) {
            unlinkLru(block);
            pushLru(block);
        }
    }

    /** @return the least recently used block's header offset, or -1 when no block is used */
    public long leastRecentlyUsed() {
        return lruTail == NO_BLOCK ? -1 : offsetOf(lruTail);
    }

    /**
     * Checks, in constant time, that {@code block} is the header of a live block with room for
     * {@code payload} bytes: inside the region, on a granule, chained consistently with both neighbours
     * inside its chunk, and used. A header merged into a neighbour is marked so, and a block freed twice is
     * caught whether or not it was merged (unless its memory has been handed out again since).
     *
     * @throws IllegalArgumentException if there is no block of this heap at {@code block}
     * @throws IllegalStateException    if the block is free already
     */
    public void checkUsedBlock(long block, long payload) {
        if (block < 0 || block >= region.byteSize() - HEADER_LENGTH || (block & (GRANULE - 1)) != 0) {
            throw new IllegalArgumentException("not a block of this heap: offset " + block
                    + " is not on a block boundary inside the heap");
        }
        long size = sizeAt(block);
        if (size == 0 && leftOffsetAt(block) == MERGED_MARK && previousAt(block) == (granuleOf(block) ^ salt)) {
            throw new IllegalStateException("double free: the block at offset " + block
                    + " was freed already (and merged into a neighbour)");
        }
        long chunkStart = block / chunkSize * chunkSize;
        if (size < MIN_BLOCK_SIZE || !isChainedToNeighbours(block, size, chunkStart)) {
            throw new IllegalArgumentException("not a block of this heap: no valid block header at offset " + block);
        }
        if (!isUsed(block)) {
            throw new IllegalStateException("double free: the block at offset " + block + " is free already");
        }
        if (payload > size - HEADER_LENGTH) {
            throw new IllegalArgumentException("not a block of this heap: " + payload + " bytes do not fit the "
                    + (size - HEADER_LENGTH) + "-byte block at offset " + block);
        }
    }

    private boolean isChainedToNeighbours(long block, long size, long chunkStart) {
        long chunkEnd = chunkStart + chunkSize;
        if ((size & (GRANULE - 1)) != 0 || block + size > chunkEnd - BORDER_SIZE || block < chunkStart + BORDER_SIZE) {
            return false;
        }
        long leftOffset = leftOffsetAt(block);
        long left = block - leftOffset;
        return leftOffsetAt(block + size) == size && leftOffset >= BORDER_SIZE && left >= chunkStart
                && sizeAt(left) == leftOffset;
    }

    /** @return bytes in used blocks, headers included */
    public long usedBytes() {
        return usedBytes;
    }

    /** @return bytes in free blocks, headers included */
    public long freeBytes() {
        return freeBytes;
    }

    /** @return the payload of the largest free block, 0 when there is none */
    public long largestFreePayload() {
        int sizeClass = index.highestNonEmptyClass();
        if (sizeClass < 0) {
            return 0;
        }
        long largest = 0;
        for (int granule = index.head(sizeClass); granule != NO_BLOCK; granule = nextAt(offsetOf(granule))) {
            largest = Math.max(largest, sizeAt(offsetOf(granule)));
        }
        return largest - HEADER_LENGTH;
    }

    /**
     * @param block a block's header offset
     * @return the payload capacity of the block
     */
    public long payloadCapacity(long block) {
        return sizeAt(block) - HEADER_LENGTH;
    }

    /**
     * Walks the whole region and every list, checking every invariant.
     *
     * @return null when all hold, else the first broken one
     */
    public String verify() {
        long walkedUsed = 0;
        long walkedFree = 0;
        long usedCount = 0;
        long freeCount = 0;
        for (int chunk = 0; chunk < chunkCount; chunk++) {
            long start = chunk * chunkSize;
            long end = start + chunkSize - BORDER_SIZE;
            if (sizeAt(start) != BORDER_SIZE || !isUsed(start) || sizeAt(end) != BORDER_SIZE || !isUsed(end)) {
                return "chunk " + chunk + ": border blocks damaged";
            }
            long previousSize = BORDER_SIZE;
            boolean previousFree = false;
            for (long block = start + BORDER_SIZE; block < end; ) {
                long size = sizeAt(block);
                String where = "block at " + block + " (size " + size + ")";
                if (size < MIN_BLOCK_SIZE || (size & (GRANULE - 1)) != 0 || block + size > end) {
                    return where + ": bad size";
                }
                if (leftOffsetAt(block) != previousSize) {
                    return where + ": left offset " + leftOffsetAt(block) + " != left neighbour's size " + previousSize;
                }
                boolean free = !isUsed(block);
                if (free && previousFree) {
                    return where + ": two adjacent free blocks";
                }
                if (free) {
                    walkedFree += size;
                    freeCount++;
                } else {
                    walkedUsed += size;
                    usedCount++;
                }
                previousSize = size;
                previousFree = free;
                block += size;
            }
            if (leftOffsetAt(end) != previousSize) {
                return "chunk " + chunk + ": right border's left offset " + leftOffsetAt(end) + " != " + previousSize;
            }
        }
        if (walkedUsed != usedBytes || walkedFree != freeBytes || usedCount != usedBlocks) {
            return "accounting: walked " + walkedUsed + " used / " + walkedFree + " free bytes in " + usedCount
                    + " used blocks, books say " + usedBytes + " / " + freeBytes + " in " + usedBlocks;
        }
        String lists = verifyFreeLists(freeCount);
        return lists != null ? lists : verifyLru(usedCount);
    }

    private String verifyFreeLists(long freeCount) {
        long listed = 0;
        for (int sizeClass = 0; sizeClass < SizeClassIndex.classCount(); sizeClass++) {
            int head = index.head(sizeClass);
            if ((head != NO_BLOCK) != index.isMarkedNonEmpty(sizeClass)) {
                return "class " + sizeClass + ": bitmap says " + index.isMarkedNonEmpty(sizeClass) + ", list head " + head;
            }
            int previous = NO_BLOCK;
            for (int granule = head; granule != NO_BLOCK; granule = nextAt(offsetOf(granule))) {
                long block = offsetOf(granule);
                if (isUsed(block) || SizeClassIndex.classOf(sizeAt(block)) != sizeClass || previousAt(block) != previous) {
                    return "class " + sizeClass + ": block at " + block + " is used, misfiled or mislinked";
                }
                if (++listed > freeCount) {
                    return "free lists hold more blocks than the region (a cycle?)";
                }
                previous = granule;
            }
        }
        if (index.hasStrayFirstLevelBit()) {
            return "first-level bitmap disagrees with the second-level bitmaps";
        }
        return listed == freeCount ? null : "free lists hold " + listed + " blocks, the region " + freeCount;
    }

    private String verifyLru(long usedCount) {
        long listed = 0;
        int previous = NO_BLOCK;
        for (int granule = lruHead; granule != NO_BLOCK; granule = nextAt(offsetOf(granule))) {
            long block = offsetOf(granule);
            if (!isUsed(block) || sizeAt(block) == BORDER_SIZE || previousAt(block) != previous) {
                return "LRU list: block at " + block + " is free, a border or mislinked";
            }
            if (++listed > usedCount) {
                return "LRU list holds more blocks than are used (a cycle?)";
            }
            previous = granule;
        }
        if (previous != lruTail) {
            return "LRU list: tail " + lruTail + " is not the last block " + previous;
        }
        return listed == usedCount ? null : "LRU list holds " + listed + " blocks, " + usedCount + " are used";
    }

    // ---- free lists --------------------------------------------------------------------------------------

    private void insertFree(long block, long size) {
        int sizeClass = SizeClassIndex.classOf(size);
        int head = index.head(sizeClass);
        setPrevious(block, NO_BLOCK);
        setNext(block, head);
        if (head != NO_BLOCK) {
            setPrevious(offsetOf(head), granuleOf(block));
        }
        index.setHead(sizeClass, granuleOf(block));
    }

    private void removeFree(long block, long size) {
        int previous = previousAt(block);
        int next = nextAt(block);
        if (previous != NO_BLOCK) {
            setNext(offsetOf(previous), next);
        } else {
            index.setHead(SizeClassIndex.classOf(size), next);
        }
        if (next != NO_BLOCK) {
            setPrevious(offsetOf(next), previous);
        }
    }

    // ---- LRU list: head is the most recently used --------------------------------------------------------

    private void pushLru(long block) {
        int granule = granuleOf(block);
        setPrevious(block, NO_BLOCK);
        setNext(block, lruHead);
        if (lruHead != NO_BLOCK) {
            setPrevious(offsetOf(lruHead), granule);
        } else {
            lruTail = granule;
        }
        lruHead = granule;
    }

    private void unlinkLru(long block) {
        int previous = previousAt(block);
        int next = nextAt(block);
        if (previous != NO_BLOCK) {
            setNext(offsetOf(previous), next);
        } else {
            lruHead = next;
        }
        if (next != NO_BLOCK) {
            setPrevious(offsetOf(next), previous);
        } else {
            lruTail = previous;
        }
    }

    // ---- header access ------------------------------------------------------------------------------------

    private void writeHeader(long block, long size, boolean used, long leftOffset) {
        region.set(JAVA_INT, block + SIZE_AND_USED_OFFSET, (int) size | (used ? USED_FLAG : 0));
        region.set(JAVA_INT, block + LEFT_OFFSET_OFFSET, (int) leftOffset);
    }

    /**
     * Marks the header of a block merged into a neighbour: size 0, {@link #MERGED_MARK}, and its own granule
     * salted with this heap's {@link #salt}, so that a mark left in memory by an earlier heap is not taken
     * for one of this heap's.
     */
    private void markMerged(long block) {
        writeHeader(block, 0, false, MERGED_MARK);
        setPrevious(block, granuleOf(block) ^ salt);
        setNext(block, NO_BLOCK);
    }

    private long sizeAt(long block) {
        return region.get(JAVA_INT, block + SIZE_AND_USED_OFFSET) & SIZE_MASK;
    }

    private boolean isUsed(long block) {
        return (region.get(JAVA_INT, block + SIZE_AND_USED_OFFSET) & USED_FLAG) != 0;
    }

    private long leftOffsetAt(long block) {
        return Integer.toUnsignedLong(region.get(JAVA_INT, block + LEFT_OFFSET_OFFSET));
    }

    private void setLeftOffset(long block, long leftOffset) {
        region.set(JAVA_INT, block + LEFT_OFFSET_OFFSET, (int) leftOffset);
    }

    private int previousAt(long block) {
        return region.get(JAVA_INT, block + PREVIOUS_OFFSET);
    }

    private int nextAt(long block) {
        return region.get(JAVA_INT, block + NEXT_OFFSET);
    }

    private void setPrevious(long block, int granule) {
        region.set(JAVA_INT, block + PREVIOUS_OFFSET, granule);
    }

    private void setNext(long block, int granule) {
        region.set(JAVA_INT, block + NEXT_OFFSET, granule);
    }

    private static int granuleOf(long block) {
        return (int) (block >>> GRANULE_SHIFT);
    }

    private static long offsetOf(int granule) {
        return Integer.toUnsignedLong(granule) << GRANULE_SHIFT;
    }
}
