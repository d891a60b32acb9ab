package io.hce.memory;

import java.util.Locale;

/**
 * How closely an allocator watches for blocks that become unreachable without being deallocated.
 * A leak is reported once, with the block's size and allocation stack, through {@link System.Logger}
 * (logger {@code io.hce.memory.leaks}), and counted.
 *
 * <p>A block is tracked through the {@code MemorySegment} the allocator returned: if that object becomes
 * unreachable before the block is deallocated (through it or any segment of the same address), the block
 * has leaked. A program that drops the segment and deallocates later through a segment it rebuilt from a
 * saved address is reported too: keep the segment.
 */
public enum LeakDetection {

    /** No tracking: the allocation paths pay nothing. */
    OFF,

    /** One allocation in {@value #SAMPLING_INTERVAL} is tracked: cheap enough for production. */
    SAMPLED,

    /** Every allocation is tracked, with its stack: for tests and debugging. */
    PARANOID;

    /** How many allocations there are, on average, per tracked one when {@link #SAMPLED}. */
    public static final int SAMPLING_INTERVAL = 128;

    /**
     * @param value {@code off}, {@code sampled} or {@code paranoid}, in any case
     * @return the mode
     * @throws IllegalArgumentException naming the accepted values, for anything else
     */
    public static LeakDetection parse(String value) {
        try {
            return valueOf(value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + value + "' is not a leak detection mode: off, sampled or paranoid");
        }
    }
}
