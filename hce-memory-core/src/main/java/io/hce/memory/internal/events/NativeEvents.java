package io.hce.memory.internal.events;

import io.hce.memory.internal.platform.DataSizes;
import jdk.jfr.EventType;

/**
 * The one door to the JDK Flight Recorder: every slow path that may emit an event calls here, and every method
 * first reads its event type's enabled flag, so that nothing is allocated or computed while no recording asks
 * for the event.
 *
 * <h2>Allocation samples</h2>
 * Each thread counts down the bytes it takes from the C allocator through the caches, pools and heaps; when
 * the count reaches zero the allocation that crossed it is sampled, with the bytes since the previous sample
 * as its weight, and the count starts again at the interval ({@value #SAMPLE_INTERVAL_PROPERTY}, default
 * {@value #DEFAULT_SAMPLE_INTERVAL} bytes; {@code 1} samples every allocation). Summing the weights by stack
 * estimates which code takes how much native memory, as {@code jdk.ObjectAllocationSample} does for the Java
 * heap. The count is kept only while the event is enabled.
 */
public final class NativeEvents {

    /** The system property that sets the allocation sample interval, in bytes (a data size such as {@code 1MB}). */
    public static final String SAMPLE_INTERVAL_PROPERTY = "hce.memory.jfr.sample-interval";
    /** The default allocation sample interval in bytes. */
    public static final long DEFAULT_SAMPLE_INTERVAL = 512 * 1024;

    private static final EventType SAMPLE = EventType.getEventType(NativeAllocationSampleEvent.class);
    private static final EventType EVICTION = EventType.getEventType(HeapEvictionEvent.class);
    private static final EventType FAILURE = EventType.getEventType(HeapAllocationFailureEvent.class);
    private static final EventType POOL_MISS = EventType.getEventType(PoolMissEvent.class);
    private static final EventType RETIRED = EventType.getEventType(ThreadCacheRetiredEvent.class);
    private static final EventType TRIMMED = EventType.getEventType(ThreadCacheTrimmedEvent.class);

    private static final long SAMPLE_INTERVAL = sampleInterval(System.getProperty(SAMPLE_INTERVAL_PROPERTY));

    /** Per thread: {bytes left before the next sample, bytes since the previous one}. */
    private static final ThreadLocal<long[]> SAMPLE_COUNTDOWN = ThreadLocal.withInitial(() -> new long[]{SAMPLE_INTERVAL, 0});

    private NativeEvents() {
    }

    /** @return the interval a property value gives, or the default for {@code null} */
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
        if (!SAMPLE.isEnabled()) {
            return;
        }
        long[] countdown = SAMPLE_COUNTDOWN.get();
        countdown[0] -= bytes;
        countdown[1] += bytes;
        if (countdown[0] > 0) {
            return;
        }
        NativeAllocationSampleEvent event = new NativeAllocationSampleEvent();
        event.tier = tier;
        event.allocator = allocator;
        event.size = bytes;
        event.weight = countdown[1];
        event.commit();
        countdown[0] = SAMPLE_INTERVAL;
        countdown[1] = 0;
    }

    /** @return a recording of one heap request's evictions, begun now, or {@code null} when nobody records them */
    public static EvictionRecording beginEvictions() {
        return EVICTION.isEnabled() ? new EvictionRecording() : null;
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
        if (FAILURE.isEnabled()) {
            HeapAllocationFailureEvent event = new HeapAllocationFailureEvent();
            event.heap = heap;
            event.requested = requested;
            event.reason = reason;
            event.commit();
        }
    }

    /** A pool allocation called {@code malloc}. */
    public static void poolMissed(String pool, long blockSize) {
        if (POOL_MISS.isEnabled()) {
            PoolMissEvent event = new PoolMissEvent();
            event.pool = pool;
            event.blockSize = blockSize;
            event.commit();
        }
        tookNativeMemory("pool", pool, blockSize);
    }

    /** The cache of an ended thread was freed. */
    public static void threadCacheRetired(String allocator, long ownerThreadId, long bytes) {
        if (RETIRED.isEnabled()) {
            ThreadCacheRetiredEvent event = new ThreadCacheRetiredEvent();
            event.allocator = allocator;
            event.ownerThreadId = ownerThreadId;
            event.bytes = bytes;
            event.commit();
        }
    }

    /** A trim freed {@code bytes}. */
    public static void threadCacheTrimmed(String allocator, long bytes) {
        if (TRIMMED.isEnabled()) {
            ThreadCacheTrimmedEvent event = new ThreadCacheTrimmedEvent();
            event.allocator = allocator;
            event.bytes = bytes;
            event.commit();
        }
    }
}
