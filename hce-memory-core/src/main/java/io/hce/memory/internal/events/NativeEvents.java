package io.hce.memory.internal.events;

import io.hce.memory.internal.platform.DataSizes;
import jdk.jfr.EventType;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The one door to the JDK Flight Recorder: every slow path that may emit an event calls here, and every method
 * first reads its event type's enabled flag, so that nothing is allocated or computed while no recording asks
 * for the event. Nothing here can fail an allocation: on a VM without Flight Recorder the events are off, and a
 * bad sample interval falls back to the default with a warning.
 *
 * <h2>Allocation samples</h2>
 * Each thread counts down the bytes it takes from the C allocator through the caches, pools and heaps, as
 * tcmalloc samples: a sample point every {@value #SAMPLE_INTERVAL_PROPERTY} bytes (default
 * {@value #DEFAULT_SAMPLE_INTERVAL}; {@code 1} samples every allocation), the first at a random point of the
 * thread's first interval. An allocation that reaches one or more points is sampled once, with a weight of the
 * interval times the points it reached. So every byte is sampled with the same chance, whatever its thread's
 * life (a virtual thread per request that takes a few kilobytes is sampled in proportion), and summing the
 * weights by stack estimates which code takes how much native memory, as {@code jdk.ObjectAllocationSample}
 * does for the Java heap. The count is kept only while the event is enabled.
 */
public final class NativeEvents {

    /** The system property that sets the allocation sample interval, in bytes (a data size such as {@code 1MB}). */
    public static final String SAMPLE_INTERVAL_PROPERTY = "hce.memory.jfr.sample-interval";
    /** The default allocation sample interval in bytes. */
    public static final long DEFAULT_SAMPLE_INTERVAL = 512 * 1024;

    private static final EventType SAMPLE = typeOf(NativeAllocationSampleEvent.class);
    private static final EventType EVICTION = typeOf(HeapEvictionEvent.class);
    private static final EventType FAILURE = typeOf(HeapAllocationFailureEvent.class);
    private static final EventType POOL_MISS = typeOf(PoolMissEvent.class);
    private static final EventType RETIRED = typeOf(ThreadCacheRetiredEvent.class);
    private static final EventType TRIMMED = typeOf(ThreadCacheTrimmedEvent.class);

    private static final long SAMPLE_INTERVAL = sampleIntervalOrDefault(System.getProperty(SAMPLE_INTERVAL_PROPERTY));

    /** Per thread: the bytes left before the next sample point, the first drawn at random. */
    private static final ThreadLocal<long[]> SAMPLE_COUNTDOWN = ThreadLocal.withInitial(
            () -> new long[]{1 + ThreadLocalRandom.current().nextLong(SAMPLE_INTERVAL)});

    private NativeEvents() {
    }

    /** @return the event's type, or {@code null} on a VM without Flight Recorder: its events are off */
    private static EventType typeOf(Class<? extends jdk.jfr.Event> event) {
        try {
            return EventType.getEventType(event);
        } catch (RuntimeException | Error e) { // InternalError: "Flight Recorder is not supported on this VM"
            return null;
        }
    }

    private static boolean enabled(EventType type) {
        return type != null && type.isEnabled();
    }

    private static long sampleIntervalOrDefault(String value) {
        try {
            return sampleInterval(value);
        } catch (IllegalArgumentException e) {
            System.getLogger("io.hce.memory").log(System.Logger.Level.WARNING, e.getMessage()
                    + "; sampling every " + DEFAULT_SAMPLE_INTERVAL + " bytes instead");
            return DEFAULT_SAMPLE_INTERVAL;
        }
    }

    /**
     * @return the interval a property value gives, or the default for {@code null}
     * @throws IllegalArgumentException if it is not a data size of at least 1 byte
     */
    static long sampleInterval(String value) {
        if (value == null) {
            return DEFAULT_SAMPLE_INTERVAL;
        }
        long interval;
        try {
            interval = DataSizes.parse(value);
        } catch (IllegalArgumentException e) {
            interval = -1;
        }
        if (interval < 1) {
            throw new IllegalArgumentException("Invalid system property " + SAMPLE_INTERVAL_PROPERTY + "=" + value
                    + ": a data size of at least 1 byte, such as 512KB or 1MB");
        }
        return interval;
    }

    /**
     * Memory was taken from the C allocator.
     *
     * @param tier      {@code cache}, {@code direct}, {@code pool} or {@code heap}
     * @param allocator the allocator's name
     * @param bytes     the bytes taken
     */
    public static void tookNativeMemory(String tier, String allocator, long bytes) {
        if (!enabled(SAMPLE)) {
            return;
        }
        long[] countdown = SAMPLE_COUNTDOWN.get();
        long left = countdown[0] - bytes;
        if (left > 0) {
            countdown[0] = left;
            return;
        }
        long points = 1 + (-left) / SAMPLE_INTERVAL; // the sample points this allocation reached
        countdown[0] = left + points * SAMPLE_INTERVAL;
        NativeAllocationSampleEvent event = new NativeAllocationSampleEvent();
        event.tier = tier;
        event.allocator = allocator;
        event.size = bytes;
        event.weight = points * SAMPLE_INTERVAL;
        event.commit();
    }

    /** @return a recording of one heap request's evictions, begun now, or {@code null} when nobody records them */
    public static EvictionRecording beginEvictions() {
        return enabled(EVICTION) ? new EvictionRecording() : null;
    }

    /** The evictions of one heap request, counted by the caller's eviction sink. */
    public static final class EvictionRecording {
        private final HeapEvictionEvent event = new HeapEvictionEvent();
        private long blocks;
        private long bytes;

        private EvictionRecording() {
            event.begin();
        }

        /** @param payload the victim's payload bytes */
        public void evicted(long payload) {
            blocks++;
            bytes += payload;
        }

        /** The request is over: commits the event if it evicted anything. */
        public void end(String heap, long requested) {
            event.end();
            if (blocks > 0 && event.shouldCommit()) {
                event.heap = heap;
                event.requested = requested;
                event.blocks = blocks;
                event.bytes = bytes;
                event.commit();
            }
        }
    }

    /**
     * @param heap      the heap's name
     * @param requested the request's size
     * @param reason    why nothing fitted
     */
    public static void heapAllocationFailed(String heap, long requested, String reason) {
        if (enabled(FAILURE)) {
            HeapAllocationFailureEvent event = new HeapAllocationFailureEvent();
            event.heap = heap;
            event.requested = requested;
            event.reason = reason;
            event.commit();
        }
    }

    /** A pool allocation called {@code malloc}. */
    public static void poolMissed(String pool, long blockSize) {
        if (enabled(POOL_MISS)) {
            PoolMissEvent event = new PoolMissEvent();
            event.pool = pool;
            event.blockSize = blockSize;
            event.commit();
        }
        tookNativeMemory("pool", pool, blockSize);
    }

    /** The cache of an ended thread was freed. */
    public static void threadCacheRetired(String allocator, long ownerThreadId, long bytes) {
        if (enabled(RETIRED)) {
            ThreadCacheRetiredEvent event = new ThreadCacheRetiredEvent();
            event.allocator = allocator;
            event.ownerThreadId = ownerThreadId;
            event.bytes = bytes;
            event.commit();
        }
    }

    /** A trim freed {@code bytes}. */
    public static void threadCacheTrimmed(String allocator, long bytes) {
        if (enabled(TRIMMED)) {
            ThreadCacheTrimmedEvent event = new ThreadCacheTrimmedEvent();
            event.allocator = allocator;
            event.bytes = bytes;
            event.commit();
        }
    }
}
