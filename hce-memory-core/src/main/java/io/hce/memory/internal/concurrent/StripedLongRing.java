package io.hce.memory.internal.concurrent;

/**
 * A bounded lock-free pool of {@code long}s spread over several {@link LongRing}s, so that threads sharing
 * it mostly touch different cache lines: the storage of a {@code PoolAllocator}.
 *
 * <h2>Design</h2>
 * A thread starts at the stripe its id hashes to ({@link Stripes#home}): it offers there and polls there
 * first, so a thread that frees what it allocated stays on one stripe, and two threads rarely contend. A
 * poll that finds its stripe empty looks at the others before giving up, and an offer that finds its stripe
 * full does too, so the structure as a whole holds at most {@link #capacity()} values, refuses a value only
 * when each stripe was full as the scan passed it, and misses one only when each was empty. Those scans are
 * the slow path, taken only when the caller is about to call {@code malloc} or {@code free} anyway.
 *
 * <p>The capacity is split as evenly as possible over a power-of-two number of stripes:
 * {@link Stripes#countForThisMachine()}, but never more than the capacity, so every stripe holds at least
 * one value. The stripes are independent {@link LongRing}s; nothing orders one against another (rule 1 of
 * the package documentation).
 */
public final class StripedLongRing {

    private final LongRing[] stripes;
    private final int mask;
    private final int capacity;

    /**
     * @param capacity the most values held over all stripes, at least 1
     */
    public StripedLongRing(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        int count = Math.min(Stripes.countForThisMachine(), Integer.highestOneBit(capacity));
        stripes = new LongRing[count];
        for (int i = 0; i < count; i++) {
            stripes[i] = new LongRing(capacity / count + (i < capacity % count ? 1 : 0));
        }
        this.mask = count - 1;
        this.capacity = capacity;
    }

    /**
     * @param value the value to add
     * @return false, having changed nothing, when every stripe is full
     */
    public boolean offer(long value) {
        int home = Stripes.home(mask);
        if (stripes[home].offer(value)) {
            return true;
        }
        for (int i = 1; i <= mask; i++) {
            if (stripes[(home + i) & mask].offer(value)) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param empty what to return when every stripe is empty
     * @return a value, or {@code empty}
     */
    public long poll(long empty) {
        int home = Stripes.home(mask);
        long value = stripes[home].poll(empty);
        if (value != empty) {
            return value;
        }
        for (int i = 1; i <= mask; i++) {
            value = stripes[(home + i) & mask].poll(empty);
            if (value != empty) {
                return value;
            }
        }
        return empty;
    }

    /** @return how many values have ever been taken out, over all stripes */
    public long polled() {
        long polled = 0;
        for (LongRing stripe : stripes) {
            polled += stripe.polled();
        }
        return polled;
    }

    /** @return the number of values held, approximate while other threads offer or poll */
    public int size() {
        int size = 0;
        for (LongRing stripe : stripes) {
            size += stripe.size();
        }
        return size;
    }

    /** @return the most values held */
    public int capacity() {
        return capacity;
    }

    /** @return the number of stripes */
    public int stripeCount() {
        return stripes.length;
    }
}
