package io.hce.memory.internal.cache;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.hce.memory.BucketCounter;
import io.hce.memory.CacheStatistics;
import io.hce.memory.internal.concurrent.LiveStates;
import io.hce.memory.internal.events.NativeEvents;
import io.hce.memory.internal.platform.NativeMemory;


/**
 * The books of one allocator: its depots, its live caches, and the totals of caches whose threads ended.
 *
 * <p>Every method is {@code synchronized}; none is on an allocation path (a cache is registered once per
 * thread, retired once, and read when statistics are asked for). Holding the lock while a cache is
 * retired means a snapshot sees its counters either in the live set or in the totals, never in both or
 * neither.
 */
final class CacheRegistry {

    private final SizeClasses sizes;
    private final String allocatorName;
    private final TransferDepot[] depots;
    @GuardedBy("this")
    private final LiveStates<ThreadCache> live = new LiveStates<>();
    @GuardedBy("this")
    private final CounterTotals ended;
    @GuardedBy("this")
    private boolean closed;

    CacheRegistry(SizeClasses sizes, String allocatorName) {
        this.sizes = sizes;
        this.allocatorName = allocatorName;
        this.ended = new CounterTotals(sizes.bucketCount());
        this.depots = new TransferDepot[sizes.bucketCount()];
        for (int b = 0; b < depots.length; b++) {
            int batch = sizes.batchSize(b);
            if (batch > 0) {
                // Room for two full thread caches' worth of blocks: enough to absorb a consumer's overflow
                // until a producer comes for it, and still a bound per bucket.
                int batches = Math.max(2, Integer.highestOneBit(2 * sizes.capacity(b) / batch));
                depots[b] = new TransferDepot(batch, batches);
            }
        }
    }

    /**
     * @param ownerId the owning platform thread's id, or -1 for a cache shared by virtual threads
     */
    synchronized ThreadCache newCache(long ownerId) {
        ThreadCache cache = new ThreadCache(ownerId, sizes, depots, allocatorName);
        live.add(cache);
        return cache;
    }

    /** The owner of {@code cache} has ended: free its blocks and keep its counters. */
    synchronized void retire(ThreadCache cache) {
        if (live.remove(cache)) {
            NativeEvents.threadCacheRetired(allocatorName, cache.ownerId, cache.release());
            cache.addTo(ended);
            cache.discard();
        }
    }

    /** The allocator is unreachable: free everything cached. */
    synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // a thread's cache is retired now, and its thread's watch lets this registry go; what is left are the
        // stripes virtual threads share, which no thread watches
        for (ThreadCache stripe : live.endAll()) {
            stripe.release();
        }
        drainDepots();
    }

    /**
     * Frees every block the depots hold; threads may go on moving batches meanwhile.
     *
     * @return the bytes freed
     */
    synchronized long drainDepots() {
        long freed = 0;
        for (int b = 0; b < depots.length; b++) {
            if (depots[b] != null) {
                long nativeSize = sizes.nativeSize(b);
                freed += depots[b].drain(address -> NativeMemory.free(address, nativeSize)) * nativeSize;
            }
        }
        ended.addDirect(0, 0, -freed); // the depots' blocks are no cache's to count down
        return freed;
    }

    /** @return the allocator's name, as its events give it */
    String allocatorName() {
        return allocatorName;
    }

    synchronized CacheStatistics statistics() {
        CounterTotals totals = new CounterTotals(sizes.bucketCount());
        totals.addAll(ended);
        for (ThreadCache cache : live) {
            cache.addTo(totals);
        }
        for (int b = 0; b < depots.length; b++) {
            if (depots[b] != null) {
                totals.add(b, BucketCounter.CACHED_BYTES, depots[b].blocks() * sizes.nativeSize(b));
            }
        }
        return totals.toStatistics(sizes);
    }

    long maxDepotBytes() {
        long bytes = 0;
        for (int b = 0; b < depots.length; b++) {
            if (depots[b] != null) {
                bytes += (long) depots[b].maxBatches() * depots[b].batchSize() * sizes.nativeSize(b);
            }
        }
        return bytes;
    }
}
