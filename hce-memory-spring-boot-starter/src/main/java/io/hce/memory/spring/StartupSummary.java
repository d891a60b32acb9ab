package io.hce.memory.spring;

import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.hce.memory.FixedHeap;
import io.hce.memory.PoolAllocator;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Logs, once the context's singletons exist, one INFO line that says what hce-memory was configured with, as
 * Netty logs its allocator's settings: the buckets, the most the caches can hold for the platform threads
 * running now (each platform thread that allocates gets a cache), every pool and heap, and the debugging aids.
 * The figures are read from the beans, so an application's own {@code CacheInfo} or allocator is what is
 * shown.
 */
final class StartupSummary implements SmartInitializingSingleton {

    private static final Log LOG = LogFactory.getLog(StartupSummary.class);

    private final CachingAllocator allocator;
    private final PoolAllocators pools;
    private final FixedHeaps heaps;

    StartupSummary(CachingAllocator allocator, PoolAllocators pools, FixedHeaps heaps) {
        this.allocator = allocator;
        this.pools = pools;
        this.heaps = heaps;
    }

    @Override
    public void afterSingletonsInstantiated() {
        if (LOG.isInfoEnabled()) {
            // ThreadMXBean counts platform threads only: virtual threads share a few caches (counted by the core)
            LOG.info(line(allocator, pools.asMap(), heaps.asMap(), ManagementFactory.getThreadMXBean().getThreadCount()));
        }
    }

    /**
     * @param platformThreads the platform threads the caches' bound is figured for
     * @return the line, e.g. {@code hce-memory: 13 buckets of 1B to 4KB, 64KB each, at most 7.2MB cached with
     *         25 platform threads; pools: entries (24B blocks aligned to 16B, capacity 4096, 4096 cached);
     *         heaps: items (64MB, 8 shards); checked mode off, leak detection off}
     */
    static String line(CachingAllocator allocator, Map<String, PoolAllocator> pools, Map<String, FixedHeap> heaps,
                       int platformThreads) {
        List<CacheInfo.Bucket> buckets = allocator.info().buckets();
        long leastLimit = buckets.stream().mapToLong(CacheInfo.Bucket::byteLimit).min().orElseThrow();
        long mostLimit = buckets.stream().mapToLong(CacheInfo.Bucket::byteLimit).max().orElseThrow();
        String limits = leastLimit == mostLimit ? SizeText.of(mostLimit) + " each"
                : "byte limits " + SizeText.of(leastLimit) + " to " + SizeText.of(mostLimit);
        String poolText = pools.isEmpty() ? "none" : pools.entrySet().stream().map(entry -> {
            PoolAllocator pool = entry.getValue();
            return entry.getKey() + " (" + SizeText.of(pool.blockSize()) + " blocks aligned to "
                    + SizeText.of(pool.blockAlignment()) + ", capacity " + pool.capacity()
                    + (pool.statistics().cachedBlocks() > 0 ? ", " + pool.statistics().cachedBlocks() + " cached" : "")
                    + ")";
        }).collect(Collectors.joining(", "));
        String heapText = heaps.isEmpty() ? "none" : heaps.entrySet().stream()
                .map(entry -> entry.getKey() + " (" + SizeText.of(entry.getValue().capacity()) + ", "
                        + entry.getValue().shards() + (entry.getValue().shards() == 1 ? " shard)" : " shards)"))
                .collect(Collectors.joining(", "));
        return "hce-memory: " + buckets.size() + " buckets of " + SizeText.of(buckets.getFirst().blockSize()) + " to "
                + SizeText.of(allocator.info().maxBlockSize()) + ", " + limits + ", at most "
                + SizeText.of(allocator.maxCachedBytes(platformThreads)) + " cached with " + platformThreads
                + " platform threads; pools: " + poolText + "; heaps: " + heapText + "; checked mode "
                + (allocator.options().checked() ? "on" : "off") + ", leak detection "
                + allocator.options().leakDetection().name().toLowerCase(Locale.ROOT);
    }
}
