package io.hce.memory.internal.pool;

import io.hce.memory.testing.Together;
import io.hce.memory.testing.Validation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine of {@code PoolAllocator}. Every pool a test makes is tracked by {@link Validation}: after the
 * test its places must add up to its capacity, and dropping it must free every block and retire every
 * magazine.
 */
class BlockPoolTest {

    private static final long SIZE = 48;
    private static final long ALIGNMENT = 16;

    @RegisterExtension
    final Validation validation = new Validation();

    private BlockPool pool(int capacity, int magazineSize, int maxMagazines) {
        return validation.track(new BlockPool("test", SIZE, ALIGNMENT, capacity, magazineSize, maxMagazines));
    }

    @Test
    void magazinesAreSizedByCapacityPerProcessorAndLeftOutForSmallPools() {
        assertEquals(0, BlockPool.magazineSize(15, 1));
        assertEquals(2, BlockPool.magazineSize(16, 1));
        assertEquals(4, BlockPool.magazineSize(64, 2));
        assertEquals(4, BlockPool.magazineSize(80, 2)); // 5, rounded down to an even size
        assertEquals(BlockPool.MAX_MAGAZINE_SIZE, BlockPool.magazineSize(1_000_000, 64));
        assertEquals(0, BlockPool.magazineSize(1_000, 128));
    }

    @ParameterizedTest(name = "magazine size {0}")
    @ValueSource(ints = {0, 2, 8, 32})
    void theCapacityIsExactWithMagazines(int magazineSize) {
        BlockPool pool = pool(100, magazineSize, 4);
        List<Long> live = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            live.add(pool.allocate());
        }
        live.forEach(pool::deallocate);
        assertEquals(100, pool.cachedBlocks(), "one thread alone can fill the pool to its capacity");
        assertEquals(200, pool.frees());
        BlockPoolInspector.checkInvariants(pool);
        live.clear();
        for (int i = 0; i < 100; i++) {
            live.add(pool.allocate());
        }
        assertEquals(100, pool.hits());
        assertEquals(300, pool.misses());
        live.forEach(pool::deallocate);
        validation.expectNothingLive();
    }

    @Test
    void onlyTheFirstThreadsGetAMagazineSoIdleOnesCannotHoldTheCapacity() throws Exception {
        BlockPool pool = pool(64, 16, 2);
        List<Thread> threads = new ArrayList<>();
        CyclicBarrier allUsedIt = new CyclicBarrier(5);
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                pool.deallocate(pool.allocate());
                try {
                    allUsedIt.await(); // all four alive at once
                    allUsedIt.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        allUsedIt.await();
        assertEquals(2, BlockPoolInspector.magazinesWithRoom(pool), "two magazines; the other threads use the ring");
        assertEquals(pool.misses(), pool.cachedBlocks());
        BlockPoolInspector.checkInvariants(pool); // the threads wait at the barrier, past their calls
        assertEquals(2 * 8, BlockPoolInspector.placesInMagazines(pool), "each magazine took half of its 16 places, the rest is free");
        allUsedIt.await();
        for (Thread thread : threads) {
            thread.join();
        }
        validation.expectNothingLive();
    }

    /**
     * A random walk of allocations and deallocations on one thread; the books are checked after each step.
     * Rerun a failure with {@code -Dhce.test.seed=<the printed seed>}.
     */
    @ParameterizedTest(name = "magazine size {0}")
    @ValueSource(ints = {0, 2, 6, 32})
    void randomizedStepsKeepTheBooks(int magazineSize) {
        long seed = Long.getLong("hce.test.seed", System.nanoTime());
        System.out.println("BlockPoolTest seed (magazine size " + magazineSize + "): " + seed);
        Random random = new Random(seed);
        int capacity = 1 + random.nextInt(200);
        BlockPool pool = pool(capacity, magazineSize, 4);
        List<Long> live = new ArrayList<>();
        Set<Long> liveSet = new HashSet<>();
        long allocations = 0;
        for (int step = 0; step < 50_000; step++) {
            boolean allocate = live.isEmpty() || (live.size() < 3 * capacity && random.nextInt(100) < 50);
            if (allocate) {
                long address = pool.allocate();
                allocations++;
                assertTrue(liveSet.add(address), "handed out twice: " + address + ", seed " + seed);
                live.add(address);
            } else {
                long address = live.remove(random.nextInt(live.size()));
                liveSet.remove(address);
                pool.deallocate(address);
            }
            String where = "step " + step + ", seed " + seed;
            try {
                BlockPoolInspector.checkInvariants(pool);
            } catch (AssertionError e) {
                throw new AssertionError(where + ": " + e.getMessage(), e);
            }
            assertEquals(pool.misses() - pool.frees() - live.size(), pool.cachedBlocks(), where);
            assertEquals(allocations, pool.hits() + pool.misses(), where);
        }
        live.forEach(pool::deallocate);
        validation.expectNothingLive();
    }

    /**
     * Platform threads with magazines, a platform thread beyond the magazine limit and virtual threads share a
     * pool and free each other's blocks: no block is live twice, and the places add up afterwards.
     */
    @Test
    void threadsOfEveryKindPassBlocksToEachOtherAndNeverShareALiveOne() throws Exception {
        BlockPool pool = pool(256, 16, 2);
        Set<Long> handedOut = ConcurrentHashMap.newKeySet();
        ConcurrentLinkedQueue<Long> handOver = new ConcurrentLinkedQueue<>();
        List<Thread.Builder> threads = List.of(Thread.ofPlatform(), Thread.ofPlatform(), Thread.ofPlatform(),
                Thread.ofVirtual(), Thread.ofVirtual()); // two get magazines, one does not; virtual ones never do
        Together.run(threads, thread -> {
            Random random = new Random();
            for (int round = 0; round < 20_000; round++) {
                for (int i = random.nextInt(40); i >= 0; i--) {
                    long address = pool.allocate();
                    if (!handedOut.add(address)) {
                        throw new AssertionError("block handed out twice: " + address);
                    }
                    handOver.add(address);
                }
                for (int i = random.nextInt(40); i >= 0; i--) {
                    Long address = handOver.poll(); // often another thread's
                    if (address != null) {
                        handedOut.remove(address);
                        pool.deallocate(address);
                    }
                }
            }
        });
        for (Long address; (address = handOver.poll()) != null; ) {
            pool.deallocate(address);
        }
        validation.expectNothingLive();
    }
}
