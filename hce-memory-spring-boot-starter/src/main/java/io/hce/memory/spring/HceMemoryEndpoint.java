package io.hce.memory.spring;

import io.hce.memory.AllocationSite;
import io.hce.memory.AllocatorOptions;
import io.hce.memory.CacheStatistics;
import io.hce.memory.CachingAllocator;
import io.hce.memory.FixedHeap;
import io.hce.memory.HeapStatistics;
import io.hce.memory.PoolAllocator;
import io.hce.memory.PoolStatistics;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Actuator endpoint {@code hcememory}: {@code GET /actuator/hcememory} gives the cache, every pool and
 * every heap; {@code GET /actuator/hcememory/{name}} one pool or heap (404 for an unknown name);
 * {@code GET /actuator/hcememory/profile} the allocation sites holding the most live native memory, from what
 * leak detection samples ({@value #PROFILE} is therefore not a pool or heap name). Expose it over HTTP with
 * {@code management.endpoints.web.exposure.include=hcememory}.
 */
@Endpoint(id = "hcememory")
public final class HceMemoryEndpoint {

    /** The selector of the live profile, reserved: no pool or heap may have this name. */
    public static final String PROFILE = "profile";
    /** The most sites the profile lists. */
    static final int PROFILE_SITES = 50;

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
        Map<String, PoolStatistics> poolStatistics = new LinkedHashMap<>();
        pools.asMap().forEach((name, pool) -> poolStatistics.put(name, pool.statistics()));
        Map<String, HeapStatistics> heapStatistics = new LinkedHashMap<>();
        heaps.asMap().forEach((name, heap) -> heapStatistics.put(name, heap.statistics()));
        return new MemoryReport(allocator.statistics(), poolStatistics, heapStatistics);
    }

    /**
     * @param name a pool's or a heap's name
     * @return its statistics, or {@code null} (404) when there is none of that name
     */
    @ReadOperation
    public Object named(@Selector String name) {
        if (PROFILE.equals(name)) {
            return profile();
        }
        return pools.find(name).<Object>map(PoolAllocator::statistics)
                .orElseGet(() -> heaps.find(name).map(FixedHeap::statistics).orElse(null));
    }

    /**
     * @return the allocation sites of the cache and the pools that hold the most sampled live bytes, most first
     */
    ProfileReport profile() {
        AllocatorOptions options = allocator.options();
        List<ProfiledSite> sites = new ArrayList<>();
        allocator.profile().forEach(site -> sites.add(ProfiledSite.of("cache", site)));
        pools.asMap().forEach((name, pool) -> pool.profile().forEach(site -> sites.add(ProfiledSite.of("pool " + name, site))));
        sites.sort(Comparator.comparingLong(ProfiledSite::estimatedBytes).reversed());
        int scale = options.allocationsPerWatchedBlock();
        return new ProfileReport(options.leakDetection().name().toLowerCase(Locale.ROOT), options.checked(), scale,
                sites.subList(0, Math.min(PROFILE_SITES, sites.size())),
                scale != 0 ? null : "no allocation is watched: set hce.memory.leak-detection=sampled (cheap enough for"
                        + " production) or paranoid to see which code holds native memory");
    }

    /**
     * The live profile: like the heap profiles of tcmalloc and jemalloc, sites by estimated live bytes.
     *
     * @param leakDetection    the allocators' leak detection mode, which decides what is sampled
     * @param checked          whether checked mode is on (it watches every block)
     * @param samplingInterval allocations per watched one: the factor from sampled to estimated bytes (0: none watched)
     * @param sites            the sites holding the most, at most {@value #PROFILE_SITES}, most first
     * @param hint             how to turn watching on, when nothing is watched; {@code null} otherwise
     */
    public record ProfileReport(String leakDetection, boolean checked, int samplingInterval, List<ProfiledSite> sites,
                                String hint) {
    }

    /**
     * One site of the profile.
     *
     * @param allocator      {@code cache}, or {@code pool <name>}
     * @param site           the first frame outside hce-memory
     * @param stack          the frames from there, at most {@value AllocationSite#MAX_FRAMES}
     * @param sampledBlocks  watched live blocks allocated there
     * @param sampledBytes   their bytes
     * @param estimatedBytes the live bytes allocated there, estimated from the sample
     */
    public record ProfiledSite(String allocator, String site, List<String> stack, long sampledBlocks, long sampledBytes,
                               long estimatedBytes) {

        static ProfiledSite of(String allocator, AllocationSite site) {
            return new ProfiledSite(allocator, site.site(), site.stack().stream().map(StackTraceElement::toString).toList(),
                    site.sampledBlocks(), site.sampledBytes(), site.estimatedBytes());
        }
    }

    /**
     * The endpoint's whole answer.
     *
     * @param cache the caching allocator's statistics
     * @param pools each pool's statistics by name
     * @param heaps each heap's statistics by name
     */
    public record MemoryReport(CacheStatistics cache, Map<String, PoolStatistics> pools,
                               Map<String, HeapStatistics> heaps) {
    }
}
