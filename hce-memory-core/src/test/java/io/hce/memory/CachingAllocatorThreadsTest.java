package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What threads coming, going, and handing blocks to each other do to the caches. */
class CachingAllocatorThreadsTest {

    @Test
    void whatEndedPlatformThreadsCachedGoesBackToTheSystem() throws InterruptedException {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults());
        int threads = 1_000;
        int blocksPerThread = 40;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int batch = 0; batch < threads; batch += 50) {
            List<Thread> started = new ArrayList<>();
            for (int t = 0; t < 50; t++) {
                int seed = batch + t;
                started.add(Thread.ofPlatform().start(() -> {
                    try {
                        List<MemorySegment> held = new ArrayList<>();
                        for (int i = 0; i < blocksPerThread; i++) {
                            held.add(allocator.allocate(1 + (seed * 131 + i * 977) % 6000)); // some direct
                        }
                        held.forEach(allocator::deallocate);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread thread : started) {
                thread.join();
            }
        }
        assertNull(failure.get());
        // Every thread cache is retired once its thread is collected: then only the depot can hold memory,
        // and the counters of the ended threads are still in the totals.
        Eventually.awaitAfterGc(Duration.ofSeconds(60), () -> {
            CacheStatistics s = allocator.statistics();
            return s.reservedBytes() == s.cachedBytes() && s.cachedBytes() <= allocator.maxCachedBytes(0);
        }, () -> allocator.statistics().toString());
        CacheStatistics statistics = allocator.statistics();
        assertEquals((long) threads * blocksPerThread, statistics.hits() + statistics.misses()
                + statistics.directAllocations());
        assertEquals(statistics.directAllocations(), statistics.directFrees());
    }

    @Test
    void virtualThreadsShareAFewCachesInsteadOfOneEach() throws InterruptedException {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults());
        int threads = 100_000;
        int blocksPerThread = 16;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < threads; t++) {
                executor.execute(() -> {
                    try {
                        MemorySegment[] held = new MemorySegment[blocksPerThread];
                        for (int i = 0; i < blocksPerThread; i++) {
                            held[i] = allocator.allocate(256);
                            held[i].fill((byte) i);
                        }
                        for (MemorySegment segment : held) {
                            allocator.deallocate(segment);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
            }
        }
        assertNull(failure.get());
        CacheStatistics statistics = allocator.statistics();
        // A cache per virtual thread would hold 100,000 x 16 x 256 B = 390 MiB here. Shared stripes hold at
        // most the stripes' and depots' limits, with no platform thread of its own: a few MiB.
        long bound = allocator.maxCachedBytes(0);
        assertTrue(bound < 16 << 20, "bound " + bound);
        assertTrue(statistics.cachedBytes() <= bound, statistics.cachedBytes() + " > " + bound);
        assertEquals(statistics.cachedBytes(), statistics.reservedBytes());
        long allocations = (long) threads * blocksPerThread;
        assertEquals(allocations, statistics.hits() + statistics.misses());
        assertTrue(statistics.misses() < allocations / 100, "misses " + statistics.misses() + " of " + allocations);
        // The figure the README quotes for virtual threads.
        System.out.printf("virtual threads: %,d allocations of 256 B on %,d virtual threads, %.2f%% hits (%,d misses),"
                        + " %,d B cached at the end (bound %,d B)%n", allocations, threads,
                100.0 * statistics.hits() / allocations, statistics.misses(), statistics.cachedBytes(), bound);
    }

    /**
     * One thread allocates 64 B blocks and hands them over a bounded queue to another, which frees them
     * (mimalloc-bench's xmalloc shape). Without the depot every allocation would miss: the producer's cache
     * never gets a block back. With it, the blocks in circulation are bounded by the queue (1,024), the two
     * caches (1,024 each) and the depot (2,048), so after warm-up at most a few thousand of 900,000
     * allocations can miss: the test allows 1%.
     */
    @Test
    void blocksFreedByAConsumerComeBackToTheProducerWithoutMalloc() throws InterruptedException {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults());
        int blocks = 1_000_000;
        int warmUp = 100_000;
        BlockingQueue<MemorySegment> queue = new ArrayBlockingQueue<>(1024);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<BucketStatistics> afterWarmUp = new AtomicReference<>();
        Thread consumer = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; i < blocks; i++) {
                    MemorySegment segment = queue.take();
                    if (segment.get(java.lang.foreign.ValueLayout.JAVA_INT, 0) != i) {
                        throw new AssertionError("block " + i + " holds " + segment.get(java.lang.foreign.ValueLayout.JAVA_INT, 0));
                    }
                    allocator.deallocate(segment);
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        });
        for (int i = 0; i < blocks && failure.get() == null; i++) {
            if (i == warmUp) {
                afterWarmUp.set(allocator.statistics().buckets().get(6));
            }
            MemorySegment segment = allocator.allocate(64);
            segment.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, i);
            queue.put(segment);
        }
        consumer.join();
        assertNull(failure.get());
        BucketStatistics end = allocator.statistics().buckets().get(6);
        long measured = blocks - warmUp;
        long misses = end.misses() - afterWarmUp.get().misses();
        System.out.printf("producer/consumer: %d misses, %d frees in %d allocations after warm-up%n",
                misses, end.frees() - afterWarmUp.get().frees(), measured);
        assertTrue(misses <= measured / 100, "misses after warm-up: " + misses + " of " + measured);
        assertEquals(blocks, end.hits() + end.misses());
    }
}
