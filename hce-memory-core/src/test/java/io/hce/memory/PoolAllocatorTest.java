package io.hce.memory;

import io.hce.memory.testing.Together;
import io.hce.memory.testing.Validation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Pools a test keeps reachable are tracked by {@link Validation}: after the test the engine's places must
 * add up, and where the test gives every block back, each block {@code malloc}'d is cached or freed. Pools
 * a test drops are not tracked: the extension would keep them reachable.
 */
class PoolAllocatorTest {

    private static final MemoryLayout ENTRY = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("key"), ValueLayout.JAVA_INT.withName("length"),
            ValueLayout.JAVA_INT.withName("hash"), ValueLayout.ADDRESS.withName("value"));

    @RegisterExtension
    final Validation validation = new Validation();

    @Test
    void capacityIsRespectedExactly() {
        PoolAllocator pool = validation.track(PoolAllocator.create("entries", ENTRY, 3));
        List<MemorySegment> held = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            held.add(pool.allocate());
        }
        assertEquals(new PoolStatistics("entries", 24, 3, 0, 5, 0, 0), pool.statistics());
        held.forEach(pool::deallocate); // 3 are kept, 2 are freed
        held.clear();
        assertEquals(new PoolStatistics("entries", 24, 3, 0, 5, 2, 3), pool.statistics());
        for (int i = 0; i < 4; i++) {
            held.add(pool.allocate()); // 3 hits, then a miss
        }
        assertEquals(new PoolStatistics("entries", 24, 3, 3, 6, 2, 0), pool.statistics());
        held.forEach(pool::deallocate);
        assertEquals(new PoolStatistics("entries", 24, 3, 3, 6, 3, 3), pool.statistics());
        validation.expectNothingLive();
    }

    @Test
    void preallocationMakesTheFirstCapacityAllocationsHits() {
        PoolAllocator pool = validation.track(PoolAllocator.create("warm", ENTRY, 4));
        assertEquals(4, pool.preallocate(10));
        assertEquals(0, pool.preallocate(1));
        assertEquals(4, pool.statistics().cachedBlocks());
        for (int i = 0; i < 4; i++) {
            pool.allocate();
        }
        PoolStatistics statistics = pool.statistics();
        assertEquals(4, statistics.hits());
        assertEquals(0, statistics.misses());
        pool.allocate();
        assertEquals(1, pool.statistics().misses());
    }

    @Test
    void everyBlockHasTheLayoutsAlignmentAtLeastSixteen() {
        MemoryLayout pageAligned = MemoryLayout.sequenceLayout(100, ValueLayout.JAVA_INT).withByteAlignment(4096);
        PoolAllocator small = validation.track(PoolAllocator.create("small", ValueLayout.JAVA_BYTE, 8));
        PoolAllocator paged = validation.track(PoolAllocator.create("paged", pageAligned, 8));
        assertEquals(16, small.blockAlignment());
        assertEquals(4096, paged.blockAlignment());
        for (int i = 0; i < 20; i++) {
            MemorySegment a = small.allocate();
            MemorySegment b = paged.allocate();
            assertEquals(0, a.address() % 16);
            assertEquals(0, b.address() % 4096);
            assertEquals(400, b.byteSize());
            if (i % 3 == 0) {
                small.deallocate(a);
                paged.deallocate(b);
            }
        }
    }

    @Test
    void segmentAllocatorRequestsGetABlockWhenTheyFitAndAClearErrorWhenNot() {
        PoolAllocator pool = validation.track(PoolAllocator.create("entries", ENTRY, 2));
        MemorySegment key = pool.allocate(ValueLayout.JAVA_LONG);
        assertEquals(8, key.byteSize());
        MemorySegment ints = pool.allocate(ValueLayout.JAVA_INT, 6);
        assertEquals(24, ints.byteSize());
        CacheInfoTest.assertMessage(() -> pool.allocate(ValueLayout.JAVA_INT, 7),
                "pool 'entries' has blocks of 24 bytes; a request of 28 bytes does not fit");
        CacheInfoTest.assertMessage(() -> pool.allocate(8, 32),
                "has blocks aligned to 16 bytes; a request aligned to 32 bytes does not fit");
        CacheInfoTest.assertMessage(() -> pool.allocate(-1, 8), "byteSize must not be negative");
        CacheInfoTest.assertMessage(() -> pool.allocate(8, 3), "byteAlignment must be a power of two, was 3");
        pool.deallocate(key);
        pool.deallocate(ints);
        validation.expectNothingLive();
    }

    @Test
    void badArgumentsAreRejectedAndChangeNothing() {
        PoolAllocator pool = validation.track(PoolAllocator.create("entries", ENTRY, 2));
        MemorySegment live = pool.allocate();
        PoolStatistics before = pool.statistics();
        assertThrows(NullPointerException.class, () -> pool.deallocate(null));
        CacheInfoTest.assertMessage(() -> pool.deallocate(MemorySegment.ofArray(new byte[8])), "not a block of pool 'entries'");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment foreign = arena.allocate(ENTRY);
            CacheInfoTest.assertMessage(() -> pool.deallocate(foreign), "not a block of pool 'entries'");
        }
        CacheInfoTest.assertMessage(() -> pool.deallocate(live.asSlice(8, 8)), "aligned to 16");
        CacheInfoTest.assertMessage(() -> pool.deallocate(MemorySegment.ofAddress(live.address()).reinterpret(25)),
                "blocks of 24 bytes");
        assertEquals(before, pool.statistics());
        pool.deallocate(live);
        validation.expectNothingLive();
        assertThrows(NullPointerException.class, () -> PoolAllocator.create(null, ENTRY, 1));
        assertThrows(NullPointerException.class, () -> PoolAllocator.create("x", null, 1));
        CacheInfoTest.assertMessage(() -> PoolAllocator.create(" ", ENTRY, 1), "name must not be blank");
        CacheInfoTest.assertMessage(() -> PoolAllocator.create("x", MemoryLayout.structLayout(), 1), "blockSize of pool 'x' must be at least 1 byte, was 0");
        CacheInfoTest.assertMessage(() -> PoolAllocator.create("x", ENTRY, 0), "capacity of pool 'x' must be at least 1, was 0");
    }

    @Test
    void closingFreesTheCachedBlocksAndLaterDeallocationsToo() {
        PoolAllocator pool = validation.track(PoolAllocator.create("closing", ENTRY, 4));
        MemorySegment kept = pool.allocate();
        pool.preallocate(4);
        pool.close();
        pool.close();
        assertEquals(0, pool.statistics().cachedBlocks());
        assertEquals(0, pool.statistics().hits(), "draining is not a hit");
        CacheInfoTest.assertState(pool::allocate, "pool 'closing' is closed");
        CacheInfoTest.assertState(() -> pool.preallocate(1), "pool 'closing' is closed");
        pool.deallocate(kept); // freed at once: nothing leaks
        assertEquals(0, pool.statistics().cachedBlocks());
    }

    @Test
    void aDroppedPoolIsDrained() {
        java.util.function.IntSupplier cached = droppedPoolWithFourCachedBlocks();
        Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> cached.getAsInt() == 0,
                () -> cached.getAsInt() + " blocks still cached by a pool nobody can reach");
    }

    private static java.util.function.IntSupplier droppedPoolWithFourCachedBlocks() {
        PoolAllocator pool = PoolAllocator.create("dropped", ENTRY, 4);
        pool.preallocate(4);
        java.util.function.IntSupplier cached = PoolInspector.cachedBlocks(pool);
        assertEquals(4, cached.getAsInt());
        return cached;
    }

    /** Large enough for a full magazine per thread on this machine (see BlockPool.magazineSize). */
    private static final int WITH_MAGAZINES = 256 * Runtime.getRuntime().availableProcessors();

    /** Runs {@code action} on a new platform thread and waits for it to end. */
    private static void onAnotherThread(Runnable action) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().start(() -> {
            try {
                action.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        thread.join();
        assertNull(failure.get());
    }

    @Test
    void aThreadsMagazineGoesBackToThePoolWhenTheThreadEnds() throws InterruptedException {
        PoolAllocator pool = validation.track(PoolAllocator.create("magazines", ENTRY, WITH_MAGAZINES));
        onAnotherThread(() -> {
            List<MemorySegment> blocks = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                blocks.add(pool.allocate());
            }
            blocks.forEach(pool::deallocate); // into this thread's magazine
        });
        assertEquals(10, pool.statistics().cachedBlocks());
        java.util.function.IntSupplier magazines = PoolInspector.liveMagazines(pool);
        Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> magazines.getAsInt() == 0,
                () -> magazines.getAsInt() + " magazines of threads that ended");
        for (int i = 0; i < 10; i++) {
            pool.allocate(); // the ended thread's blocks, from the ring
        }
        assertEquals(10, pool.statistics().hits());
        assertEquals(10, pool.statistics().misses());
    }

    @Test
    void closeFreesTheCallersMagazineAtOnceAndAnotherThreadsAtItsNextCall() throws Exception {
        PoolAllocator pool = validation.track(PoolAllocator.create("closing", ENTRY, WITH_MAGAZINES));
        try (var other = java.util.concurrent.Executors.newSingleThreadExecutor()) {
            java.util.concurrent.TimeUnit seconds = java.util.concurrent.TimeUnit.SECONDS;
            MemorySegment kept = other.submit(() -> {
                MemorySegment block = pool.allocate();
                pool.deallocate(pool.allocate()); // one block in the other thread's magazine
                return block;
            }).get(30, seconds);
            pool.deallocate(pool.allocate()); // and one in ours
            assertEquals(2, pool.statistics().cachedBlocks());
            pool.close();
            assertEquals(1, pool.statistics().cachedBlocks(), "the other thread's magazine waits for its owner");
            other.submit(() -> pool.deallocate(kept)).get(30, seconds);
            assertEquals(0, pool.statistics().cachedBlocks(), "freed at the owner's next call");
        }
    }

    @Test
    void aDroppedPoolLetsGoOfItsEngineThoughThreadsThatUsedItLiveOn() throws Exception {
        try (var other = java.util.concurrent.Executors.newSingleThreadExecutor()) {
            java.lang.ref.WeakReference<?> engine = engineOfADroppedPoolUsedBy(other);
            Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> engine.get() == null,
                    () -> "the engine of a dropped pool is still reachable: the live threads' watches hold it");
        }
    }

    private static java.lang.ref.WeakReference<?> engineOfADroppedPoolUsedBy(java.util.concurrent.ExecutorService other)
            throws Exception {
        PoolAllocator pool = PoolAllocator.create("dropped", ENTRY, WITH_MAGAZINES);
        pool.deallocate(pool.allocate());
        other.submit(() -> pool.deallocate(pool.allocate())).get(30, java.util.concurrent.TimeUnit.SECONDS);
        return PoolInspector.engineReference(pool);
    }

    @Test
    void aDroppedPoolFreesEveryThreadsMagazine() throws InterruptedException {
        java.util.function.IntSupplier cached = droppedPoolWithBlocksInTwoMagazines();
        Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> cached.getAsInt() == 0,
                () -> cached.getAsInt() + " blocks still cached by a pool nobody can reach");
    }

    private static java.util.function.IntSupplier droppedPoolWithBlocksInTwoMagazines() throws InterruptedException {
        PoolAllocator pool = PoolAllocator.create("dropped", ENTRY, WITH_MAGAZINES);
        pool.deallocate(pool.allocate());
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<PoolAllocator> handle = new AtomicReference<>(pool);
        Thread.ofPlatform().daemon().start(() -> {
            PoolAllocator shared = handle.getAndSet(null); // the live thread must not keep the pool reachable
            shared.deallocate(shared.allocate());
            shared = null;
            holding.countDown();
            try {
                release.await(); // alive, so its magazine is not freed by its end
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        holding.await();
        java.util.function.IntSupplier cached = PoolInspector.cachedBlocks(pool);
        assertEquals(2, cached.getAsInt());
        return () -> {
            int now = cached.getAsInt();
            if (now == 0) {
                release.countDown();
            }
            return now;
        };
    }

    /** Four threads share a pool and free each other's blocks: no block is ever handed out twice while live. */
    @org.junit.jupiter.params.ParameterizedTest(name = "capacity {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {8, 4096})
    void threadsSharingAPoolNeverGetTheSameLiveBlock(int capacity) throws InterruptedException {
        int threads = 4;
        int operations = 200_000;
        PoolAllocator pool = validation.track(PoolAllocator.create("shared", ENTRY, capacity));
        Set<Long> live = ConcurrentHashMap.newKeySet();
        java.util.concurrent.ConcurrentLinkedQueue<MemorySegment> handOver = new java.util.concurrent.ConcurrentLinkedQueue<>();
        AtomicLong allocations = new AtomicLong();
        Together.run(Together.platformThreads(threads), thread -> {
            for (int i = 0; i < operations; i++) {
                MemorySegment block = pool.allocate();
                allocations.incrementAndGet();
                if (!live.add(block.address())) {
                    throw new AssertionError("block 0x" + Long.toHexString(block.address()) + " handed out twice");
                }
                block.set(ValueLayout.JAVA_LONG, 0, i);
                handOver.add(block);
                MemorySegment other = handOver.poll(); // often another thread's
                if (other != null) {
                    live.remove(other.address());
                    pool.deallocate(other);
                }
            }
        });
        for (MemorySegment block; (block = handOver.poll()) != null; ) {
            live.remove(block.address());
            pool.deallocate(block);
        }
        PoolStatistics statistics = pool.statistics();
        assertEquals(allocations.get(), statistics.hits() + statistics.misses());
        assertEquals(0, live.size());
        validation.expectNothingLive(); // every block malloc'd is cached or freed
    }
}
