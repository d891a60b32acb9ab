package io.hce.memory.internal.heap;

/** Hears of each block eviction takes, while its memory is still intact, under its shard's lock. */
@FunctionalInterface
public interface VictimSink {

    /**
     * @param handle          the victim's handle (no longer live: it cannot be pinned; it can still be read)
     * @param payloadAddress  the address of its payload
     * @param payloadCapacity the payload's size, at least what it was allocated with
     */
    void evicted(long handle, long payloadAddress, long payloadCapacity);
}
