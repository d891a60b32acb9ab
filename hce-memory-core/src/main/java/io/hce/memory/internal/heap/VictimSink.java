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
     * @param handle          the victim's handle (no longer live: it cannot be pinned; it can still be read), or
     *                        where a sink that does not {@linkplain #passesHandles pass handles} says so, one
     *                        that says only where it is (stamp 0)
     * @param payloadAddress  the address of its payload
     * @param payloadCapacity the payload's size, at least what it was allocated with
     */
    void evicted(Object listener, long handle, long payloadAddress, long payloadCapacity);

    /**
     * @return whether victims' handles reach someone who may read them. Then every victim's handle names its
     *         allocation, which costs a read of its header; a sink that passes on only addresses or segments
     *         says false, and victims handed out as segments or addresses are evicted without their headers
     *         being read (their handles then say only where they are)
     */
    default boolean passesHandles() {
        return true;
    }
}
