package io.hce.memory.internal.cache;

import io.hce.memory.CacheInfo;
import io.hce.memory.CacheStatistics;
import io.hce.memory.internal.concurrent.ThreadTable;
import io.hce.memory.internal.events.NativeEvents;
import io.hce.memory.internal.platform.Reclaimer;

import java.lang.ref.Cleaner;

/**
 * The engine behind a {@code CachingAllocator}: finds the calling thread's cache and keeps the books.
 *
 * <h2>Which cache serves a call</h2>
 * A platform thread gets its own {@link ThreadCache} on first use, found through the {@link ThreadTable} this class extends. A
 * virtual thread never gets a cache: it borrows a stripe of {@link StripedCaches}. All caches of one
 * allocator share one {@link TransferDepot} per bucket.
 *
 * <h2>Lifecycle, without finalizers</h2>
 * Each new platform-thread cache is registered in {@link CacheRegistry}; once its thread has ended and been
 * collected, the table's {@link Cleaner} hands it back, and its blocks are freed and its counters folded
 * into the registry's totals of ended threads. A second cleanable watches the owning allocator:
 * when it becomes unreachable, every cache and the depots are emptied, so dropping an allocator leaks
 * nothing. The owner calls {@link java.lang.ref.Reference#reachabilityFence} at the end of every
 * operation, so it cannot be found unreachable while one of its operations is still running.
 */
public final class ThreadCaches extends ThreadTable<ThreadCache> {

    private final SizeClasses sizes;
    private final CacheRegistry registry;
    private final StripedCaches striped;

    private ThreadCaches(SizeClasses sizes, CacheRegistry registry) {
        // The table is this class's superclass, not a field: the hot path's lookup is one load shorter.
        super(registry::newCache, registry::retire);
        this.sizes = sizes;
        this.registry = registry;
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
     * @param name  the allocator's name in events
     * @return the engine
     */
    public static ThreadCaches create(CacheInfo info, Object owner, String name) {
        SizeClasses sizes = new SizeClasses(info);
        ThreadCaches caches = new ThreadCaches(sizes, new CacheRegistry(sizes, name));
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
        ThreadCache cache = get();
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
        ThreadCache cache = get();
        if (cache != null) {
            cache.deallocate(bucket, address, byteSize);
        } else {
            striped.deallocate(bucket, address, byteSize);
        }
    }

    /**
     * Frees the calling platform thread's cached blocks (a virtual thread has none of its own), the blocks
     * the shared depots hold, and those of the stripes that virtual threads share.
     */
    public void trim() {
        ThreadCache cache = peek(); // null for a virtual thread, and for a thread that never allocated
        long released = cache != null ? cache.release() : 0;
        released += registry.drainDepots();
        released += striped.trim();
        NativeEvents.threadCacheTrimmed(registry.allocatorName(), released);
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
}
