package io.hce.memory.internal.heap;

import java.util.function.LongConsumer;

/**
 * A shard's quick lists: freed blocks below {@value #LIMIT_BYTES} bytes kept whole, one list per exact block
 * size, for the next request that fits them (deferred coalescing, as glibc's fast bins and tcache). Guarded by
 * the shard's lock, as all of the shard but its state words; {@link #blocks} and {@link #mightPop} are also read
 * without it, as hints that a request checks under the lock.
 *
 * <h2>Why by exact size</h2>
 * A request takes the smallest kept block of at least its size within its {@link SizeClassIndex} class (so no
 * more than 1/32 larger): one scan of a 1024-bit bitmap of non-empty lists, never a walk of a list. A list per
 * class instead would hold blocks smaller than some of its requests, and finding one that fits would mean
 * looking through them.
 *
 * <h2>Oldest first</h2>
 * A list is a ring that hands out its oldest block first, where glibc's tcache and fast bins hand out the newest,
 * whose lines are warm. In a heap larger than the CPU caches no kept block is warm, and handing out the oldest
 * keeps the order of addresses: blocks freed in the order they were allocated (a batch; Cachelot's benchmark)
 * come back in that order, so the next round walks the shard's bitmaps in address order, where newest-first
 * reverses each list and scatters the walk. With mixed sizes each list moves through the shard at about the
 * pace of the others, so the walk stays local too.
 *
 * <h2>Entries</h2>
 * <pre>
 *   entry   63                     32 31  30        26 25                     0
 *          +-------------------------+---+------------+------------------------+
 *          |   block size (bytes)    | F |     0      | granule within shard   |     F: the caller's flag
 *          +-------------------------+---+------------+------------------------+
 * </pre>
 * A list stores the low 32 bits; the size is the list's. Nothing here reads or writes a block: the entries are
 * all that is touched, so a large heap's cold headers stay cold.
 *
 * <h2>Java heap</h2>
 * A list's length is a power of two (so its ring wraps with a mask, not a branch); it grows by doubling, and
 * keeps its length when it empties (a list that fills and empties round after round allocates nothing). When
 * all lists together would pass twice the limit's entries (plus 8 a list), every list is trimmed to the
 * smallest power of two that holds what it has (less than twice that) first: with
 * a shard's limit of one block per 2 KiB, the lists take at most 4 bytes per KiB of shard, and 32 KiB.
 */
final class QuickLists {

    /** Blocks below this size are kept. */
    static final int LIMIT_BYTES = 16 << 10;
    /** The caller's flag in an entry (bit 31). */
    static final long FLAG = 1L << 31;
    private static final int LISTS = LIMIT_BYTES >>> BlockLayout.GRANULE_SHIFT;
    private static final int MIN_LENGTH = 8;
    /** Where the non-empty lists' bitmap starts in {@link #rings}. */
    private static final int NON_EMPTY = LISTS;

    private final int[][] lists = new int[LISTS][];
    /**
     * Per list, its ring's head (the oldest entry's index) in the high 32 bits and its count in the low 32; then,
     * from {@link #NON_EMPTY}, a bitmap of the non-empty lists. One array, so that a push or a take reads and
     * writes one word of it (and the bitmap's, when a list fills or empties), with fewer bounds checks than three
     * arrays had (each check is one more stub in the compiled fast paths).
     */
    private final long[] rings = new long[NON_EMPTY + (LISTS >>> 6)];
    private final int limit;
    /** The most entries all lists may have room for (see {@link #grow}). */
    private final long maxLength;
    private long totalLength;
    private long bytes;
    private int blocks; // read without the lock by HeapShard.mightFit, a hint

    /** @param limit the most blocks kept at once */
    QuickLists(int limit) {
        this.limit = limit;
        this.maxLength = 2L * limit + (long) MIN_LENGTH * LISTS;
    }

    /** @return whether a block of {@code size} bytes is kept on a quick list when there is room */
    static boolean holds(long size) {
        return size < LIMIT_BYTES;
    }

    /** @return whether one more block can be kept */
    boolean hasRoom() {
        return blocks < limit;
    }

    int blocks() {
        return blocks;
    }

    long bytes() {
        return bytes;
    }

    /**
     * Keeps a block.
     *
     * @param size a size that {@link #holds}
     * @param flag 0 or {@link #FLAG}, given back with the block
     */
    void push(long block, long size, long flag) {
        int list = (int) (size >>> BlockLayout.GRANULE_SHIFT);
        int[] entries = lists[list];
        long ring = rings[list];
        int count = (int) ring;
        if (entries == null || entries.length == count) {
            entries = grow(list, lengthFor(2 * count));
            ring = rings[list]; // its head is 0 now
        }
        int head = (int) (ring >>> 32);
        // a ring: the oldest entry at the head
        entries[(head + count) & (entries.length - 1)] = (int) (flag | (block >>> BlockLayout.GRANULE_SHIFT));
        rings[list] = ring + 1;
        if (count == 0) {
            rings[NON_EMPTY + (list >>> 6)] |= 1L << list;
        }
        bytes += size;
        blocks++;
    }

    /**
     * @param size a block size
     * @return the entry of the smallest kept block of at least {@code size} bytes and of {@code size}'s class,
     *         taken off its list; or -1
     */
    long pop(long size) {
        if (!holds(size)) {
            return -1;
        }
        int first = (int) (size >>> BlockLayout.GRANULE_SHIFT);
        long ring = rings[first];
        return (int) ring != 0 ? take(first, ring) : popLarger(first, size); // an exact fit needs no scan
    }

    /**
     * A hint, read without the lock: whether {@link #pop} might find a block for {@code size}. Exact under the
     * lock; without it, a list filled or emptied meanwhile may be missed or counted.
     */
    boolean mightPop(long size) {
        if (!holds(size)) {
            return false;
        }
        int first = (int) (size >>> BlockLayout.GRANULE_SHIFT);
        int last = lastListFor(size);
        for (int word = first >>> 6; word <= last >>> 6; word++) {
            long bits = rings[NON_EMPTY + word];
            if (word == first >>> 6) {
                bits &= -1L << first;
            }
            if (word == last >>> 6) {
                bits &= -1L >>> (63 - (last & 63));
            }
            if (bits != 0) {
                return true;
            }
        }
        return false;
    }

    /** @return the list of the largest block size in {@code size}'s class that a list holds */
    private static int lastListFor(long size) {
        return (int) Math.min(LISTS - 1, SizeClassIndex.largestSizeIn(SizeClassIndex.classOf(size)) >>> BlockLayout.GRANULE_SHIFT);
    }

    private long popLarger(int first, long size) {
        int last = lastListFor(size);
        int word = first >>> 6;
        long bits = rings[NON_EMPTY + word] & (-1L << first);
        while (bits == 0) {
            if (++word > last >>> 6) {
                return -1;
            }
            bits = rings[NON_EMPTY + word];
        }
        int list = (word << 6) + Long.numberOfTrailingZeros(bits);
        return list > last ? -1 : take(list, rings[list]);
    }

    /** @return the entry of a kept block of the largest size kept, taken off its list; or -1 when none is kept */
    long popLargest() {
        for (int word = (LISTS >>> 6) - 1; word >= 0; word--) {
            long bits = rings[NON_EMPTY + word];
            if (bits != 0) {
                int list = (word << 6) + 63 - Long.numberOfLeadingZeros(bits);
                return take(list, rings[list]);
            }
        }
        return -1;
    }

    /** @return whether the block at {@code block}, of {@code size} bytes, was kept (and is no longer) */
    boolean remove(long block, long size) {
        if (!holds(size)) {
            return false;
        }
        int list = (int) (size >>> BlockLayout.GRANULE_SHIFT);
        int granule = (int) (block >>> BlockLayout.GRANULE_SHIFT);
        int[] entries = lists[list];
        int head = head(list);
        for (int n = 0, i = head; n < count(list); n++, i = next(i, entries.length)) {
            if ((entries[i] & BlockState.GRANULE_MASK) == granule) {
                int found = entries[i];
                for (int to = i; to != head; ) { // the older entries move up a place: the order is kept
                    int from = (to == 0 ? entries.length : to) - 1;
                    entries[to] = entries[from];
                    to = from;
                }
                entries[head] = found; // take() hands out the oldest one
                take(list, rings[list]);
                return true;
            }
        }
        return false;
    }

    /** Gives every entry to {@code action}, for verification. */
    void forEach(LongConsumer action) {
        for (int list = 0; list < LISTS; list++) {
            for (int n = 0; n < count(list); n++) {
                action.accept(entry(list, lists[list][(head(list) + n) % lists[list].length]));
            }
        }
    }

    /** @return null when the bitmap agrees with the lists and the books with both, else what disagrees */
    String check() {
        long counted = 0;
        long countedBytes = 0;
        for (int list = 0; list < LISTS; list++) {
            if ((count(list) != 0) != ((rings[NON_EMPTY + (list >>> 6)] & (1L << list)) != 0)) {
                return "quick list of " + ((long) list << BlockLayout.GRANULE_SHIFT) + "-byte blocks: bitmap disagrees";
            }
            counted += count(list);
            countedBytes += (long) count(list) * ((long) list << BlockLayout.GRANULE_SHIFT);
        }
        if (counted > limit) {
            return "quick lists hold " + counted + " blocks, more than their limit of " + limit;
        }
        return counted == blocks && countedBytes == bytes ? null
                : "quick lists hold " + counted + " blocks of " + countedBytes + " bytes, books say " + blocks + " of " + bytes;
    }

    /** @return the block of an entry: its offset in the shard */
    static long block(long entry) {
        return (entry & BlockState.GRANULE_MASK) << BlockLayout.GRANULE_SHIFT;
    }

    /** @return the block size of an entry */
    static long size(long entry) {
        return entry >>> 32;
    }

    /**
     * Gives a list room for {@code length} entries; when all lists' lengths would pass {@link #maxLength}, trims
     * every list to the smallest length that holds what it has first (at most twice what it has). So the lists
     * never take more than twice the limit's entries plus {@value #MIN_LENGTH} a list, and a list that fills and
     * empties round after round keeps its length.
     */
    private int[] grow(int list, int length) {
        int[] entries = lists[list];
        int old = entries == null ? 0 : entries.length;
        if (totalLength - old + length > maxLength) {
            for (int other = 0; other < LISTS; other++) {
                if (other != list && lists[other] != null && lists[other].length > lengthFor(count(other))) {
                    totalLength -= lists[other].length;
                    relayout(other, lengthFor(count(other)));
                    totalLength += lists[other].length;
                }
            }
        }
        totalLength += length - old;
        return relayout(list, length);
    }

    /** Copies a list into a new array of {@code length}, its oldest entry first. */
    private int[] relayout(int list, int length) {
        int[] entries = lists[list];
        int[] copy = new int[length];
        int count = count(list);
        if (count != 0) {
            int head = head(list);
            int firstPart = Math.min(count, entries.length - head);
            System.arraycopy(entries, head, copy, 0, firstPart);
            System.arraycopy(entries, 0, copy, firstPart, count - firstPart);
        }
        rings[list] = count; // the head at 0
        return lists[list] = copy;
    }

    private int count(int list) {
        return (int) rings[list];
    }

    private int head(int list) {
        return (int) (rings[list] >>> 32);
    }

    /** @return the length of a list that holds {@code count} entries: a power of two, at least {@value #MIN_LENGTH} */
    private static int lengthFor(int count) {
        return count <= MIN_LENGTH ? MIN_LENGTH : Integer.highestOneBit(count - 1) << 1;
    }

    /** @return the ring index after {@code index}, in a list of {@code length} entries, a power of two */
    private static int next(int index, int length) {
        return (index + 1) & (length - 1);
    }

    /**
     * Takes the oldest entry of a list: first in, first out (see the class documentation).
     *
     * @param ring the list's word of {@link #rings}, which the caller has read
     */
    private long take(int list, long ring) {
        int count = (int) ring - 1;
        int[] entries = lists[list];
        int head = (int) (ring >>> 32);
        if (count == 0) {
            rings[list] = 0;
            rings[NON_EMPTY + (list >>> 6)] &= ~(1L << list);
        } else {
            rings[list] = (long) next(head, entries.length) << 32 | count;
        }
        long size = (long) list << BlockLayout.GRANULE_SHIFT;
        bytes -= size;
        blocks--;
        return entry(list, entries[head]);
    }

    private static long entry(int list, int low) {
        return ((long) list << BlockLayout.GRANULE_SHIFT) << 32 | Integer.toUnsignedLong(low);
    }
}
