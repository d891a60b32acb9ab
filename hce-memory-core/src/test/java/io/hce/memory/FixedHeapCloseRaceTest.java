package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code close()} while platform and virtual threads allocate, write, check and free blocks by every API. The
 * shards' bitmaps are read and written by address under their locks, with no scope check, so a request that
 * took a lock after the close and touched them would read the freed region: a crash where it is unmapped, else
 * a request accepted that the figures at the close do not count. Each request must instead either run wholly before the close
 * or be refused with the heap's {@code IllegalStateException}; nothing else may be thrown, and the figures at
 * the close must count every free a thread saw accepted.
 */
class FixedHeapCloseRaceTest {

    private static final int ROUNDS = 20;
    private static final int THREADS = 8;

    @Test
    void requestsRacingCloseRunBeforeItOrAreRefused() throws InterruptedException {
        long seed = Long.getLong("hce.test.seed", System.nanoTime()); // replay: -Dhce.test.seed=…
        for (int round = 0; round < ROUNDS; round++) {
            raceOnce(seed + round);
        }
    }

    private static void raceOnce(long seed) throws InterruptedException {
        FixedHeap heap = FixedHeap.create("racing-close", 4 << 20, 2, false);
        CountDownLatch running = new CountDownLatch(THREADS);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        LongAdder frees = new LongAdder();
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            long threadSeed = seed * 31 + t;
            Runnable work = () -> {
                try {
                    useUntilClosed(heap, new SplittableRandom(threadSeed), running, frees);
                } catch (Throwable e) {
                    failure.compareAndSet(null, new AssertionError("seed " + seed + ": " + e, e));
                    running.countDown(); // the close must not wait for a thread that failed
                }
            };
            started.add(t % 2 == 0 ? Thread.ofPlatform().start(work) : Thread.ofVirtual().start(work));
        }
        running.await();
        heap.close();
        for (Thread thread : started) {
            thread.join();
        }
        assertNull(failure.get());
        assertEquals(frees.sum(), heap.statistics().frees(), "seed " + seed + ": a free accepted after the close");
    }

    /** Allocates, writes its pattern, checks it and frees, by segment, address and handle, until refused. */
    private static void useUntilClosed(FixedHeap heap, SplittableRandom random, CountDownLatch running,
                                       LongAdder frees) {
        for (long i = 0; ; i++) {
            if (i == 1000) {
                running.countDown();
            }
            long size = 1 + random.nextInt(4000);
            try {
                switch (random.nextInt(3)) {
                    case 0 -> {
                        MemorySegment block = heap.allocate(size);
                        block.fill((byte) i); // the segment's scope refuses writes after the close
                        assertTrue(block.get(ValueLayout.JAVA_BYTE, size - 1) == (byte) i);
                        heap.free(block);
                    }
                    case 1 -> heap.freeAddress(heap.allocateAddress(size)); // no write: its memory has no scope
                    default -> {
                        long handle = heap.allocateHandle(size); // pinned by this thread
                        heap.write(handle, 0, MemorySegment.ofArray(new byte[] {(byte) i}), 0, 1);
                        heap.unpin(handle);
                        assertTrue(heap.free(handle), "a live handle's free");
                    }
                }
                frees.increment();
            } catch (IllegalStateException e) {
                String message = String.valueOf(e.getMessage());
                if (!message.contains("closed")) {
                    throw e;
                }
                return; // refused: only the close does that, and it starts after every thread's thousandth
            }
        }
    }
}
