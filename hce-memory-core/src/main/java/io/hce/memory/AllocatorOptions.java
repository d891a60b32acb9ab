package io.hce.memory;

import java.util.Objects;

/**
 * The debugging aids of an allocator: checked mode and leak detection. Both are off by default, and an
 * allocator made with both off pays nothing for them on its allocation paths.
 *
 * @param checked       checked mode: every block is tracked with the stack that allocated it; double
 *                      frees, foreign segments, slices and resized segments, and segments of closed arenas
 *                      are reported by an exception saying what was wrong and where the block was
 *                      allocated; freed blocks are poisoned and held in a quarantine (the last 1,024
 *                      blocks, and at most 64 MiB of them, so that programs with large blocks stay
 *                      testable), and a write to one before it leaves the quarantine is reported by a
 *                      {@link WriteAfterFreeException} from the call that finds it (a later deallocation,
 *                      {@code trim()} or {@code close()}), once that call has done its work
 * @param leakDetection which allocations are watched for leaks
 */
public record AllocatorOptions(boolean checked, LeakDetection leakDetection) {

    /** System property: {@code true} turns checked mode on for allocators made with {@link #fromSystemProperties()}. */
    public static final String CHECKED_PROPERTY = "hce.memory.checked";

    /** System property: {@code off}, {@code sampled} or {@code paranoid}. */
    public static final String LEAK_DETECTION_PROPERTY = "hce.memory.leak-detection";

    /** Neither checked mode nor leak detection. */
    public static final AllocatorOptions NONE = new AllocatorOptions(false, LeakDetection.OFF);

    /**
     * @throws NullPointerException if {@code leakDetection} is {@code null}
     */
    public AllocatorOptions {
        Objects.requireNonNull(leakDetection, "leakDetection");
    }

    /**
     * @return the options the system properties {@value #CHECKED_PROPERTY} and {@value #LEAK_DETECTION_PROPERTY}
     *         ask for; off where they are not set
     * @throws IllegalArgumentException naming the property, if a value is invalid
     */
    public static AllocatorOptions fromSystemProperties() {
        String checked = System.getProperty(CHECKED_PROPERTY, "false").strip();
        if (!checked.equalsIgnoreCase("true") && !checked.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException("Invalid system property " + CHECKED_PROPERTY + "=" + checked
                    + ": true or false");
        }
        String leaks = System.getProperty(LEAK_DETECTION_PROPERTY, "off");
        try {
            return new AllocatorOptions(Boolean.parseBoolean(checked), LeakDetection.parse(leaks));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Invalid system property " + LEAK_DETECTION_PROPERTY + "=" + leaks
                    + ": " + e.getMessage());
        }
    }

    /**
     * How closely live blocks are watched, which decides what an allocator's {@code profile()} sees: every block in
     * checked mode and under {@link LeakDetection#PARANOID}, one allocation in {@value LeakDetection#SAMPLING_INTERVAL}
     * under {@link LeakDetection#SAMPLED}, none otherwise.
     *
     * @return allocations per watched block: 1, {@value LeakDetection#SAMPLING_INTERVAL}, or 0 when none is watched
     */
    public int allocationsPerWatchedBlock() {
        if (checked || leakDetection == LeakDetection.PARANOID) {
            return 1;
        }
        return leakDetection == LeakDetection.SAMPLED ? LeakDetection.SAMPLING_INTERVAL : 0;
    }

    /** @return whether an allocator with these options needs an {@code AllocationGuard} at all */
    boolean anyEnabled() {
        return checked || leakDetection != LeakDetection.OFF;
    }
}
