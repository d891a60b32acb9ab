package io.hce.memory.internal.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class BlockPoolTest {

    private static final long SIZE = 48;
    private static final long ALIGNMENT = 16;

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
        BlockPool pool = new BlockPool(SIZE, ALIGNMENT, 100, magazineSize);
        List<Long> live = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            live.add(pool.allocate());
        }
        live.forEach(pool::deallocate);
        assertEquals(100, pool.cachedBlocks(), "one thread alone can fill the pool to its capacity");
        assertEquals(200, pool.frees());
        assertEquals(100, pool.placesAccountedFor());
        for (int i = 0; i < 100; i++) {
            pool.allocate();
        }
        assertEquals(100, pool.hits());
        assertEquals(300, pool.misses());
        pool.dropped();
        assertEquals(0, pool.cachedBlocks());
    }

    /** A random walk of allocations and deallocations on one thread; the books are checked after each step. */
    @ParameterizedTest(name = "magazine size {0}")
    @ValueSource(ints = {0, 2, 6, 32})
    void randomizedStepsKeepTheBooks(int magazineSize) {
        long seed = System.nanoTime();
        System.out.println("BlockPoolTest.randomizedStepsKeepTheBooks seed=" + seed + " magazine=" + magazineSize);
        Random random = new Random(seed);
        int capacity = 1 + random.nextInt(200);
        BlockPool pool = new BlockPool(SIZE, ALIGNMENT, capacity, magazineSize);
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
            int cached = pool.cachedBlocks();
            String where = "step " + step + ", seed " + seed;
            assertTrue(cached <= capacity, where);
            assertEquals(capacity, pool.placesAccountedFor(), where);
            assertEquals(pool.misses() - pool.frees() - live.size(), cached, where);
            assertEquals(allocations, pool.hits() + pool.misses(), where);
        }
        live.forEach(pool::deallocate);
        pool.dropped();
        assertEquals(0, pool.cachedBlocks());
    }

    @Test
    void threadsPassBlocksToEachOtherAndNeverShareALiveOne() throws Exception {
        BlockPool pool = new BlockPool(SIZE, ALIGNMENT, 256, 16);
        Set<Long> handedOut = ConcurrentHashMap.newKeySet();
        int threads = 4;
        CyclicBarrier start = new CyclicBarrier(threads);
        List<SynchronousQueue<long[]>> handOver = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            handOver.add(new SynchronousQueue<>());
        }
        try (var executor = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int me = t;
                futures.add(executor.submit(() -> {
                    start.await();
                    for (int round = 0; round < 2_000; round++) {
                        long[] batch = new long[1 + round % 40];
                        for (int i = 0; i < batch.length; i++) {
                            batch[i] = pool.allocate();
                            if (!handedOut.add(batch[i])) {
                                fail("block handed out twice: " + batch[i]);
                            }
                        }
                        // Threads in pairs (0-1, 2-3) swap batches: each frees the other's blocks.
                        long[] theirs = handOver.get(me ^ 1).offer(batch) ? handOver.get(me).take() : batch;
                        for (long address : theirs) {
                            handedOut.remove(address);
                            pool.deallocate(address);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
        }
        assertTrue(pool.cachedBlocks() <= 256);
        assertEquals(256, pool.placesAccountedFor());
        assertEquals(pool.misses() - pool.frees(), pool.cachedBlocks());
        pool.dropped();
        assertEquals(0, pool.cachedBlocks());
    }
}
