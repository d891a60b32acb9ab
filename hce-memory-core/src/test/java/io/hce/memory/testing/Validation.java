package io.hce.memory.testing;

import io.hce.memory.CachingAllocator;
import io.hce.memory.FixedHeap;
import io.hce.memory.HeapStatistics;
import io.hce.memory.PoolAllocator;
import io.hce.memory.PoolInspector;
import io.hce.memory.internal.pool.BlockPool;
import io.hce.memory.internal.pool.BlockPoolInspector;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks the invariants of the heaps, pools and allocators a test made once the test has passed, then
 * closes them: Caffeine's {@code CacheValidationListener}, for JUnit 5.
 *
 * <pre>{@code
 * @RegisterExtension
 * final Validation validation = new Validation();
 *
 * @Test
 * void freedBlocksMerge() {
 *     FixedHeap heap = validation.track(FixedHeap.create("test", 1 << 20));
 *     // ... allocate, and free every block ...
 *     validation.expectNothingLive();
 * }
 * }</pre>
 *
 * <h2>What is checked</h2>
 * Right after a test method that passed (before {@code @AfterEach} methods, which may close what they
 * share), for everything tracked:
 * <ul>
 *   <li>{@link FixedHeap}: {@code verify()}, if the test left it open;</li>
 *   <li>{@link PoolAllocator} and {@link BlockPool}: the engine's invariants (the places add up to the
 *       capacity while it is open: free, in the ring with a block, or held by magazines; see
 *       {@link BlockPoolInspector#checkInvariants});</li>
 *   <li>{@link BlockPool} then: dropping it frees every block and retires every magazine.</li>
 * </ul>
 * A test that gives back everything it took says so with {@link #expectNothingLive()}, and then also: no
 * heap has a byte in use; every block a pool {@code malloc}'d is cached or freed; a caching allocator,
 * trimmed from the test's thread, has no bytes reserved (so other platform threads must have ended and had
 * their caches retired).
 *
 * <p>A test that failed is not checked again: its own failure is the one to read. Whatever the outcome,
 * after each test the heaps and pools are closed (block pools dropped) and the allocators trimmed, so
 * nothing outlives the test but what a cleaner frees. Threads the test started must have finished.
 */
public final class Validation implements AfterTestExecutionCallback, AfterEachCallback {

    /** Something tracked: its checks, and how to let go of it. */
    private interface Subject {
        void check(boolean nothingLive);

        void release();
    }

    private final List<Subject> subjects = new ArrayList<>();
    private boolean nothingLive;

    /** @return the heap, to be verified after the test and closed */
    public FixedHeap track(FixedHeap heap) {
        subjects.add(new Subject() {
            @Override
            public void check(boolean nothingLive) {
                if (isClosed(heap)) {
                    return;
                }
                heap.verify();
                long used = heap.statistics().usedBytes();
                if (nothingLive && used != 0) {
                    throw new AssertionError("heap '" + heap.name() + "': " + used + " bytes still in use");
                }
            }

            @Override
            public void release() {
                heap.close();
            }
        });
        return heap;
    }

    /** @return the pool, whose engine is checked after the test, and which is closed */
    public PoolAllocator track(PoolAllocator pool) {
        BlockPool engine = PoolInspector.engine(pool);
        subjects.add(new Subject() {
            @Override
            public void check(boolean nothingLive) {
                checkPool(engine, nothingLive, "pool '" + pool.name() + "'");
            }

            @Override
            public void release() {
                pool.close();
            }
        });
        return pool;
    }

    /** @return the pool, checked after the test, then dropped (as the cleaner of its owner does) */
    public BlockPool track(BlockPool pool) {
        subjects.add(new Subject() {
            @Override
            public void check(boolean nothingLive) {
                checkPool(pool, nothingLive, "block pool");
                BlockPoolInspector.checkDroppingFreesEverything(pool);
            }

            @Override
            public void release() {
                pool.dropped();
            }
        });
        return pool;
    }

    /** @return the allocator, checked after a test that {@linkplain #expectNothingLive() frees everything} */
    public CachingAllocator track(CachingAllocator allocator) {
        subjects.add(new Subject() {
            @Override
            public void check(boolean nothingLive) {
                if (nothingLive) {
                    allocator.trim();
                    long reserved = allocator.statistics().reservedBytes();
                    if (reserved != 0) {
                        throw new AssertionError(allocator + ": " + reserved + " bytes still reserved after trim()");
                    }
                }
            }

            @Override
            public void release() {
                allocator.trim();
            }
        });
        return allocator;
    }

    /**
     * Declares that the test gives back every block it takes, so that none may be left in use once it
     * ends; call it anywhere in the test.
     */
    public void expectNothingLive() {
        nothingLive = true;
    }

    @Override
    public void afterTestExecution(ExtensionContext context) {
        if (context.getExecutionException().isPresent()) {
            return;
        }
        AssertionError failure = null;
        for (Subject subject : subjects) {
            try {
                subject.check(nothingLive);
            } catch (AssertionError | RuntimeException e) {
                if (failure == null) {
                    failure = new AssertionError("validation after " + context.getDisplayName() + ": "
                            + e.getMessage(), e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        RuntimeException failure = null;
        for (Subject subject : subjects.reversed()) {
            try {
                subject.release();
            } catch (RuntimeException e) { // the others are let go of all the same
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        subjects.clear();
        nothingLive = false;
        if (failure != null) {
            throw failure;
        }
    }

    private static void checkPool(BlockPool pool, boolean nothingLive, String name) {
        try {
            BlockPoolInspector.checkInvariants(pool);
            if (nothingLive) {
                BlockPoolInspector.checkNothingLive(pool);
            }
        } catch (AssertionError e) {
            throw new AssertionError(name + ": " + e.getMessage(), e);
        }
    }

    /** A closed heap's statistics have no bytes used or free (see {@link FixedHeap#statistics()}). */
    private static boolean isClosed(FixedHeap heap) {
        HeapStatistics statistics = heap.statistics();
        return statistics.usedBytes() == 0 && statistics.freeBytes() == 0;
    }
}
