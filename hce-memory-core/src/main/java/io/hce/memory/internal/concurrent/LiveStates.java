package io.hce.memory.internal.concurrent;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The live thread-owned states of one engine (a caching allocator's thread caches, a pool's magazines): each is
 * added when its thread first uses the engine and removed once, when it is retired, so that the engine can
 * count what they hold and free it when it is dropped.
 *
 * <p>Not thread-safe: the engine guards it with its own lock, the one its retire runs under, so that a reader
 * of the engine's books sees a state either here or in the totals of retired ones, never in both or neither.
 *
 * @param <T> the state
 */
public final class LiveStates<T extends ThreadOwned> implements Iterable<T> {

    private final Set<T> live = Collections.newSetFromMap(new IdentityHashMap<>());

    /** @param state a state just made for its thread */
    public void add(T state) {
        live.add(state);
    }

    /**
     * @param state a state being retired
     * @return whether it was live: false if it was removed already (a retire runs once)
     */
    public boolean remove(T state) {
        return live.remove(state);
    }

    /** @return how many are live */
    public int size() {
        return live.size();
    }

    /**
     * The engine is dropped: ends every state now, as its thread's end would ({@link ThreadOwned#endNow}), each
     * retire removing it. Call under the engine's lock; the retires take it again (it is reentrant).
     *
     * @return the states that were left: those whose thread's watch was not set yet, which the caller retires itself
     */
    public List<T> endAll() {
        for (T state : List.copyOf(live)) {
            state.endNow();
        }
        return List.copyOf(live);
    }

    @Override
    public Iterator<T> iterator() {
        return Collections.unmodifiableSet(live).iterator();
    }
}
