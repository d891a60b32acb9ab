package io.hce.memory.internal.cache;

import io.hce.memory.BucketCounter;
import io.hce.memory.internal.concurrent.FieldHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One bucket of one {@link ThreadCache}: a LIFO stack of cached block addresses and the bucket's counters.
 *
 * <p>Addresses are kept as {@code long}s in a primitive array: pushing and popping store no references,
 * so they pay no GC barrier, and the segment handed out is made from the address only when needed. The
 * array starts empty and doubles up to {@link #capacity}, so a thread that uses few buckets holds little.
 *
 * <p>Fields are written only by the cache's owner (see the package documentation); other threads read
 * the counters through {@link #counterOpaque}. The counters are plain fields, not an array indexed by
 * {@link BucketCounter}, so that a hit stays one increment of a field on the line the pop touches.
 */
final class BlockStack {

    private static final long[] NO_BLOCKS = {};
    private static final VarHandle COUNT = FieldHandles.of(MethodHandles.lookup(), "count", int.class);
    private static final VarHandle HITS_FIELD = FieldHandles.of(MethodHandles.lookup(), "hits", long.class);
    private static final VarHandle MISSES_FIELD = FieldHandles.of(MethodHandles.lookup(), "misses", long.class);
    private static final VarHandle FREES_FIELD = FieldHandles.of(MethodHandles.lookup(), "frees", long.class);

    /** The alignment every block of this bucket has; stricter requests are over-aligned. */
    final long alignment;
    /** The bytes each block takes from {@code malloc}. */
    final long nativeSize;
    /** The most blocks kept. */
    final int capacity;

    long[] blocks = NO_BLOCKS;
    int count;
    long hits;
    long misses;
    long frees;

    BlockStack(long alignment, long nativeSize, int capacity) {
        this.alignment = alignment;
        this.nativeSize = nativeSize;
        this.capacity = capacity;
    }

    /**
     * Makes room for at least {@code minLength} blocks, within {@link #capacity}.
     *
     * @return false when the stack is already as large as it may be
     */
    boolean grow(int minLength) {
        int length = blocks.length;
        if (length >= capacity) {
            return false;
        }
        int newLength = Math.min(capacity, Math.max(minLength, Math.max(16, length * 2)));
        blocks = java.util.Arrays.copyOf(blocks, newLength);
        return true;
    }

    /** Drops the (empty) array of a retired cache. */
    void discard() {
        blocks = NO_BLOCKS;
    }

    /**
     * @param counter one of the bucket's counters
     * @return its value in this stack, read with opaque loads
     */
    long counterOpaque(BucketCounter counter) {
        return switch (counter) {
            case HITS -> (long) HITS_FIELD.getOpaque(this);
            case MISSES -> (long) MISSES_FIELD.getOpaque(this);
            case FREES -> (long) FREES_FIELD.getOpaque(this);
            case CACHED_BYTES -> (int) COUNT.getOpaque(this) * nativeSize;
        };
    }
}
