package io.hce.memory.internal.concurrent;

import java.lang.ref.Cleaner;

/**
 * State that belongs to one platform thread and is found through a {@link ThreadTable}: a thread cache,
 * a pool's magazine. One thread at a time writes it, with plain stores: its owner, then the end action
 * (rule 2 of the package documentation).
 */
public abstract class ThreadOwned {

    /**
     * The id of the platform thread that owns this state, or -1 for none. Thread ids are never reused. Final,
     * so that a racy read of the table sees it (rule 3).
     */
    public final long ownerId;
    private volatile boolean retired; // rule 4: written once by the end action, read by threads wanting the slot
    private volatile Cleaner.Cleanable onThreadEnd; // rule 5: set once by the owner, taken by endNow()

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

    final void watchedBy(Cleaner.Cleanable cleanable) {
        onThreadEnd = cleanable;
    }

    /**
     * Runs the table's end action now instead of when the owning thread ends, and stops watching the
     * thread: for an owner that goes away first, so that the watch no longer keeps it in memory. Only when
     * the owning thread cannot be using the state (it has ended, or the state's owner is unreachable). Safe
     * to race the {@code Cleaner} or another call: the action runs once (rule 5).
     */
    public final void endNow() {
        Cleaner.Cleanable cleanable = onThreadEnd;
        if (cleanable != null) {
            onThreadEnd = null; // the thread's ThreadLocal map may keep this state: it must not keep the action
            cleanable.clean();
        }
    }
}
