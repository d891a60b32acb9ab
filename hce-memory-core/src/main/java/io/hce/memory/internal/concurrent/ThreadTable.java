package io.hce.memory.internal.concurrent;

import io.hce.memory.internal.platform.Reclaimer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * Finds the calling platform thread's {@link ThreadOwned} state, faster than a {@link ThreadLocal}.
 *
 * <h2>Design</h2>
 * A table indexed by the low bits of the thread's id: one plain load and one compare of the entry's final
 * owner id. Thread ids are never reused, and an entry whose owner id is the caller's was made by the
 * caller, so the racy read is safe: a stale or foreign entry fails the compare (rule 3 of the package
 * documentation). A thread whose slot another live thread holds falls back to a {@code ThreadLocal}; slots
 * change by CAS only so that threads keep their fast path (rule 4). Virtual threads get no entry ({@link #get()}
 * returns {@code null}): a million of them must not make a million entries.
 *
 * <p>An entry is made on a thread's first call, and a {@code Cleaner} watches the thread: once it has
 * ended and been collected, the entry is passed to the end action, retired, and its slot is freed. The end action
 * runs once, on the cleaner's thread or on the thread that calls {@link ThreadOwned#endNow()}, and takes
 * over the state from its owner (rules 2 and 5). It may reach the table's engine (its books) but not the object whose
 * reachability ends the engine, or that object could never become unreachable; when it does, the engine
 * calls {@link ThreadOwned#endNow()} on every entry, so the watches of live threads let the engine go too.
 *
 * @param <T> the per-thread state
 */
public class ThreadTable<T extends ThreadOwned> {

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(ThreadOwned[].class);
    private static final int SIZE = 256;

    private final ThreadOwned[] byThread = new ThreadOwned[SIZE];
    private final ThreadLocal<T> local = new ThreadLocal<>();
    private final LongFunction<T> factory;
    private final Consumer<T> onThreadEnd;

    /**
     * @param factory     makes the state of the platform thread whose id it is given, on that thread
     * @param onThreadEnd takes the state of a thread that has ended, on the cleaner's thread
     */
    public ThreadTable(LongFunction<T> factory, Consumer<T> onThreadEnd) {
        this.factory = factory;
        this.onThreadEnd = onThreadEnd;
    }

    /**
     * @return the calling platform thread's state, made on its first call; {@code null} for a virtual thread
     */
    @SuppressWarnings("unchecked")
    public final T get() {
        Thread thread = Thread.currentThread();
        long id = thread.threadId();
        ThreadOwned entry = byThread[(int) id & (SIZE - 1)]; // racy: rule 3
        if (entry != null && entry.ownerId == id) {
            return (T) entry;
        }
        return thread.isVirtual() ? null : platformEntry(thread);
    }

    /** @return the calling thread's state if it has made one, without making it */
    public final T peek() {
        return local.get();
    }

    /** The calling platform thread's state when the table does not have it: the slow path. */
    private T platformEntry(Thread thread) {
        T entry = local.get();
        if (entry == null) {
            entry = factory.apply(thread.threadId());
            local.set(entry);
            int slot = (int) thread.threadId() & (SIZE - 1);
            ThreadOwned previous = byThread[slot]; // racy, as in get(): the CAS decides (rule 4)
            if (previous == null || previous.isRetired()) {
                SLOT.compareAndSet(byThread, slot, previous, entry); // lost the race: the ThreadLocal serves
            }
            ThreadOwned[] table = byThread;
            Consumer<T> onEnd = onThreadEnd;
            T ended = entry;
            entry.watchedBy(Reclaimer.CLEANER.register(thread, () -> {
                onEnd.accept(ended);
                ended.retire();
                SLOT.compareAndSet(table, slot, ended, null); // only its own entry: rule 4
            }));
        }
        return entry;
    }
}
