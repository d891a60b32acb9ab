package io.hce.memory.internal.platform;

import java.lang.ref.Cleaner;

/**
 * The one {@link Cleaner} of the library: it gives native memory back once its owner (an allocator, a
 * pool, a thread, a watched segment) has become unreachable. One daemon thread, named so that it is
 * recognisable in a thread dump, serves them all.
 */
public final class Reclaimer {

    /** The shared cleaner; its actions must not reference the objects they watch. */
    public static final Cleaner CLEANER = Cleaner.create(runnable -> {
        Thread thread = new Thread(runnable, "hce-memory-cleaner");
        thread.setDaemon(true);
        return thread;
    });

    private Reclaimer() {
    }
}
