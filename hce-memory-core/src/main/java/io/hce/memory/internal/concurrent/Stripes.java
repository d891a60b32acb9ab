package io.hce.memory.internal.concurrent;

/**
 * How striped structures ({@link StripedLongRing}, the cache package's {@code StripedCaches}) size their
 * stripes and pick a thread's home stripe. No state, no ordering: what a stripe holds is ordered by the
 * stripe itself.
 */
public final class Stripes {

    /** Fibonacci hashing's multiplier, 2<sup>64</sup> / φ: consecutive thread ids land far apart. */
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private Stripes() {
    }

    /**
     * @return twice the processors, rounded up to a power of two: with more stripes than threads that can
     *         run at once, a thread almost always finds its stripe free
     */
    public static int countForThisMachine() {
        int processors = Runtime.getRuntime().availableProcessors();
        return Integer.highestOneBit(Math.max(1, processors * 2 - 1)) << 1;
    }

    /**
     * @param mask the stripe count minus one; the count a power of two
     * @return the calling thread's home stripe: the high bits of its id's Fibonacci hash
     */
    public static int home(int mask) {
        return (int) ((Thread.currentThread().threadId() * GOLDEN_GAMMA) >>> 32) & mask;
    }
}
