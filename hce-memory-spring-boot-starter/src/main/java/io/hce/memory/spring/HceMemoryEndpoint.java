package io.hce.memory.spring;

import io.hce.memory.CacheStatistics;
import io.hce.memory.CachingAllocator;
import io.hce.memory.FixedHeap;
import io.hce.memory.PoolAllocator;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Actuator endpoint {@code hcememory}: {@code GET /actuator/hcememory} gives the cache, every pool and
 * every heap; {@code GET /actuator/hcememory/{name}} one pool or heap (404 for an unknown name). Expose it
 * over HTTP with {@code management.endpoints.web.exposure.include=hcememory}.
 */
@Endpoint(id = "hcememory")
public final class HceMemoryEndpoint {

    private final CachingAllocator allocator;
    private final PoolAllocators pools;
    private final FixedHeaps heaps;

    /**
     * @param allocator the caching allocator
     * @param pools     the pools
     * @param heaps     the heaps
     */
    public HceMemoryEndpoint(CachingAllocator allocator, PoolAllocators pools, FixedHeaps heaps) {
        this.allocator = allocator;
        this.pools = pools;
        this.heaps = heaps;
    }

    /**
     * @return the whole picture, keyed {@code cache}, {@code pools}, {@code heaps}
     */
    @ReadOperation
    public MemoryReport memory() {
        Map<String, Object> poolStatistics = new LinkedHashMap<>();
        pools.asMap().forEach((name, pool) -> poolStatistics.put(name, pool.statistics()));
        Map<String, Object> heapStatistics = new LinkedHashMap<>();
        heaps.asMap().forEach((name, heap) -> heapStatistics.put(name, heap.statistics()));
        return new MemoryReport(allocator.statistics(), poolStatistics, heapStatistics);
    }

    /**
     * @param name a pool's or a heap's name
     * @return its statistics, or {@code null} (404) when there is none of that name
     */
    @ReadOperation
    public Object named(@Selector String name) {
        return pools.find(name).<Object>map(PoolAllocator::statistics)
                .orElseGet(() -> heaps.find(name).map(FixedHeap::statistics).orElse(null));
    }

    /**
     * The endpoint's whole answer.
     *
     * @param cache the caching allocator's statistics
     * @param pools each pool's statistics by name
     * @param heaps each heap's statistics by name
     */
    public record MemoryReport(CacheStatistics cache, Map<String, Object> pools, Map<String, Object> heaps) {
    }
}
