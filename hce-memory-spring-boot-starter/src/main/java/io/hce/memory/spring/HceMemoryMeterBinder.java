package io.hce.memory.spring;

import io.hce.memory.BucketCounter;
import io.hce.memory.CacheInfo;
import io.hce.memory.CacheStatistics;
import io.hce.memory.CachingAllocator;
import io.hce.memory.FixedHeap;
import io.hce.memory.HeapStatistics;
import io.hce.memory.PoolAllocator;
import io.hce.memory.PoolStatistics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Binds hce-memory's figures to Micrometer as function counters and gauges. Each allocator's meters read one
 * {@link StatisticsSnapshot}, so a scrape takes each allocator's statistics once, not once per meter. Every
 * bucket's meters exist from the start, so dashboards have no holes. A bucket's meters are its
 * {@link BucketCounter}s'; the README's meter table lists every meter with its description, and a test holds
 * it to what this binder registers.
 *
 * <p>The meters hold their snapshots, and this binder holds them strongly (Micrometer holds a meter's object
 * weakly): the allocators are beans, alive as long as the context.
 */
public final class HceMemoryMeterBinder implements MeterBinder {

    private static final String POOL_ALLOCATIONS = "Allocations from the pool: hit (a cached block) or miss (malloc)";

    private final CachingAllocator allocator;
    private final PoolAllocators pools;
    private final FixedHeaps heaps;
    private final List<StatisticsSnapshot<?>> snapshots = new CopyOnWriteArrayList<>();

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
        StatisticsSnapshot<CacheStatistics> cache = snapshot(allocator::statistics, registry);
        List<CacheInfo.Bucket> buckets = allocator.info().buckets();
        for (int b = 0; b < buckets.size(); b++) {
            int index = b;
            Tags bucket = Tags.of("bucket", Long.toString(buckets.get(b).blockSize()));
            for (BucketCounter counter : BucketCounter.values()) {
                Tags tags = bucket.and(counter.meterTags().entrySet().stream()
                        .map(tag -> Tag.of(tag.getKey(), tag.getValue())).toList());
                ToDoubleFunction<CacheStatistics> value = s -> counter.of(s.buckets().get(index));
                if (counter.isCumulative()) {
                    counter(counter.meterName(), cache, value, counter.meterDescription()).tags(tags).register(registry);
                } else {
                    gauge(counter.meterName(), cache, value, counter.unit(), counter.meterDescription()).tags(tags)
                            .register(registry);
                }
            }
        }
        gauge("hce.memory.reserved", cache, CacheStatistics::reservedBytes, BaseUnits.BYTES,
                "Bytes obtained from malloc and not yet freed, in use or cached").register(registry);
        counter("hce.memory.direct.allocations", cache, CacheStatistics::directAllocations,
                "Requests larger than every bucket, served by malloc directly").register(registry);
        counter("hce.memory.direct.frees", cache, CacheStatistics::directFrees,
                "Deallocations of blocks larger than every bucket, by free() directly").register(registry);
        FunctionCounter.builder("hce.memory.leaks", this, HceMemoryMeterBinder::leaks)
                .description("Blocks that became unreachable without being deallocated (leak detection)").register(registry);
        pools.asMap().forEach((name, pool) -> bindPool(registry, name, pool));
        heaps.asMap().forEach((name, heap) -> bindHeap(registry, name, heap));
    }

    private void bindPool(MeterRegistry registry, String name, PoolAllocator pool) {
        StatisticsSnapshot<PoolStatistics> statistics = snapshot(pool::statistics, registry);
        counter("hce.memory.pool.allocations", statistics, PoolStatistics::hits, POOL_ALLOCATIONS)
                .tags("pool", name, "result", "hit").register(registry);
        counter("hce.memory.pool.allocations", statistics, PoolStatistics::misses, POOL_ALLOCATIONS)
                .tags("pool", name, "result", "miss").register(registry);
        counter("hce.memory.pool.frees", statistics, PoolStatistics::frees,
                "Deallocations that called free() because the pool was full").tags("pool", name).register(registry);
        gauge("hce.memory.pool.cached", statistics, PoolStatistics::cachedBlocks, "blocks", "Blocks held for reuse")
                .tags("pool", name).register(registry);
    }

    private void bindHeap(MeterRegistry registry, String name, FixedHeap heap) {
        StatisticsSnapshot<HeapStatistics> statistics = snapshot(heap::statistics, registry);
        gauge("hce.memory.heap.used", statistics, HeapStatistics::usedBytes, BaseUnits.BYTES, "Bytes in allocated blocks")
                .tags("heap", name).register(registry);
        Gauge.builder("hce.memory.heap.capacity", heap, FixedHeap::capacity).baseUnit(BaseUnits.BYTES)
                .description("The heap's fixed size").tags("heap", name).register(registry);
        gauge("hce.memory.heap.largest.free", statistics, HeapStatistics::largestFreeBlock, BaseUnits.BYTES,
                "The largest free block's payload: no larger request fits without eviction (fragmentation)")
                .tags("heap", name).register(registry);
        counter("hce.memory.heap.evictions", statistics, HeapStatistics::evictions,
                "Blocks evicted to make room for a request").tags("heap", name).register(registry);
        counter("hce.memory.heap.failures", statistics, HeapStatistics::failures,
                "Requests that found no room (no free block fitted, or only pinned blocks were left to evict)")
                .tags("heap", name).register(registry);
    }

    private <T> StatisticsSnapshot<T> snapshot(Supplier<T> statistics, MeterRegistry registry) {
        StatisticsSnapshot<T> snapshot = new StatisticsSnapshot<>(statistics, registry.config().clock());
        snapshots.add(snapshot);
        return snapshot;
    }

    private double leaks() {
        return allocator.leaks() + pools.asMap().values().stream().mapToLong(PoolAllocator::leaks).sum();
    }

    private static <T> FunctionCounter.Builder<StatisticsSnapshot<T>> counter(String name,
            StatisticsSnapshot<T> snapshot, ToDoubleFunction<T> value, String description) {
        return FunctionCounter.builder(name, snapshot, s -> value.applyAsDouble(s.get())).description(description);
    }

    private static <T> Gauge.Builder<StatisticsSnapshot<T>> gauge(String name, StatisticsSnapshot<T> snapshot,
            ToDoubleFunction<T> value, String unit, String description) {
        return Gauge.builder(name, snapshot, s -> value.applyAsDouble(s.get())).baseUnit(unit).description(description);
    }
}
