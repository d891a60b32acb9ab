package io.hce.memory.internal.cache;

import io.hce.memory.CacheInfo;
import io.hce.memory.CacheStatistics;
import io.hce.memory.testing.PrivateFields;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

class ThreadCachesTest {

    @Test
    void everythingCachedIsFreedOnceTheOwnerIsUnreachable() {
        ThreadCaches caches = cachesOfAnOwnerThatIsDropped();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (caches.statistics().reservedBytes() != 0) {
            if (System.nanoTime() > deadline) {
                fail("not reclaimed after the owner was dropped: " + caches.statistics());
            }
            System.gc();
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
        assertEquals(0, caches.statistics().cachedBytes());
    }

    @Test
    void aDroppedOwnersBooksAreNotKeptByTheThreadsThatUsedItAndLiveOn() throws Exception {
        try (var other = java.util.concurrent.Executors.newSingleThreadExecutor()) {
            java.lang.ref.WeakReference<CacheRegistry> registry = registryOfAnOwnerDroppedAfterUseBy(other);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (registry.get() != null) {
                if (System.nanoTime() > deadline) {
                    fail("the books of a dropped allocator are still reachable: live threads' watches hold them");
                }
                System.gc();
                LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
            }
        }
    }

    private static java.lang.ref.WeakReference<CacheRegistry> registryOfAnOwnerDroppedAfterUseBy(
            java.util.concurrent.ExecutorService other) throws Exception {
        Object owner = new Object();
        ThreadCaches caches = ThreadCaches.create(CacheInfo.defaults(), owner, "test");
        caches.deallocate(3, caches.allocate(3, 8, 1), 8);
        other.submit(() -> caches.deallocate(3, caches.allocate(3, 8, 1), 8)).get();
        java.lang.ref.Reference.reachabilityFence(owner); // the caches may not be reclaimed while in use
        return new java.lang.ref.WeakReference<>(PrivateFields.read(caches, "registry", CacheRegistry.class));
    }

    private static ThreadCaches cachesOfAnOwnerThatIsDropped() {
        Object owner = new Object();
        ThreadCaches caches = ThreadCaches.create(new CacheInfo(List.of(new CacheInfo.Bucket(64, 128))), owner, "test");
        long[] blocks = new long[10];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = caches.allocate(0, 64, 1);
        }
        for (long block : blocks) {
            caches.deallocate(0, block, 64); // 2 stay in this thread's cache, 4 go to the depot, 4 are freed
        }
        CacheStatistics statistics = caches.statistics();
        assertEquals(6 * 64, statistics.reservedBytes());
        assertEquals(6 * 64, statistics.cachedBytes());
        java.lang.ref.Reference.reachabilityFence(owner); // dropped from here on, not before
        return caches;
    }

    /** More live threads than the thread table has slots: the ones that collide are served by the ThreadLocal. */
    @Test
    void threadsBeyondTheTableGetCachesOfTheirOwn() throws InterruptedException {
        ThreadCaches caches = ThreadCaches.create(CacheInfo.defaults(), this, "test");
        int threads = 600;
        CountDownLatch allocated = new CountDownLatch(threads);
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        AtomicInteger sameBlockBack = new AtomicInteger();
        for (int t = 0; t < threads; t++) {
            started.add(Thread.ofPlatform().start(() -> {
                long first;
                try {
                    first = caches.allocate(6, 64, 1);
                    caches.deallocate(6, first, 64);
                } finally {
                    allocated.countDown(); // even on failure, so the test fails instead of hanging
                }
                await(release); // every thread stays alive, so their ids occupy the table at once
                long second = caches.allocate(6, 64, 1);
                if (second == first) {
                    sameBlockBack.incrementAndGet();
                }
                caches.deallocate(6, second, 64);
            }));
        }
        allocated.await();
        release.countDown();
        for (Thread thread : started) {
            thread.join();
        }
        var bucket = caches.statistics().buckets().get(6);
        assertEquals(threads, bucket.misses());
        assertEquals(threads, bucket.hits());
        assertEquals(threads, sameBlockBack.get(), "each thread's own freed block comes back to it");
        assertEquals(caches.statistics().cachedBytes(), caches.statistics().reservedBytes());
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
