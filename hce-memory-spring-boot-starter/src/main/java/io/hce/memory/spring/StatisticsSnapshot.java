package io.hce.memory.spring;

import io.micrometer.core.instrument.Clock;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * One allocator's statistics as the meters of one scrape see them: read on the first meter's request and
 * shared by the others until it is {@link #MAX_AGE} old. A scrape reads every meter within milliseconds and
 * scrapes are seconds apart, so each scrape reads each allocator's statistics once (a cache's statistics walk
 * every live thread's cache under a lock; a heap's flush its quick lists), and all its meters agree.
 *
 * @param <T> the statistics record
 */
final class StatisticsSnapshot<T> {

    /** Longer than a scrape takes, shorter than the shortest sensible scrape interval. */
    static final Duration MAX_AGE = Duration.ofMillis(500);

    private final Supplier<T> statistics;
    private final Clock clock;
    private T value; // guarded by this
    private long readAt; // guarded by this

    StatisticsSnapshot(Supplier<T> statistics, Clock clock) {
        this.statistics = statistics;
        this.clock = clock;
    }

    /** @return the statistics, read now if the last reading is {@link #MAX_AGE} old */
    synchronized T get() {
        long now = clock.monotonicTime();
        if (value == null || now - readAt >= MAX_AGE.toNanos()) {
            value = statistics.get();
            readAt = now;
        }
        return value;
    }
}
