package io.hce.memory.internal.cache;

import io.hce.memory.internal.concurrent.Stripes;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The caches that virtual threads share: a few {@link ThreadCache}s, each behind a spin lock.
 *
 * <h2>Why</h2>
 * A cache per virtual thread would turn a million virtual threads into a million caches, each holding up
 * to the byte limits. Instead a virtual thread borrows one of {@link #stripeCount()} stripes
 * ({@link Stripes#countForThisMachine()}) for the length of one allocate or deallocate, so what virtual threads
 * cache stays bounded by the stripe count times the limits.
 *
 * <h2>Locking</h2>
 * A stripe is held for a few nanoseconds and never across a blocking call, so a virtual thread cannot be
 * unmounted while it holds one. A thread starts at the stripe its id hashes to ({@link Stripes#home}) and
 * moves on to the next when that one is taken; with more stripes than carrier threads a free one is almost
 * always found at once. Taking a lock is a CAS from 0 to 1 (so one holder at a time) and giving it back a
 * release store of 0, so the stripe's plain fields are written by one thread at a time, each seeing its
 * predecessors' writes: rule 1 of the package documentation. Lock words sit a cache line apart.
 */
final class StripedCaches {

    private static final VarHandle LOCKS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final int LOCK_SPACING = 16; // ints per cache line

    private final ThreadCache[] stripes;
    private final int[] locks;
    private final int mask;

    StripedCaches(ThreadCache[] stripes) {
        if (Integer.bitCount(stripes.length) != 1) {
            throw new IllegalArgumentException("stripe count must be a power of two, was " + stripes.length);
        }
        this.stripes = stripes;
        this.locks = new int[stripes.length * LOCK_SPACING];
        this.mask = stripes.length - 1;
    }

    /** @return the number of stripes for this machine: {@link Stripes#countForThisMachine()} */
    static int stripeCountForThisMachine() {
        return Stripes.countForThisMachine();
    }

    long allocate(int bucket, long byteSize, long byteAlignment) {
        int stripe = acquire();
        try {
            return stripes[stripe].allocate(bucket, byteSize, byteAlignment);
        } finally {
            release(stripe);
        }
    }

    void deallocate(int bucket, long address, long byteSize) {
        int stripe = acquire();
        try {
            stripes[stripe].deallocate(bucket, address, byteSize);
        } finally {
            release(stripe);
        }
    }

    int stripeCount() {
        return stripes.length;
    }

    /**
     * Frees every block the stripes cache, taking each stripe's lock in turn, as {@link #acquire()} does.
     *
     * @return the bytes freed
     */
    long trim() {
        long released = 0;
        for (int stripe = 0; stripe <= mask; stripe++) {
            while (!LOCKS.compareAndSet(locks, stripe * LOCK_SPACING, 0, 1)) {
                Thread.onSpinWait();
            }
            try {
                released += stripes[stripe].release();
            } finally {
                release(stripe);
            }
        }
        return released;
    }

    private int acquire() {
        int stripe = Stripes.home(mask);
        while (true) {
            for (int i = 0; i <= mask; i++) {
                if (LOCKS.compareAndSet(locks, stripe * LOCK_SPACING, 0, 1)) {
                    return stripe;
                }
                stripe = (stripe + 1) & mask;
            }
            Thread.onSpinWait();
        }
    }

    private void release(int stripe) {
        LOCKS.setRelease(locks, stripe * LOCK_SPACING, 0);
    }
}
