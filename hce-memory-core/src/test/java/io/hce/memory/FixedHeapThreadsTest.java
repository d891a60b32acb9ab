package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * One heap shared by threads that allocate, touch and free each other's blocks. (Eviction is left out:
 * it may pick a block another thread is about to free, which only the application's own locking can
 * order; FixedHeapRandomizedTest covers it on one thread.)
 */
class FixedHeapThreadsTest {

    @Test
    void threadsSharingAHeapKeepItConsistent() throws InterruptedException {
        int threads = 4;
        int operations = 50_000;
        try (FixedHeap heap = FixedHeap.create("shared", 1 << 20)) {
            BlockingQueue<MemorySegment> handOver = new ArrayBlockingQueue<>(10_000);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> started = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long threadSeed = t;
                started.add(Thread.ofPlatform().start(() -> {
                    SplittableRandom random = new SplittableRandom(threadSeed);
                    try {
                        for (int i = 0; i < operations; i++) {
                            MemorySegment block = heap.tryAllocate(1 + random.nextInt(2000));
                            if (block.equals(MemorySegment.NULL)) {
                                block = handOver.take(); // the heap is full: free someone's block instead
                                heap.free(block);
                                continue;
                            }
                            block.set(ValueLayout.JAVA_BYTE, 0, (byte) i);
                            if (!handOver.offer(block)) {
                                heap.free(block);
                            }
                            MemorySegment other = handOver.poll(); // most likely another thread's block
                            if (other != null) {
                                if (random.nextBoolean()) {
                                    heap.touch(other);
                                    handOver.offer(other);
                                } else {
                                    heap.free(other);
                                }
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread thread : started) {
                thread.join();
            }
            assertNull(failure.get());
            heap.verify();
            HeapStatistics statistics = heap.statistics();
            long live = statistics.allocations() - statistics.frees() - statistics.evictions();
            assertEquals(handOver.size(), live);
            for (MemorySegment block; (block = handOver.poll()) != null; ) {
                heap.free(block);
            }
            heap.verify();
            assertEquals(0, heap.statistics().usedBytes());
        }
    }
}
