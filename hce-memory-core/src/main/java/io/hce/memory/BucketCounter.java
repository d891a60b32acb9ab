package io.hce.memory;

import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The counters every bucket of a {@link CachingAllocator} keeps, described once: the component of
 * {@link BucketStatistics} that reports each, and the meter the Spring Boot starter publishes it as. The
 * summing of the thread caches' counters, the starter's meters and the test of the README's meter table all
 * go through these constants, so a counter cannot be summed, published or documented in one place and
 * forgotten in another.
 *
 * <p>Meters follow Micrometer's conventions: each is tagged {@code bucket} (the block size in bytes) and
 * with {@link #meterTags()}; counters that share a meter name (hits and misses) share its description.
 */
public enum BucketCounter {

    /** {@link BucketStatistics#hits()}: allocations served from a cache, without calling {@code malloc}. */
    HITS("hits", BucketStatistics::hits, true, null, Meters.ALLOCATIONS, Map.of("result", "hit"), Meters.ALLOCATIONS_TEXT),

    /** {@link BucketStatistics#misses()}: allocations that called {@code malloc}. */
    MISSES("misses", BucketStatistics::misses, true, null, Meters.ALLOCATIONS, Map.of("result", "miss"), Meters.ALLOCATIONS_TEXT),

    /** {@link BucketStatistics#frees()}: deallocations that called {@code free()} because the caches were full. */
    FREES("frees", BucketStatistics::frees, true, null, "hce.memory.cache.frees", Map.of(),
            "Deallocations that called free() because the caches were full"),

    /** {@link BucketStatistics#cachedBytes()}: bytes held in caches now, thread caches and depot. */
    CACHED_BYTES("cachedBytes", BucketStatistics::cachedBytes, false, "bytes", "hce.memory.cache.cached", Map.of(),
            "Bytes held in the caches");

    /** Shared by the counters that are one meter with different tags. */
    private static final class Meters {
        static final String ALLOCATIONS = "hce.memory.cache.allocations";
        static final String ALLOCATIONS_TEXT = "Allocations, served by a cache (hit) or by malloc (miss)";
    }

    private final String component;
    private final ToLongFunction<BucketStatistics> reader;
    private final boolean cumulative;
    private final String unit;
    private final String meterName;
    private final Map<String, String> meterTags;
    private final String meterDescription;

    BucketCounter(String component, ToLongFunction<BucketStatistics> reader, boolean cumulative, String unit,
                  String meterName, Map<String, String> meterTags, String meterDescription) {
        this.component = component;
        this.reader = reader;
        this.cumulative = cumulative;
        this.unit = unit;
        this.meterName = meterName;
        this.meterTags = meterTags;
        this.meterDescription = meterDescription;
    }

    /** @return the name of the {@link BucketStatistics} component that reports this counter, e.g. {@code hits} */
    public String component() {
        return component;
    }

    /**
     * @param statistics one bucket's statistics
     * @return this counter's value in them
     */
    public long of(BucketStatistics statistics) {
        return reader.applyAsLong(statistics);
    }

    /**
     * @return whether the value only grows, counting events since the allocator was made (a function counter),
     *         rather than being a level now (a gauge)
     */
    public boolean isCumulative() {
        return cumulative;
    }

    /** @return the value's unit as a meter's base unit, e.g. {@code bytes}; {@code null} for a count of events */
    public String unit() {
        return unit;
    }

    /** @return the name of the meter that publishes this counter, e.g. {@code hce.memory.cache.allocations} */
    public String meterName() {
        return meterName;
    }

    /** @return the meter's tags besides {@code bucket}, e.g. {@code result=hit}; empty when there are none */
    public Map<String, String> meterTags() {
        return meterTags;
    }

    /** @return the meter's description, the same for every counter of one meter name */
    public String meterDescription() {
        return meterDescription;
    }
}
