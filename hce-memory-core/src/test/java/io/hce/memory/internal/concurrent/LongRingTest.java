package io.hce.memory.internal.concurrent;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LongRingTest {

    /** Any capacity is exact, powers of two or not, lap after lap. */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 4, 7, 64, 100})
    void holdsExactlyItsCapacityInFirstInFirstOutOrder(int capacity) {
        LongRing ring = new LongRing(capacity);
        for (int lap = 0; lap < 5; lap++) {
            for (int i = 0; i < capacity; i++) {
                assertTrue(ring.offer(lap * 1000L + i + 1));
            }
            assertFalse(ring.offer(-1));
            assertEquals(capacity, ring.size());
            for (int i = 0; i < capacity; i++) {
                assertEquals(lap * 1000L + i + 1, ring.poll(0));
            }
            assertEquals(0, ring.poll(0));
            assertEquals((long) (lap + 1) * capacity, ring.polled());
        }
    }

    @Test
    void capacityMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new LongRing(0));
    }

    /** Four producers and four consumers on a ring of a capacity that is not a power of two. */
    @Test
    void everyValueIsTakenExactlyOnceUnderContention() throws InterruptedException {
        LongRing ring = new LongRing(13);
        int perProducer = 200_000;
        ConcurrentHashMap<Long, Boolean> seen = new ConcurrentHashMap<>();
        AtomicInteger taken = new AtomicInteger();
        AtomicInteger duplicates = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            long base = ((long) p << 32) + 1;
            threads.add(Thread.ofPlatform().start(() -> {
                awaitQuietly(start);
                for (int i = 0; i < perProducer; i++) {
                    while (!ring.offer(base + i)) {
                        Thread.onSpinWait();
                    }
                }
            }));
        }
        int total = 4 * perProducer;
        for (int c = 0; c < 4; c++) {
            threads.add(Thread.ofPlatform().start(() -> {
                awaitQuietly(start);
                while (taken.get() < total) {
                    long value = ring.poll(0);
                    if (value != 0) {
                        if (seen.putIfAbsent(value, Boolean.TRUE) != null) {
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
        assertEquals(total, ring.polled());
    }

    static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
