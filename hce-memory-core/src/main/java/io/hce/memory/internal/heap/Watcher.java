package io.hce.memory.internal.heap;

/**
 * Checked mode's view of a heap: told of every block handed out and of every end of one, by the thread that
 * made it happen, at the moment it happened (under the shard's lock, or right after the compare-and-set that
 * decided it), so that its books never lag behind the heap's.
 */
public interface Watcher {

    /**
     * Under the shard's lock: a block was just handed out.
     *
     * @param handle   its handle
     * @param header   its header's offset in the region
     * @param capacity its payload capacity
     * @param owned    handed out as a segment or an address, not as a handle
     */
    void handedOut(long handle, long header, long capacity, boolean owned);

    /**
     * A block was freed or evicted; called once per block, before its memory can be handed out again.
     *
     * @param handle  its handle
     * @param header  its header's offset in the region
     * @param evicted evicted rather than freed
     */
    void ended(long handle, long header, boolean evicted);

    /**
     * Under the shard's lock: memory about to be handed out does not hold the poison freeing left in it.
     *
     * @param offset the damaged byte's offset in the region
     * @return the report to throw; the allocation has been undone and the memory poisoned again
     */
    RuntimeException writeAfterFree(long offset);
}
