package io.hce.memory.spring;

import io.hce.memory.BucketStatistics;
import io.hce.memory.CachingAllocator;
import io.hce.memory.FixedHeap;
import io.hce.memory.PoolAllocator;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Binds hce-memory's figures to Micrometer as function counters and gauges that read the live statistics
 * when the registry asks, holding the allocators weakly as Micrometer does by default. Every bucket's
 * meters exist from the start, so dashboards have no holes.
 *
 * <pre>
 *   hce.memory.cache.allocations  {bucket, result=hit|miss}   counter
 *   hce.memory.cache.frees        {bucket}                    counter
 *   hce.memory.cache.cached       {bucket}                    gauge, bytes
 *   hce.memory.reserved                                       gauge, bytes
 *   hce.memory.leaks                                          counter (leak detection)
 *   hce.memory.pool.allocations   {pool, result=hit|miss}     counter
 *   hce.memory.pool.frees         {pool}                      counter
 *   hce.memory.pool.cached        {pool}                      gauge, blocks
 *   hce.memory.heap.used / .capacity {heap}                   gauge, bytes
 *   hce.memory.heap.evictions / .failures {heap}              counter
 *   hce.memory.heap.largest.free {heap}                       gauge, bytes
 * </pre>
 */
public final class HceMemoryMeterBinder implements MeterBinder {

    private static final String ALLOCATIONS = "Allocations, served by a cache (hit) or by malloc (miss)";

    private final CachingAllocator allocator;
    private final PoolAllocators pools;
    private static final String POOL_ALLOCATIONS = "Allocations from the pool: hit (a cached block) or miss (malloc)";

    private final FixedHeaps heaps;

    /**
     * @param allocator the caching allocator
     * @param pools     the pools
     * @param heaps     the heaps
     */
    public HceMemoryMeterBinder(CachingAllocator allocator, PoolAllocators pools, FixedHeaps heaps) {
        this.allocator = allocator;
        this.pools = pools;
        this.heaps = heaps;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        List<BucketStatistics> buckets = allocator.statistics().buckets();
        for (int b = 0; b < buckets.size(); b++) {
            int index = b;
            String bucket = Long.toString(buckets.get(b).blockSize());
            FunctionCounter.builder("hce.memory.cache.allocations", allocator, a -> bucket(a, index).hits())
                    .tags("bucket", bucket, "result", "hit").description(ALLOCATIONS)
                    .register(registry);
            FunctionCounter.builder("hce.memory.cache.allocations", allocator, a -> bucket(a, index).misses())
                    .tags("bucket", bucket, "result", "miss").description(ALLOCATIONS)
                    .register(registry);
            FunctionCounter.builder("hce.memory.cache.frees", allocator, a -> bucket(a, index).frees())
                    .tags("bucket", bucket).description("Deallocations that called free() because the caches were full")
                    .register(registry);
            gauge(registry, "hce.memory.cache.cached", allocator, a -> bucket(a, index).cachedBytes(), BaseUnits.BYTES,
                    "Bytes held in the caches").tags("bucket", bucket).register(registry);
        }
        gauge(registry, "hce.memory.reserved", allocator, a -> a.statistics().reservedBytes(), BaseUnits.BYTES,
                "Bytes obtained from malloc and not yet freed, in use or cached").register(registry);
        FunctionCounter.builder("hce.memory.leaks", this, HceMemoryMeterBinder::leaks)
                .description("Blocks that became unreachable without being deallocated (leak detection)").register(registry);
        pools.asMap().forEach((name, pool) -> bindPool(registry, name, pool));
        heaps.asMap().forEach((name, heap) -> bindHeap(registry, name, heap));
    }

    private static void bindPool(MeterRegistry registry, String name, PoolAllocator pool) {
        FunctionCounter.builder("hce.memory.pool.allocations", pool, p -> p.statistics().hits())
                .tags("pool", name, "result", "hit").description(POOL_ALLOCATIONS).register(registry);
        FunctionCounter.builder("hce.memory.pool.allocations", pool, p -> p.statistics().misses())
                .tags("pool", name, "result", "miss").description(POOL_ALLOCATIONS).register(registry);
        FunctionCounter.builder("hce.memory.pool.frees", pool, p -> p.statistics().frees())
                .tags("pool", name).description("Deallocations that called free() because the pool was full")
                .register(registry);
        gauge(registry, "hce.memory.pool.cached", pool, p -> p.statistics().cachedBlocks(), "blocks",
                "Blocks held for reuse").tags("pool", name).register(registry);
    }

    private static void bindHeap(MeterRegistry registry, String name, FixedHeap heap) {
        gauge(registry, "hce.memory.heap.used", heap, h -> h.statistics().usedBytes(), BaseUnits.BYTES,
                "Bytes in allocated blocks").tags("heap", name).register(registry);
        gauge(registry, "hce.memory.heap.capacity", heap, FixedHeap::capacity, BaseUnits.BYTES,
                "The heap's fixed size").tags("heap", name).register(registry);
        gauge(registry, "hce.memory.heap.largest.free", heap, h -> h.statistics().largestFreeBlock(), BaseUnits.BYTES,
                "The largest free block's payload: no larger request fits without eviction (fragmentation)")
                .tags("heap", name).register(registry);
        FunctionCounter.builder("hce.memory.heap.evictions", heap, h -> h.statistics().evictions())
                .tags("heap", name).description("Blocks evicted to make room for a request").register(registry);
        FunctionCounter.builder("hce.memory.heap.failures", heap, h -> h.statistics().failures())
                .tags("heap", name).description("Requests that found no room (no free block fitted, or only pinned"
                        + " blocks were left to evict)").register(registry);
    }

    private double leaks() {
        return allocator.leaks() + pools.asMap().values().stream().mapToLong(PoolAllocator::leaks).sum();
    }

    private static BucketStatistics bucket(CachingAllocator allocator, int index) {
        return allocator.statistics().buckets().get(index);
    }

    private static <T> Gauge.Builder<T> gauge(MeterRegistry registry, String name, T object, ToDoubleFunction<T> value,
                                              String unit, String description) {
        return Gauge.builder(name, object, value).baseUnit(unit).description(description);
    }
}
