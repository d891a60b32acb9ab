package io.hce.memory.internal.heap;

/**
 * Hears of each block eviction takes, while its memory is still intact, under its shard's lock. The caller's
 * own callback travels beside it as {@code listener}, so that a sink is a constant and an eviction allocates
 * nothing.
 */
@FunctionalInterface
public interface VictimSink {

    /**
     * @param listener        what the caller of the eviction passed along (its own callback)
     * @param handle          the victim's handle (no longer live: it cannot be pinned; it can still be read)
     * @param payloadAddress  the address of its payload
     * @param payloadCapacity the payload's size, at least what it was allocated with
     */
    void evicted(Object listener, long handle, long payloadAddress, long payloadCapacity);
}
