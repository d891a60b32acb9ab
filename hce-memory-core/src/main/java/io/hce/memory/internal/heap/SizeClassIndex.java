package io.hce.memory.internal.heap;

/**
 * TLSF's two-level index of free lists: which size class a block belongs to, and the first non-empty
 * class that can serve a request, in constant time.
 *
 * <h2>Classes</h2>
 * Sizes below {@value #SMALL_LIMIT} bytes have a class per granule: first level 0, second level
 * {@code size / 16}. From there each power of two {@code [2^k, 2^(k+1))} is a first level ({@code k - 8}),
 * split into {@value #SUB_CLASSES} equal sub-classes by the five bits below the leading one: Cachelot's
 * "powers of two broken into sub-cells". A class spans at most 1/32 of its sizes, which bounds the
 * internal waste of a good fit to about 3%.
 *
 * <h2>Search</h2>
 * A request is rounded up to the next class boundary, so every block in the class it maps to, and in any
 * class above, is large enough. The first non-empty class at or above it is found with two bit scans:
 * the second-level bitmap of its first level masked from its second level; failing that, the first-level
 * bitmap masked above its first level, then the lowest second-level bit there. No loop, no list walk.
 *
 * <pre>
 *   first level  ..0..1..2........22       one bit each: some class of this level is non-empty
 *   second level [32 bits] per first level: this sub-class's list is non-empty
 *   heads        [23 x 32] granule index of each list's first block
 * </pre>
 */
final class SizeClassIndex {

    static final int SUB_CLASS_SHIFT = 5;
    static final int SUB_CLASSES = 1 << SUB_CLASS_SHIFT;
    static final int SMALL_LIMIT = SUB_CLASSES * BlockLayout.GRANULE;
    /** log2 of {@link #SMALL_LIMIT}: the power of two that first level 1 starts at. */
    private static final int SMALL_LIMIT_LOG2 = Integer.numberOfTrailingZeros(SMALL_LIMIT);
    /** Block sizes are below 2^31, so the largest first level is 30 - 8. */
    static final int FIRST_LEVELS = 31 - SMALL_LIMIT_LOG2 + 1;

    private int firstLevelBitmap;
    private final int[] secondLevelBitmaps = new int[FIRST_LEVELS];
    private final int[] heads = new int[FIRST_LEVELS * SUB_CLASSES];

    /**
     * @param size a block size, at least one granule, below 2^31
     * @return the class the size belongs to: {@code firstLevel * 32 + secondLevel}
     */
    static int classOf(long size) {
        if (size < SMALL_LIMIT) {
            return (int) (size >>> BlockLayout.GRANULE_SHIFT);
        }
        int log2 = 63 - Long.numberOfLeadingZeros(size);
        int firstLevel = log2 - SMALL_LIMIT_LOG2 + 1;
        int secondLevel = (int) (size >>> (log2 - SUB_CLASS_SHIFT)) & (SUB_CLASSES - 1);
        return firstLevel * SUB_CLASSES + secondLevel;
    }

    /**
     * @param size a block size
     * @return the size rounded up to the next class boundary: every block of its class is at least {@code size}
     */
    static long roundUpToClass(long size) {
        if (size < SMALL_LIMIT) {
            return size;
        }
        long step = 1L << (63 - Long.numberOfLeadingZeros(size) - SUB_CLASS_SHIFT);
        return (size + step - 1) & -step;
    }

    /**
     * @param sizeClass a class
     * @return the largest block size the class can hold
     */
    static long largestSizeIn(int sizeClass) {
        if (sizeClass < SUB_CLASSES) {
            return (long) sizeClass << BlockLayout.GRANULE_SHIFT;
        }
        int log2 = (sizeClass >>> SUB_CLASS_SHIFT) + SMALL_LIMIT_LOG2 - 1;
        long step = 1L << (log2 - SUB_CLASS_SHIFT);
        return (1L << log2) + (sizeClass & (SUB_CLASSES - 1)) * step + step - 1;
    }

    /**
     * @param size a block size
     * @return the first non-empty class whose blocks are all at least {@code size}, or -1
     */
    int findClassAtLeast(long size) {
        long rounded = roundUpToClass(size);
        if (rounded > BlockLayout.SIZE_MASK) {
            return -1;
        }
        int sizeClass = classOf(rounded);
        int firstLevel = sizeClass >>> SUB_CLASS_SHIFT;
        int secondLevelMap = secondLevelBitmaps[firstLevel] & (-1 << (sizeClass & (SUB_CLASSES - 1)));
        if (secondLevelMap == 0) {
            int firstLevelMap = firstLevelBitmap & (-1 << (firstLevel + 1));
            if (firstLevelMap == 0) {
                return -1;
            }
            firstLevel = Integer.numberOfTrailingZeros(firstLevelMap);
            secondLevelMap = secondLevelBitmaps[firstLevel];
        }
        return firstLevel * SUB_CLASSES + Integer.numberOfTrailingZeros(secondLevelMap);
    }

    /** @return the granule index of the class's first free block, or {@link BlockLayout#NO_BLOCK} */
    int head(int sizeClass) {
        return heads[sizeClass];
    }

    /** Sets the class's first block, keeping both bitmaps in step with the list being empty or not. */
    void setHead(int sizeClass, int granule) {
        heads[sizeClass] = granule;
        int firstLevel = sizeClass >>> SUB_CLASS_SHIFT;
        int bit = 1 << (sizeClass & (SUB_CLASSES - 1));
        if (granule != BlockLayout.NO_BLOCK) {
            secondLevelBitmaps[firstLevel] |= bit;
            firstLevelBitmap |= 1 << firstLevel;
        } else {
            secondLevelBitmaps[firstLevel] &= ~bit;
            if (secondLevelBitmaps[firstLevel] == 0) {
                firstLevelBitmap &= ~(1 << firstLevel);
            }
        }
    }

    /**
     * Read without the owner's lock, this is a hint: it may miss a change another thread has just made.
     *
     * @return the highest non-empty class, or -1: where the largest free block is
     */
    int highestNonEmptyClass() {
        if (firstLevelBitmap == 0) {
            return -1;
        }
        int firstLevel = 31 - Integer.numberOfLeadingZeros(firstLevelBitmap);
        return firstLevel * SUB_CLASSES + 31 - Integer.numberOfLeadingZeros(secondLevelBitmaps[firstLevel]);
    }

    /** @return whether the bitmaps say the class's list is non-empty (for verification) */
    boolean isMarkedNonEmpty(int sizeClass) {
        int firstLevel = sizeClass >>> SUB_CLASS_SHIFT;
        boolean second = (secondLevelBitmaps[firstLevel] & (1 << (sizeClass & (SUB_CLASSES - 1)))) != 0;
        boolean first = (firstLevelBitmap & (1 << firstLevel)) != 0;
        return second && first;
    }

    /** @return whether a first level's bit is set without any of its classes' bits (for verification) */
    boolean hasStrayFirstLevelBit() {
        for (int firstLevel = 0; firstLevel < FIRST_LEVELS; firstLevel++) {
            boolean first = (firstLevelBitmap & (1 << firstLevel)) != 0;
            if (first != (secondLevelBitmaps[firstLevel] != 0)) {
                return true;
            }
        }
        return false;
    }

    /** @return the number of classes */
    static int classCount() {
        return FIRST_LEVELS * SUB_CLASSES;
    }
}
