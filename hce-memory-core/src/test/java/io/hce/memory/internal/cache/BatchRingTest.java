package io.hce.memory.internal.cache;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchRingTest {

    @Test
    void isFirstInFirstOutAndBounded() {
        BatchRing ring = new BatchRing(4);
        assertNull(ring.poll());
        long[][] batches = new long[6][];
        for (int lap = 0; lap < 3; lap++) {
            for (int i = 0; i < 4; i++) {
                batches[i] = new long[]{lap, i};
                assertTrue(ring.offer(batches[i]));
            }
            assertEquals(4, ring.size());
            assertEquals(false, ring.offer(new long[1]));
            for (int i = 0; i < 4; i++) {
                assertSame(batches[i], ring.poll());
            }
            assertNull(ring.poll());
            assertEquals(0, ring.size());
        }
    }

    @Test
    void capacityMustBeAPowerOfTwo() {
        assertThrows(IllegalArgumentException.class, () -> new BatchRing(3));
        assertThrows(IllegalArgumentException.class, () -> new BatchRing(1));
    }

    /** Four producers and four consumers: every batch offered is polled exactly once. */
    @Test
    void everyBatchIsTakenExactlyOnceUnderContention() throws InterruptedException {
        BatchRing ring = new BatchRing(8);
        int perProducer = 200_000;
        int producers = 4;
        ConcurrentHashMap<Long, Boolean> seen = new ConcurrentHashMap<>();
        AtomicInteger taken = new AtomicInteger();
        AtomicInteger duplicates = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            long base = (long) p << 32;
            threads.add(Thread.ofPlatform().start(() -> {
                await(start);
                for (int i = 0; i < perProducer; i++) {
                    long[] batch = {base + i};
                    while (!ring.offer(batch)) {
                        Thread.onSpinWait();
                    }
                }
            }));
        }
        int total = producers * perProducer;
        for (int c = 0; c < 4; c++) {
            threads.add(Thread.ofPlatform().start(() -> {
                await(start);
                while (taken.get() < total) {
                    long[] batch = ring.poll();
                    if (batch != null) {
                        if (seen.putIfAbsent(batch[0], Boolean.TRUE) != null) {
                            duplicates.incrementAndGet();
                        }
                        taken.incrementAndGet();
                    }
                }
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(0, duplicates.get());
        assertEquals(total, seen.size());
        assertNull(ring.poll());
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
