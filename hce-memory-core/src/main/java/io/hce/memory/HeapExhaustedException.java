package io.hce.memory;

/**
 * Thrown by {@link FixedHeap#allocate} when no free block can hold the request. The heap is unchanged;
 * {@link FixedHeap#allocateOrEvict} makes room instead of throwing.
 */
public final class HeapExhaustedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long requestedBytes;

    /**
     * @param message        what was asked of which heap, and what it had
     * @param requestedBytes the size of the request that failed
     */
    public HeapExhaustedException(String message, long requestedBytes) {
        super(message);
        this.requestedBytes = requestedBytes;
    }

    /** @return the size of the request that failed, in bytes */
    public long requestedBytes() {
        return requestedBytes;
    }
}
