package io.hce.memory.internal.concurrent;

/**
 * State that belongs to one platform thread and is found through a {@link ThreadTable}: a thread cache,
 * a pool's magazine. Its owner writes it with plain stores; see the package documentation.
 */
public abstract class ThreadOwned {

    /** The id of the platform thread that owns this state, or -1 for none. Thread ids are never reused. */
    public final long ownerId;
    private volatile boolean retired;

    /**
     * @param ownerId the owning platform thread's id, or -1
     */
    protected ThreadOwned(long ownerId) {
        this.ownerId = ownerId;
    }

    /** Marks the state as one whose owner has ended: its slot in the thread table may be taken. */
    public final void retire() {
        retired = true;
    }

    /** @return whether {@link #retire()} has been called */
    public final boolean isRetired() {
        return retired;
    }
}
