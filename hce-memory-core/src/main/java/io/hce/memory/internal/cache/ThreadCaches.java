package io.hce.memory.internal.cache;

import io.hce.memory.CacheInfo;
import io.hce.memory.CacheStatistics;
import io.hce.memory.internal.platform.Reclaimer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;

/**
 * The engine behind a {@code CachingAllocator}: finds the calling thread's cache and keeps the books.
 *
 * <h2>Which cache serves a call</h2>
 * A platform thread gets its own {@link ThreadCache} on first use. It is found through {@code byThread},
 * a table indexed by the low bits of the thread's id: one load and one compare of the cache's owner id,
 * cheaper than a {@link ThreadLocal} lookup. Thread ids are never reused, and a cache whose owner id is
 * the caller's was made by the caller, so a racy read of the table is safe: a stale or foreign entry fails
 * the compare. Threads whose slot another live thread holds fall back to a {@code ThreadLocal}. A virtual
 * thread never gets a cache: it borrows a stripe of {@link StripedCaches}. All caches of one allocator
 * share one {@link TransferDepot} per bucket.
 *
 * <h2>Lifecycle, without finalizers</h2>
 * Each new platform-thread cache is registered in {@link CacheRegistry}, and a {@link Cleaner} watches its
 * thread: once the thread has ended and been collected, the cache's blocks are freed and its counters are
 * folded into the registry's totals of ended threads. A second cleanable watches the owning allocator:
 * when it becomes unreachable, every cache and the depots are emptied, so dropping an allocator leaks
 * nothing. The owner calls {@link java.lang.ref.Reference#reachabilityFence} at the end of every
 * operation, so it cannot be found unreachable while one of its operations is still running.
 */
public final class ThreadCaches {

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(ThreadCache[].class);
    private static final int TABLE_SIZE = 256;

    private final SizeClasses sizes;
    private final CacheRegistry registry;
    private final StripedCaches striped;
    private final ThreadCache[] byThread = new ThreadCache[TABLE_SIZE];
    private final ThreadLocal<ThreadCache> local = new ThreadLocal<>();

    private ThreadCaches(CacheInfo info) {
        sizes = new SizeClasses(info);
        registry = new CacheRegistry(sizes);
        ThreadCache[] stripes = new ThreadCache[StripedCaches.stripeCountForThisMachine()];
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = registry.newCache(-1);
        }
        striped = new StripedCaches(stripes);
    }

    /**
     * Makes the engine of {@code owner}; its memory is reclaimed once {@code owner} is unreachable.
     *
     * @param info  the bucket layout
     * @param owner the allocator object whose reachability bounds the caches' lifetime
     * @return the engine
     */
    public static ThreadCaches create(CacheInfo info, Object owner) {
        ThreadCaches caches = new ThreadCaches(info);
        Reclaimer.CLEANER.register(owner, caches.registry::close);
        return caches;
    }

    /** @return the size classes */
    public SizeClasses sizes() {
        return sizes;
    }

    /**
     * @param bucket        {@code sizes().bucketOf(byteSize)}
     * @param byteSize      at least 1
     * @param byteAlignment a power of two
     * @return the address of a block of at least {@code byteSize} bytes aligned to {@code byteAlignment}
     */
    public long allocate(int bucket, long byteSize, long byteAlignment) {
        ThreadCache cache = callersCache();
        return cache != null
                ? cache.allocate(bucket, byteSize, byteAlignment)
                : striped.allocate(bucket, byteSize, byteAlignment);
    }

    /**
     * @param bucket   {@code sizes().bucketOf(byteSize)}
     * @param address  a block this engine handed out
     * @param byteSize the size it was requested with
     */
    public void deallocate(int bucket, long address, long byteSize) {
        ThreadCache cache = callersCache();
        if (cache != null) {
            cache.deallocate(bucket, address, byteSize);
        } else {
            striped.deallocate(bucket, address, byteSize);
        }
    }

    /**
     * Frees the calling platform thread's cached blocks (a virtual thread has none of its own) and the
     * blocks the shared depots hold.
     */
    public void trim() {
        ThreadCache cache = local.get(); // null for a virtual thread, and for a thread that never allocated
        if (cache != null) {
            cache.release();
        }
        registry.drainDepots();
    }

    /** @return the counters of every cache, live and ended, and of the depots */
    public CacheStatistics statistics() {
        return registry.statistics();
    }

    /** @return how many stripes virtual threads share */
    public int stripeCount() {
        return striped.stripeCount();
    }

    /** @return the most bytes the depots may hold, over all buckets */
    public long maxDepotBytes() {
        return registry.maxDepotBytes();
    }

    /** @return the calling platform thread's own cache, or {@code null} for a virtual thread */
    private ThreadCache callersCache() {
        Thread thread = Thread.currentThread();
        long id = thread.threadId();
        ThreadCache cache = byThread[(int) id & (TABLE_SIZE - 1)];
        if (cache != null && cache.ownerId == id) {
            return cache;
        }
        return thread.isVirtual() ? null : platformCache(thread);
    }

    /** The calling platform thread's cache, when the table does not have it: the slow path. */
    private ThreadCache platformCache(Thread thread) {
        ThreadCache cache = local.get();
        if (cache == null) {
            cache = registry.newCache(thread.threadId());
            local.set(cache);
            int slot = (int) thread.threadId() & (TABLE_SIZE - 1);
            ThreadCache previous = (ThreadCache) SLOT.getAcquire(byThread, slot);
            if (previous == null || previous.isRetired()) {
                SLOT.compareAndSet(byThread, slot, previous, cache); // lost the race: the ThreadLocal serves
            }
            CacheRegistry registry = this.registry;
            ThreadCache[] table = byThread;
            ThreadCache registered = cache;
            Reclaimer.CLEANER.register(thread, () -> {
                registry.retire(registered);
                SLOT.compareAndSet(table, slot, registered, null);
            });
        }
        return cache;
    }
}
