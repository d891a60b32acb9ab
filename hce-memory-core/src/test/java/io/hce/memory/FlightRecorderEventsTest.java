package io.hce.memory;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code io.hce.memory.*} JFR events, read back from a recording: each is emitted where it should be,
 * with its fields and the caller's stack. The sample interval is the default, 512 KB.
 */
class FlightRecorderEventsTest {

    private static final long INTERVAL = 512 * 1024;

    @TempDir
    Path directory;

    private Recording recording;

    @BeforeEach
    void startRecording() {
        recording = new Recording();
        for (String event : List.of("NativeAllocationSample", "HeapEviction", "HeapAllocationFailure", "PoolMiss",
                "ThreadCacheRetired", "ThreadCacheTrimmed")) {
            recording.enable("io.hce.memory." + event).withStackTrace().withThreshold(Duration.ZERO);
        }
        recording.start();
    }

    @AfterEach
    void stopRecording() {
        recording.close();
    }

    @Test
    void everyDirectAllocationLargerThanTheIntervalIsSampledWithItsStack() throws IOException {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults());
        List<MemorySegment> blocks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            blocks.add(allocateOneMebibyte(allocator));
        }
        blocks.forEach(allocator::deallocate);

        List<RecordedEvent> samples = events("io.hce.memory.NativeAllocationSample",
                e -> "direct".equals(e.getString("tier")));
        assertThat(samples).hasSize(3).allSatisfy(sample -> {
            assertThat(sample.getLong("size")).isEqualTo(1 << 20);
            assertThat(sample.getString("allocator")).isEqualTo(allocator.toString());
            assertThat(sample.getLong("weight")).isEqualTo(1 << 20); // it reached two sample points
            assertThat(frames(sample)).contains("allocateOneMebibyte");
        });
    }

    @Test
    void cacheMissesAreSampledAboutOncePerIntervalAndTheWeightsAddUpToTheBytesTaken() throws IOException {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults());
        long[] addresses = new long[20_000]; // 20,000 x 64 B = 1.25 MB of misses: more than any cache holds
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = allocator.allocateAddress(64);
        }
        for (long address : addresses) {
            allocator.deallocateAddress(address, 64);
        }

        List<RecordedEvent> samples = events("io.hce.memory.NativeAllocationSample",
                e -> "cache".equals(e.getString("tier")) && allocator.toString().equals(e.getString("allocator")));
        long taken = allocator.statistics().misses() * 64;
        // Where the thread's next sample point is (drawn at random, carried from earlier tests) decides one sample
        // more or less; each small allocation that reaches a point stands for one interval.
        assertThat(samples.size()).isBetween((int) (taken / INTERVAL), (int) (taken / INTERVAL) + 1);
        assertThat(samples).allSatisfy(sample -> assertThat(sample.getLong("weight")).isEqualTo(INTERVAL));
        assertThat(samples).allSatisfy(sample -> assertThat(sample.getLong("size")).isEqualTo(64));
    }

    @Test
    void everyPoolMissIsAnEventWithTheCallersStack() throws IOException {
        try (PoolAllocator pool = PoolAllocator.create("jfr-pool", MemoryLayout.sequenceLayout(6, ValueLayout.JAVA_LONG).withByteAlignment(16), 8)) {
            MemorySegment a = pool.allocate();
            MemorySegment b = pool.allocate();
            pool.deallocate(a);
            pool.deallocate(b);
            pool.deallocate(pool.allocate()); // a hit: no event

            List<RecordedEvent> misses = events("io.hce.memory.PoolMiss", e -> "jfr-pool".equals(e.getString("pool")));
            assertThat(misses).hasSize(2).allSatisfy(miss -> {
                assertThat(miss.getLong("blockSize")).isEqualTo(48);
                assertThat(frames(miss)).contains("everyPoolMissIsAnEventWithTheCallersStack");
            });
        }
    }

    @Test
    void aHeapsRegionIsSampledAndItsFailuresAndEvictionsAreEvents() throws IOException {
        try (FixedHeap heap = FixedHeap.create("jfr-heap", 1 << 20)) {
            List<MemorySegment> blocks = new ArrayList<>();
            for (MemorySegment block; !(block = heap.tryAllocate(1000)).equals(MemorySegment.NULL); ) {
                blocks.add(block);
            }
            heap.tryAllocateAddress(4000); // fails: an event
            List<MemorySegment> victims = new ArrayList<>();
            heap.allocateOrEvict(4000, victims::add); // evicts about five blocks: one event

            List<RecordedEvent> regions = events("io.hce.memory.NativeAllocationSample",
                    e -> "heap".equals(e.getString("tier")) && "jfr-heap".equals(e.getString("allocator")));
            assertThat(regions).singleElement().satisfies(region ->
                    assertThat(region.getLong("size")).isGreaterThanOrEqualTo(1 << 20));
            List<RecordedEvent> failures = events("io.hce.memory.HeapAllocationFailure",
                    e -> "jfr-heap".equals(e.getString("heap")));
            assertThat(failures).hasSize(2); // the loop's last tryAllocate, and the tryAllocateAddress
            assertThat(failures.getLast().getLong("requested")).isEqualTo(4000);
            assertThat(failures.getLast().getString("reason")).isEqualTo("no free block");
            List<RecordedEvent> evictions = events("io.hce.memory.HeapEviction", e -> "jfr-heap".equals(e.getString("heap")));
            assertThat(evictions).singleElement().satisfies(eviction -> {
                assertThat(eviction.getLong("requested")).isEqualTo(4000);
                assertThat(eviction.getLong("blocks")).isEqualTo(victims.size());
                assertThat(eviction.getLong("bytes")).isEqualTo(victims.stream().mapToLong(MemorySegment::byteSize).sum());
                assertThat(eviction.getDuration()).isPositive();
                assertThat(frames(eviction)).contains("aHeapsRegionIsSampledAndItsFailuresAndEvictionsAreEvents");
            });
        }
    }

    @Test
    void aShortLivedThreadIsSampledInProportionToWhatItTakes() throws Exception {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults());
        int threads = 400; // each takes a sixteenth of the interval: about 25 of them reach their first sample point
        for (int t = 0; t < threads; t++) {
            Thread.ofVirtual().start(() -> allocator.deallocateAddress(allocator.allocateAddress(INTERVAL / 16), INTERVAL / 16)).join();
        }
        long sampled = events("io.hce.memory.NativeAllocationSample",
                e -> "direct".equals(e.getString("tier")) && e.getLong("size") == INTERVAL / 16).size();
        // A first sample point at the start of every thread's interval would sample none of them
        assertThat(sampled).as("samples of %d threads that each took a sixteenth of the interval", threads).isBetween(5L, 60L);
    }

    @Test
    void aTrimAndARetiredCacheSayHowManyBytesWentBack() throws Exception {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults());
        allocator.deallocate(allocator.allocate(256));
        allocator.deallocate(allocator.allocate(1024));
        allocator.trim();
        assertThat(events("io.hce.memory.ThreadCacheTrimmed", e -> allocator.toString().equals(e.getString("allocator"))))
                .singleElement().satisfies(trim -> assertThat(trim.getLong("bytes")).isEqualTo(256 + 1024));

        AtomicReference<Long> ownerId = new AtomicReference<>();
        Thread owner = Thread.ofPlatform().start(() -> {
            ownerId.set(Thread.currentThread().threadId());
            allocator.deallocate(allocator.allocate(512));
        });
        owner.join();
        owner = null; // the cache is retired once its thread is collected
        Eventually.awaitAfterGc(Duration.ofSeconds(20), () -> !retired(allocator, ownerId.get()).isEmpty(),
                () -> "no ThreadCacheRetired event for thread " + ownerId.get());
        assertThat(retired(allocator, ownerId.get())).singleElement().satisfies(retired ->
                assertThat(retired.getLong("bytes")).isEqualTo(512));
    }

    private List<RecordedEvent> retired(CachingAllocator allocator, long ownerId) {
        try {
            return events("io.hce.memory.ThreadCacheRetired", e -> allocator.toString().equals(e.getString("allocator"))
                    && e.getLong("ownerThreadId") == ownerId);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static MemorySegment allocateOneMebibyte(CachingAllocator allocator) {
        return allocator.allocate(1 << 20);
    }

    /** The recording so far: dumped and read back. */
    private List<RecordedEvent> events(String name, Predicate<RecordedEvent> filter) throws IOException {
        Path file = directory.resolve("recording-" + System.nanoTime() + ".jfr");
        recording.dump(file);
        return RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals(name))
                .filter(filter)
                .toList();
    }

    private static List<String> frames(RecordedEvent event) {
        return event.getStackTrace().getFrames().stream().map(RecordedFrame::getMethod).map(m -> m.getName()).toList();
    }
}
