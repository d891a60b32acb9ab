package io.hce.memory;

import io.hce.memory.testing.Together;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Many threads sharing one {@link FixedHeap} through handles, with no lock of their own around it: the
 * finding this design answers was "one request does {@code v = heap.allocateOrEvict(4096, ...)}, sleeps, then
 * fills and frees v, while other requests put values into the full heap: the block in use was evicted and
 * handed out again; writes landed on headers or in someone else's value".
 *
 * <p>The request mix, on one heap, as a cache in a web application would make it: an index (key → handle) in
 * a {@link ConcurrentHashMap}; writers that put values of 100…4000 bytes with {@code allocateHandleOrEvict}
 * (the eviction callback reads the victim's key out of it and removes the index entry that names it),
 * write them, publish them, unpin them and free the value they replaced; writers that pause a few
 * milliseconds between allocating and publishing; "scratch" requests that do what the finding's request did
 * (4096 bytes, pause, fill, check, free); readers that copy values out optimistically; holders that pin a
 * value across a pause and check it before and after; removers that remove and free. Every value carries its
 * key, its length and a version, and a pattern derived from key and version fills the rest, so any byte
 * that is not the value's own is caught. Platform threads and virtual threads both; a fixed operation count;
 * the seed is printed, rerun with {@code -Dhce.test.seed=<seed>} (the interleaving, of course, differs).
 *
 * <p>The further tests pin down races of the protocol itself: {@code verify()} while the heap is in use; a pin of
 * a stale handle racing with the reuse of its memory as another value's payload; and, in checked mode, a
 * {@code free} that loses a race with eviction.
 */
class FixedHeapSharingTest {

    private static final int HEADER = 16; // key (int), length (int), version (long)
    private static final int MIN_VALUE = 100;
    private static final int MAX_VALUE = 4000;
    private static final int SCRATCH = 4096;
    private static final int SCRATCH_KEY = -1;

    private static final int PLATFORM_THREADS = 4;
    private static final int VIRTUAL_THREADS = 50;
    /** Keys per byte of capacity: enough that the values cannot all fit, so puts evict all along. */
    private static final int BYTES_PER_KEY = 700;

    // ---- the request mix ----------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}: {1} bytes, {2} shards (0: default), checked {3}")
    @CsvSource({
            "default shards, 2097152, 0, false, 100000, 300",
            "four shards,    4194304, 4, false, 100000, 300",
            "checked mode,   4194304, 4, true,   40000, 150",
    })
    void requestsSharingOneHeapNeverSeeAnotherValuesBytes(String label, long capacity, int shards, boolean checked,
                                                          int platformOperations, int virtualOperations) throws Exception {
        long seed = Long.getLong("hce.test.seed", System.nanoTime());
        System.out.println("FixedHeapSharingTest [" + label + "] seed: " + seed);
        try (FixedHeap heap = shards == 0 ? FixedHeap.create("sharing", capacity)
                : FixedHeap.create("sharing", capacity, shards, checked)) {
            Mix mix = new Mix(heap, seed);
            long started = System.nanoTime();
            mix.run(platformOperations, virtualOperations);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            HeapStatistics during = heap.statistics();
            System.out.println("FixedHeapSharingTest [" + label + "] " + millis + " ms, " + heap.shards() + " shards: "
                    + mix + "; " + during);

            if (mix.failure.get() != null) {
                fail("[" + label + "] seed " + seed + ": a request failed with an exception that is not a documented miss"
                        + " (" + mix.exceptions.get() + " in all); " + mix.wrong.size() + " wrong values: " + mix.wrong,
                        mix.failure.get());
            }
            assertTrue(mix.wrong.isEmpty(), () -> "[" + label + "] seed " + seed + ": " + mix.wrongCount.get()
                    + " wrong values, the first: " + mix.wrong);
            heap.verify();

            // Quiet now: every block is in the index, unpinned, and live.
            assertEquals(during.allocations() - during.frees() - during.evictions(), mix.index.size(),
                    "[" + label + "] live blocks by the heap's count vs. the index: " + during);
            int stale = 0;
            for (Map.Entry<Integer, Long> entry : mix.index.entrySet()) {
                byte[] value = new byte[MAX_VALUE];
                String problem = mix.readWhole(entry.getKey(), entry.getValue(), value);
                if (problem != null) {
                    fail("[" + label + "] seed " + seed + ": at the end, key " + entry.getKey() + ": " + problem);
                }
                if (!heap.free(entry.getValue())) {
                    stale++;
                }
            }
            assertEquals(0, stale, "[" + label + "] handles in the index that the heap called stale at the end");
            mix.index.clear();
            heap.verify();
            HeapStatistics end = heap.statistics();
            assertEquals(0, end.usedBytes(), "[" + label + "] bytes still used after freeing everything: " + end);

            // The mix must have done what it is for.
            assertTrue(end.evictions() > 1000, "[" + label + "] evictions: " + end);
            assertTrue(mix.readHits.sum() > 1000 && mix.holdHits.sum() > 100 && mix.pausedPuts.sum() > 100
                    && mix.scratches.sum() > 50 && mix.frees.sum() > 1000, "[" + label + "] exercised: " + mix);
        }
    }

    /** The request mix over one heap: its index, its threads, and what they saw. */
    private static final class Mix {

        final FixedHeap heap;
        final long seed;
        final int keys;
        final ConcurrentHashMap<Integer, Long> index = new ConcurrentHashMap<>();
        final AtomicLong versions = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicInteger exceptions = new AtomicInteger();
        final Queue<String> wrong = new ConcurrentLinkedQueue<>(); // the first few
        final AtomicInteger wrongCount = new AtomicInteger();

        final LongAdder puts = new LongAdder();
        final LongAdder pausedPuts = new LongAdder();
        final LongAdder scratches = new LongAdder();
        final LongAdder readHits = new LongAdder();
        final LongAdder readMisses = new LongAdder();
        final LongAdder holdHits = new LongAdder();
        final LongAdder holdMisses = new LongAdder();
        final LongAdder absent = new LongAdder();
        final LongAdder frees = new LongAdder();
        final LongAdder staleFrees = new LongAdder();
        final LongAdder victims = new LongAdder();
        final LongAdder exhausted = new LongAdder();

        final LongConsumer onEvict;

        Mix(FixedHeap heap, long seed) {
            this.heap = heap;
            this.seed = seed;
            this.keys = (int) (heap.capacity() / BYTES_PER_KEY);
            this.onEvict = victim -> {
                // Reading a victim inside the callback is allowed: its memory is intact until it returns.
                byte[] header = new byte[HEADER];
                if (!heap.read(victim, 0, MemorySegment.ofArray(header), 0, HEADER)) {
                    wrong("eviction callback: victim 0x" + Long.toHexString(victim) + " could not be read");
                    return;
                }
                int key = intAt(header, 0);
                int length = intAt(header, 4);
                if (key == SCRATCH_KEY) {
                    wrong("eviction callback: a scratch block (pinned by its request all along) was evicted");
                    return;
                }
                if (key < 0 || key >= keys || length < MIN_VALUE || length > MAX_VALUE) {
                    wrong("eviction callback: victim 0x" + Long.toHexString(victim) + " holds key " + key
                            + " and length " + length);
                    return;
                }
                victims.increment();
                index.remove(key, victim);
            };
        }

        void run(int platformOperations, int virtualOperations) throws InterruptedException {
            // Start full, so that puts evict from the first one.
            SplittableRandom fill = new SplittableRandom(seed);
            byte[] buffer = new byte[MAX_VALUE];
            for (int key = 0; key < keys; key++) {
                put(fill, key, buffer, false);
            }
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < PLATFORM_THREADS + VIRTUAL_THREADS; t++) {
                boolean platform = t < PLATFORM_THREADS;
                SplittableRandom random = new SplittableRandom(seed + 1 + t);
                int operations = platform ? platformOperations : virtualOperations;
                Runnable body = () -> {
                    byte[] mine = new byte[Math.max(MAX_VALUE, SCRATCH)];
                    try {
                        start.await();
                        for (int i = 0; i < operations; i++) {
                            step(random, platform, mine);
                        }
                    } catch (Throwable e) {
                        exceptions.incrementAndGet();
                        failure.compareAndSet(null, e);
                    }
                };
                threads.add(platform ? Thread.ofPlatform().name("platform-" + t).start(body)
                        : Thread.ofVirtual().name("virtual-" + t).start(body));
            }
            start.countDown();
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(60));
                if (thread.isAlive()) {
                    fail("seed " + seed + ": " + thread + " did not finish in a minute: " + this);
                }
            }
        }

        /** One request. Platform threads make the fast ones; virtual threads also the ones that pause. */
        void step(SplittableRandom random, boolean platform, byte[] buffer) throws InterruptedException {
            int kind = random.nextInt(100);
            int key = random.nextInt(keys);
            if (platform) {
                if (kind < 45) {
                    get(key, buffer);
                } else if (kind < 85) {
                    put(random, key, buffer, false);
                } else {
                    remove(key);
                }
            } else {
                if (kind < 30) {
                    put(random, key, buffer, true);
                } else if (kind < 60) {
                    hold(random, key, buffer);
                } else if (kind < 70) {
                    scratch(random, buffer);
                } else if (kind < 85) {
                    get(key, buffer);
                } else if (kind < 92) {
                    put(random, key, buffer, false);
                } else {
                    remove(key);
                }
            }
        }

        /** Allocate pinned, (pause,) write, publish, unpin, free what it replaced. */
        void put(SplittableRandom random, int key, byte[] buffer, boolean pause) throws InterruptedException {
            int length = MIN_VALUE + random.nextInt(MAX_VALUE - MIN_VALUE + 1);
            long version = versions.incrementAndGet();
            long handle;
            try {
                handle = heap.allocateHandleOrEvict(length, onEvict);
            } catch (HeapExhaustedException e) {
                exhausted.increment(); // documented, but with a few dozen pins in the heap it should not happen
                throw e;
            }
            if (pause) {
                Thread.sleep(1 + random.nextInt(4));
            }
            fill(buffer, key, length, version);
            heap.write(handle, 0, MemorySegment.ofArray(buffer), 0, length);
            Long previous = index.put(key, handle);
            heap.unpin(handle);
            puts.increment();
            if (pause) {
                pausedPuts.increment();
            }
            if (previous != null) {
                free(previous);
            }
        }

        /** What the finding's request did: 4096 bytes, pause, fill, pause, check, free. Never published. */
        void scratch(SplittableRandom random, byte[] buffer) throws InterruptedException {
            long handle = heap.allocateHandleOrEvict(SCRATCH, onEvict);
            long version = versions.incrementAndGet();
            Thread.sleep(1 + random.nextInt(5));
            fill(buffer, SCRATCH_KEY, SCRATCH, version);
            heap.write(handle, 0, MemorySegment.ofArray(buffer), 0, SCRATCH);
            Thread.sleep(random.nextInt(3));
            byte[] back = new byte[SCRATCH];
            MemorySegment.copy(heap.segment(handle), 0, MemorySegment.ofArray(back), 0, SCRATCH);
            String problem = check(back, SCRATCH, SCRATCH_KEY, version);
            if (problem != null) {
                wrong("scratch block 0x" + Long.toHexString(handle) + " changed while its request held it: " + problem);
            }
            // Free while still pinned: the free completes at the unpin.
            if (!heap.free(handle)) {
                wrong("free of a scratch block its request still pinned said it was stale: 0x" + Long.toHexString(handle));
            }
            heap.unpin(handle);
            scratches.increment();
        }

        /** An optimistic read of the whole value; false from read is a miss. */
        void get(int key, byte[] buffer) {
            Long handle = index.get(key);
            if (handle == null) {
                absent.increment();
                return;
            }
            String problem = readWhole(key, handle, buffer);
            if (problem == MISS) {
                readMisses.increment();
            } else if (problem != null) {
                wrong("read of key " + key + " (handle 0x" + Long.toHexString(handle) + "): " + problem);
            } else {
                readHits.increment();
            }
        }

        static final String MISS = new String("miss");

        /** @return null when the value is right, {@link #MISS} for a miss, else what is wrong */
        String readWhole(int key, long handle, byte[] buffer) {
            MemorySegment into = MemorySegment.ofArray(buffer);
            if (!heap.read(handle, 0, into, 0, HEADER)) {
                return MISS;
            }
            int length = intAt(buffer, 4);
            long version = longAt(buffer, 8);
            if (intAt(buffer, 0) != key || length < MIN_VALUE || length > MAX_VALUE) {
                return "header says key " + intAt(buffer, 0) + ", length " + length + ", version " + version;
            }
            if (!heap.read(handle, 0, into, 0, length)) {
                return MISS;
            }
            return check(buffer, length, key, version);
        }

        /** Pin, check, pause, check again, unpin: the block must not change while pinned, even if freed meanwhile. */
        void hold(SplittableRandom random, int key, byte[] buffer) throws InterruptedException {
            Long handle = index.get(key);
            if (handle == null) {
                absent.increment();
                return;
            }
            if (!heap.pin(handle)) {
                holdMisses.increment();
                return;
            }
            try {
                MemorySegment view = heap.segment(handle);
                MemorySegment into = MemorySegment.ofArray(buffer);
                MemorySegment.copy(view, 0, into, 0, HEADER);
                int length = intAt(buffer, 4);
                long version = longAt(buffer, 8);
                if (intAt(buffer, 0) != key || length < MIN_VALUE || length > MAX_VALUE || length > view.byteSize()) {
                    wrong("pinned key " + key + ": header says key " + intAt(buffer, 0) + ", length " + length);
                    return;
                }
                MemorySegment.copy(view, 0, into, 0, length);
                String problem = check(buffer, length, key, version);
                Thread.sleep(1 + random.nextInt(4));
                MemorySegment.copy(view, 0, into, 0, length);
                String after = check(buffer, length, key, version);
                if (problem != null || after != null) {
                    wrong("pinned key " + key + " (handle 0x" + Long.toHexString(handle) + "): "
                            + (problem != null ? "when pinned: " + problem : "after the pause: " + after));
                } else {
                    holdHits.increment();
                }
            } finally {
                heap.unpin(handle);
            }
        }

        void remove(int key) {
            Long handle = index.remove(key);
            if (handle != null) {
                free(handle);
            }
        }

        void free(long handle) {
            if (heap.free(handle)) {
                frees.increment();
            } else {
                staleFrees.increment(); // evicted between leaving the index and this free: not an error
            }
        }

        void wrong(String what) {
            if (wrongCount.incrementAndGet() <= 5) {
                wrong.add(what);
            }
        }

        @Override
        public String toString() {
            return "puts " + puts + " (paused " + pausedPuts + "), scratch " + scratches + ", reads " + readHits + " hit / "
                    + readMisses + " missed, holds " + holdHits + " / " + holdMisses + " missed, absent " + absent
                    + ", frees " + frees + " (" + staleFrees + " stale), victims " + victims + ", exhausted " + exhausted
                    + ", wrong " + wrongCount + ", exceptions " + exceptions;
        }
    }

    // ---- races of the protocol itself ---------------------------------------------------------------------

    /**
     * {@code verify()} is thread-safe by the contract (it takes every shard's lock in turn) and reports a broken
     * invariant: run while other threads allocate, evict, pin, unpin and free, it must not report a heap that is
     * consistent as broken. (A free or last unpin makes a block releasable by a compare-and-set, without the
     * lock, and only then takes the lock to release it; a verify that holds the lock meanwhile sees that block.)
     */
    @Test
    void verifyWhileOtherThreadsUseTheHeapFindsNothingBroken() throws Exception {
        long seed = Long.getLong("hce.test.seed", System.nanoTime());
        System.out.println("FixedHeapSharingTest [verify while shared] seed: " + seed);
        try (FixedHeap heap = FixedHeap.create("verify-while-shared", 256 << 10, 1, false)) {
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger verified = new AtomicInteger();
            AtomicInteger reports = new AtomicInteger();
            AtomicReference<Throwable> firstReport = new AtomicReference<>();
            Thread verifier = Thread.ofPlatform().name("verifier").start(() -> {
                while (!done.get()) {
                    try {
                        heap.verify();
                        verified.incrementAndGet();
                    } catch (IllegalStateException e) {
                        reports.incrementAndGet();
                        firstReport.compareAndSet(null, e);
                    }
                    // A breath between walks: back to back, they keep the shard's lock from the others (it is not
                    // fair), and the run takes from seconds to a minute.
                    java.util.concurrent.locks.LockSupport.parkNanos(20_000);
                }
            });
            try {
                Together.run(List.of(Thread.ofPlatform(), Thread.ofPlatform(), Thread.ofVirtual(), Thread.ofVirtual()), t -> {
                    SplittableRandom random = new SplittableRandom(seed + t);
                    ArrayDeque<Long> mine = new ArrayDeque<>();
                    for (int i = 0; i < 60_000; i++) {
                        long handle = heap.allocateHandleOrEvict(16 + random.nextInt(2000), victim -> { });
                        if (random.nextInt(4) == 0) {
                            heap.free(handle); // pinned by its creation: released by the unpin
                            heap.unpin(handle);
                            continue;
                        }
                        heap.unpin(handle);
                        mine.add(handle);
                        if (mine.size() > 60) {
                            long old = mine.poll();
                            if (random.nextBoolean() && heap.pin(old)) {
                                heap.free(old);
                                heap.unpin(old);
                            } else {
                                heap.free(old); // false if evicted meanwhile
                            }
                        }
                    }
                    for (long handle : mine) {
                        heap.free(handle);
                    }
                });
            } finally {
                done.set(true);
                verifier.join();
            }
            heap.verify();
            assertEquals(0, heap.statistics().usedBytes());
            System.out.println("FixedHeapSharingTest [verify while shared] " + verified + " verifications, " + reports
                    + " reported a broken heap; " + heap.statistics());
            if (reports.get() != 0) {
                fail(reports + " of " + (verified.get() + reports.get()) + " verify() calls made while other threads used"
                        + " the heap reported it broken, though it verifies clean once they stop; the first:", firstReport.get());
            }
            assertTrue(verified.get() > 10, "verifications: " + verified);
        }
    }

    /**
     * A stale handle must stay harmless "even after the memory belongs to another value". {@code pin} (as
     * {@code free}, {@code unpin}, {@code touch} and {@code read}'s reference bit) reads the state word where
     * the block's header was and then compare-and-sets it. If, between the two, the block is freed, merged into
     * its free left neighbour and handed out again as part of a larger block, that word is now the new value's
     * payload; and if the payload happens to hold the bytes of the state the pinner read (its stamp, no pins,
     * live and referenced: an ordinary pair of ints), the compare-and-set succeeds. The pin then "succeeds" on
     * a stale handle and adds one pin (256) to someone else's value; the pinner's unpin is refused.
     *
     * <p>The set-up makes that window as likely as it can be without hooks: a heap that holds only the two
     * blocks and a pinned filler, so that the larger block must take their place; a thread that pins and unpins
     * the right one of the two as fast as it can while it is published; and a writer that frees it, takes its
     * memory with the left one and writes into it the state the pinner saw. The pinner must be descheduled
     * between its read and its compare-and-set, so a hit is rare (a few a second on 2 cores); the test runs
     * for a bounded time, {@code -Dhce.test.stalePinMillis} (default 5000).
     */
    @Test
    void aStalePinNeverWritesIntoTheValueThatTookItsMemory() throws Exception {
        long budget = Long.getLong("hce.test.stalePinMillis", 5000);
        try (FixedHeap heap = FixedHeap.create("stale-pin", FixedHeap.MIN_CAPACITY, 1, false)) {
            long x = heap.allocateHandle(SMALL);
            long y = heap.allocateHandle(SMALL);
            long filler = heap.allocateHandle(heap.statistics().largestFreeBlock()); // pinned all along
            heap.free(x);
            heap.unpin(x);
            heap.free(y);
            heap.unpin(y);
            long fillerBytes = heap.statistics().usedBytes();

            AtomicLong published = new AtomicLong();
            AtomicBoolean done = new AtomicBoolean();
            LongAdder pins = new LongAdder();
            AtomicInteger stalePins = new AtomicInteger();
            AtomicReference<Throwable> refusal = new AtomicReference<>();
            Thread pinner = Thread.ofPlatform().name("pinner").start(() -> {
                while (!done.get()) {
                    long handle = published.get();
                    if (handle != 0 && heap.pin(handle)) {
                        pins.increment();
                        try {
                            heap.unpin(handle);
                        } catch (IllegalStateException e) { // the pin was taken on a stale handle
                            stalePins.incrementAndGet();
                            refusal.compareAndSet(null, e);
                        }
                    }
                }
            });
            int cycles = 0;
            int changed = 0;
            String firstChange = null;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budget);
            try {
                while (System.nanoTime() < deadline && stalePins.get() == 0 && changed == 0) {
                    cycles++;
                    long one = heap.allocateHandle(SMALL);
                    long two = heap.allocateHandle(SMALL);
                    long addressOne = heap.segment(one).address();
                    long addressTwo = heap.segment(two).address();
                    long left = Math.min(addressOne, addressTwo);
                    long right = Math.max(addressOne, addressTwo);
                    assertEquals(left + SMALL_BLOCK, right, "the two blocks are neighbours");
                    long a = addressOne < addressTwo ? one : two;
                    long b = addressOne < addressTwo ? two : one;
                    heap.free(a);
                    heap.unpin(a);
                    heap.unpin(b);
                    published.set(b);
                    spin(1_000_000);
                    published.set(0);
                    heap.free(b); // the pinner may hold it: then its unpin releases it
                    while (heap.statistics().usedBytes() != fillerBytes) {
                        Thread.onSpinWait();
                    }
                    long large = heap.allocateHandle(2 * SMALL_BLOCK - 16);
                    MemorySegment value = heap.segment(large);
                    assertEquals(left, value.address(), "the larger block takes the place of both");
                    // A value that holds, where b's state word was, the state the pinner read of b.
                    long at = right - 8 - left;
                    long bytes = (b & 0xFFFF_FFFF_0000_0000L) | 3; // b's stamp, no pins, referenced, live
                    value.set(ValueLayout.JAVA_LONG_UNALIGNED, at, bytes);
                    spin(200_000);
                    long now = value.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
                    if (now != bytes) {
                        changed++;
                        if (firstChange == null) {
                            firstChange = "the value's bytes " + at + ".." + (at + 7) + " changed from 0x"
                                    + Long.toHexString(bytes) + " to 0x" + Long.toHexString(now) + " (stale handle 0x"
                                    + Long.toHexString(b) + ")";
                        }
                    }
                    heap.free(large);
                    heap.unpin(large);
                }
            } finally {
                done.set(true);
                pinner.join();
            }
            System.out.println("FixedHeapSharingTest [stale pin] " + cycles + " cycles, " + pins + " pins, "
                    + stalePins + " pins of a stale handle, " + changed + " values changed");
            if (stalePins.get() != 0 || changed != 0) {
                fail("after " + cycles + " cycles: pin(h) returned true for a handle whose block had been freed and whose"
                        + " memory was another value's (" + stalePins + " times; its unpin was refused), and "
                        + (firstChange != null ? firstChange : "the value changed") , refusal.get());
            }
            heap.free(filler);
            heap.unpin(filler);
            heap.verify();
        }
    }

    private static final int SMALL = 496;       // a 512-byte block
    private static final int SMALL_BLOCK = 512;

    private static void spin(long nanos) {
        long start = System.nanoTime();
        while (System.nanoTime() - start < nanos) {
            Thread.onSpinWait();
        }
    }

    /**
     * Checked mode: a {@code free} of a handle that loses a race with the handle's eviction returns false, as
     * the contract says ("a free that lost a race with eviction is not an error"); it is not reported as a
     * double free. (It once was: {@code free} recorded itself as the block's end before its compare-and-set,
     * then took its own record for an earlier free when the compare-and-set lost.) The free is made from a deep
     * stack, so that checked mode's stack capture, if it comes first, holds the window open.
     */
    @Test
    void checkedModeFreeThatLosesARaceWithEvictionIsNotADoubleFree() throws Exception {
        int rounds = 400;
        try (FixedHeap heap = FixedHeap.create("checked-free-vs-evict", FixedHeap.MIN_CAPACITY, 1, true)) {
            long value = heap.allocateHandle(VALUE_SIZE);
            long filler = heap.allocateHandle(heap.statistics().largestFreeBlock()); // pinned all along
            heap.free(value);
            heap.unpin(value);
            // Both threads spin (no parking: its wake-up latency would order them), and the evicting one waits
            // a random while after the start, so that its eviction falls anywhere in the free's call.
            AtomicInteger started = new AtomicInteger(-1);
            AtomicInteger finished = new AtomicInteger(-1);
            AtomicLong current = new AtomicLong();
            AtomicInteger freed = new AtomicInteger();
            AtomicInteger lost = new AtomicInteger();
            AtomicInteger evicted = new AtomicInteger();
            AtomicInteger exhaustedMeanwhile = new AtomicInteger();
            Queue<Throwable> reports = new ConcurrentLinkedQueue<>();
            Thread freer = Thread.ofPlatform().name("freer").start(() -> {
                for (int round = 0; round < rounds; round++) {
                    while (started.get() < round) {
                        Thread.onSpinWait();
                    }
                    try {
                        if (deepFree(heap, current.get(), 1000)) {
                            freed.incrementAndGet();
                        } else {
                            lost.incrementAndGet();
                        }
                    } catch (RuntimeException e) {
                        reports.add(e);
                    }
                    finished.set(round);
                }
            });
            SplittableRandom random = new SplittableRandom(rounds);
            long call = timeOfADeepFree(heap);
            try {
                for (int round = 0; round < rounds; round++) {
                    long handle = heap.allocateHandle(VALUE_SIZE);
                    heap.unpin(handle);
                    current.set(handle);
                    started.set(round);
                    spin(random.nextLong(call + 1));
                    long taken;
                    for (;;) {
                        try {
                            taken = heap.allocateHandleOrEvict(VALUE_SIZE, victim -> evicted.incrementAndGet());
                            break;
                        } catch (HeapExhaustedException e) {
                            // The free has made the block unevictable but not yet given it back (it waits for the
                            // lock this allocation holds): nothing to evict and nothing free, for a moment.
                            exhaustedMeanwhile.incrementAndGet();
                        }
                    }
                    while (finished.get() < round) {
                        Thread.onSpinWait();
                    }
                    heap.free(taken);
                    heap.unpin(taken);
                }
            } finally {
                started.set(rounds);
                freer.join();
            }
            System.out.println("FixedHeapSharingTest [checked free vs evict] " + rounds + " rounds (a free takes "
                    + call / 1000 + " us): " + freed + " frees first, " + lost + " frees lost to the eviction (" + evicted
                    + " evictions), " + reports.size() + " reported as double frees; " + exhaustedMeanwhile
                    + " allocations found nothing to evict while the free was in flight");
            if (!reports.isEmpty()) {
                fail(reports.size() + " of " + rounds + " frees that lost a race with eviction were reported as double"
                        + " frees; the first:", reports.peek());
            }
            assertEquals(rounds, freed.get() + lost.get());
            assertEquals(lost.get(), evicted.get(), "a lost free is one the eviction came first to");
            heap.free(filler);
            heap.unpin(filler);
            heap.verify();
            assertEquals(0, heap.statistics().usedBytes());
        }
    }

    /** @return about how long, in nanoseconds, a free from a deep stack takes in checked mode (warmed up) */
    private static long timeOfADeepFree(FixedHeap heap) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 50; i++) {
            long handle = heap.allocateHandleOrEvict(VALUE_SIZE, victim -> { });
            heap.unpin(handle);
            long start = System.nanoTime();
            deepFree(heap, handle, 1000);
            best = Math.min(best, System.nanoTime() - start);
        }
        return Math.max(best, 1000);
    }

    private static final int VALUE_SIZE = 1000;

    private static boolean deepFree(FixedHeap heap, long handle, int depth) {
        return depth == 0 ? heap.free(handle) : deepFree(heap, handle, depth - 1);
    }

    // ---- values -------------------------------------------------------------------------------------------

    static void fill(byte[] buffer, int key, int length, long version) {
        setInt(buffer, 0, key);
        setInt(buffer, 4, length);
        setLong(buffer, 8, version);
        for (int i = HEADER; i < length; i += 8) {
            long word = patternWord(key, version, i >>> 3);
            for (int b = 0; b < 8 && i + b < length; b++) {
                buffer[i + b] = (byte) (word >>> (b << 3));
            }
        }
    }

    /** @return null if {@code buffer} holds the value (key, length, version), else the first difference */
    static String check(byte[] buffer, int length, int key, long version) {
        if (intAt(buffer, 0) != key || intAt(buffer, 4) != length || longAt(buffer, 8) != version) {
            return "header key " + intAt(buffer, 0) + " length " + intAt(buffer, 4) + " version " + longAt(buffer, 8)
                    + ", expected " + key + " / " + length + " / " + version;
        }
        for (int i = HEADER; i < length; i += 8) {
            long word = patternWord(key, version, i >>> 3);
            for (int b = 0; b < 8 && i + b < length; b++) {
                if (buffer[i + b] != (byte) (word >>> (b << 3))) {
                    return "byte " + (i + b) + " of " + length + " is " + buffer[i + b] + ", expected "
                            + (byte) (word >>> (b << 3)) + " (key " + key + ", version " + version + ")";
                }
            }
        }
        return null;
    }

    private static long patternWord(int key, long version, int word) {
        long z = key * 0x9E37_79B9_7F4A_7C15L + version * 0xC2B2_AE3D_27D4_EB4FL + word * 0x1656_67B1_9E37_79F9L;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    static int intAt(byte[] buffer, int offset) {
        return MemorySegment.ofArray(buffer).get(ValueLayout.JAVA_INT_UNALIGNED, offset);
    }

    static long longAt(byte[] buffer, int offset) {
        return MemorySegment.ofArray(buffer).get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
    }

    static void setInt(byte[] buffer, int offset, int value) {
        MemorySegment.ofArray(buffer).set(ValueLayout.JAVA_INT_UNALIGNED, offset, value);
    }

    static void setLong(byte[] buffer, int offset, long value) {
        MemorySegment.ofArray(buffer).set(ValueLayout.JAVA_LONG_UNALIGNED, offset, value);
    }
}
