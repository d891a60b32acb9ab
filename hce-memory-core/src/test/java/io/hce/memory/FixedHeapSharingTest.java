package io.hce.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * <p>The further tests pin down races of the protocol itself (see each).
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
