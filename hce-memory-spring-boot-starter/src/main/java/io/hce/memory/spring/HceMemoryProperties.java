package io.hce.memory.spring;

import io.hce.memory.AllocatorOptions;
import io.hce.memory.CacheInfo;
import io.hce.memory.FixedHeap;
import io.hce.memory.LeakDetection;
import io.hce.memory.PoolAllocator;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Configuration of hce-memory, under {@code hce.memory}. Every value is checked when it is bound, by the core's
 * own argument checks ({@link ArgumentProperties} relates their parameters to these properties): a bad one
 * stops start-up with a message that names the property, its value and the reason, before any allocator is
 * made. Keys that none of these records has stop start-up too, naming the keys they have.
 *
 * <p>The {@code @param} texts are the configuration metadata's descriptions (an IDE shows them): plain
 * sentences, no Javadoc tags.
 *
 * @param enabled       Whether to create hce-memory's beans at all.
 * @param checked       Whether allocators run in checked mode: double frees, foreign and resized segments and
 *                      writes after free are reported with the allocation stack (expensive).
 * @param leakDetection Which allocations are watched for leaks: off, sampled (1 in 128) or paranoid (all).
 * @param cache         Thread caches of the CachingAllocator.
 * @param pools         Pools by name: one PoolAllocator bean per entry, named by its key.
 * @param heaps         Heaps by name: one FixedHeap bean per entry, named by its key.
 * @param metrics       Micrometer meters.
 */
@ConfigurationProperties(HceMemoryProperties.PREFIX)
public record HceMemoryProperties(@DefaultValue("true") boolean enabled, @DefaultValue("false") boolean checked,
                                  @DefaultValue("off") LeakDetection leakDetection, @DefaultValue Cache cache,
                                  Map<String, Pool> pools, Map<String, Heap> heaps, @DefaultValue Metrics metrics) {

    /** The prefix of every property here. */
    public static final String PREFIX = "hce.memory";

    /**
     * @throws IllegalArgumentException naming the property, its value and the reason, if a pool or heap is
     *                                  invalid or has a blank name
     */
    public HceMemoryProperties {
        pools = pools == null ? Map.of() : Map.copyOf(pools);
        heaps = heaps == null ? Map.of() : Map.copyOf(heaps);
        pools.forEach((name, pool) -> pool.check(name));
        heaps.forEach((name, heap) -> heap.check(name));
    }

    /** @return the debugging aids every allocator of the context gets */
    public AllocatorOptions allocatorOptions() {
        return new AllocatorOptions(checked, leakDetection);
    }

    /**
     * The thread caches: hce's two cmake settings, and per-bucket overrides (a custom {@code get_info()}).
     *
     * @param bucketCount     Number of power-of-two buckets: blocks of 1 B, 2 B, 4 B and so on up to 2^(count-1) B.
     * @param bucketByteLimit Bytes one thread caches per bucket.
     * @param buckets         Per-bucket overrides of block size and byte limit, by index (0 is the 1-byte bucket).
     */
    public record Cache(@DefaultValue("13") int bucketCount, @DefaultValue("64KB") DataSize bucketByteLimit,
                        Map<Integer, Bucket> buckets) {

        /**
         * @throws IllegalArgumentException naming the property, its value and the reason, if the buckets
         *                                  do not make a valid {@link CacheInfo}
         */
        public Cache {
            buckets = buckets == null ? Map.of() : Map.copyOf(buckets);
            toCacheInfo(bucketCount, bucketByteLimit, buckets);
        }

        /** @return the cache layout these properties describe */
        public CacheInfo toCacheInfo() {
            return toCacheInfo(bucketCount, bucketByteLimit, buckets);
        }

        private static CacheInfo toCacheInfo(int bucketCount, DataSize bucketByteLimit, Map<Integer, Bucket> overrides) {
            String prefix = PREFIX + ".cache.";
            ArgumentProperties cache = new ArgumentProperties(prefix + "buckets", Map.of("bucketCount",
                    prefix + "bucket-count", "bucketByteLimit", prefix + "bucket-byte-limit", "buckets", prefix + "buckets"));
            List<CacheInfo.Bucket> buckets = new ArrayList<>(
                    cache.make(() -> CacheInfo.of(bucketCount, bucketByteLimit.toBytes())).buckets());
            for (Map.Entry<Integer, Bucket> entry : overrides.entrySet()) {
                int index = entry.getKey();
                String property = prefix + "buckets." + index;
                if (index < 0 || index >= bucketCount) {
                    throw HceMemoryConfigurationException.invalid(property, null, "unknown bucket index " + index
                            + ", there are " + bucketCount + " buckets (0 … " + (bucketCount - 1) + ")");
                }
                Bucket override = entry.getValue();
                CacheInfo.Bucket bucket = buckets.get(index);
                long blockSize = override.blockSize() != null ? override.blockSize().toBytes() : bucket.blockSize();
                long byteLimit = override.byteLimit() != null ? override.byteLimit().toBytes() : bucket.byteLimit();
                ArgumentProperties overridden = new ArgumentProperties(property,
                        Map.of("blockSize", property + ".block-size", "byteLimit", property + ".byte-limit"));
                buckets.set(index, overridden.make(() -> new CacheInfo.Bucket(blockSize, byteLimit)));
            }
            return cache.make(() -> new CacheInfo(buckets));
        }
    }

    /**
     * An override of one bucket; an unset value keeps the power-of-two default.
     *
     * @param blockSize Block size of the bucket.
     * @param byteLimit Bytes one thread caches in the bucket.
     */
    public record Bucket(DataSize blockSize, DataSize byteLimit) {
    }

    /**
     * A {@code PoolAllocator}.
     *
     * @param blockSize   Size of every block of the pool.
     * @param alignment   Alignment of every block of the pool: a power of two; a number without a unit is bytes.
     * @param capacity    Most blocks the pool keeps for reuse.
     * @param preallocate Whether to fill the pool to its capacity at start-up.
     */
    public record Pool(DataSize blockSize, @DefaultValue("16B") DataSize alignment, @DefaultValue("64") int capacity,
                       @DefaultValue("false") boolean preallocate) {

        void check(String name) {
            if (blockSize == null) {
                throw HceMemoryConfigurationException.invalid(PREFIX + ".pools." + name + ".block-size", null, "must be set");
            }
            arguments(name).check(() -> PoolAllocator.checkArguments(name, blockSize.toBytes(), alignment.toBytes(), capacity));
        }

        /** @return the properties of pool {@code name} that supply {@code PoolAllocator}'s parameters */
        private static ArgumentProperties arguments(String name) {
            String prefix = PREFIX + ".pools." + name + ".";
            return new ArgumentProperties(PREFIX + ".pools", Map.of("blockSize", prefix + "block-size",
                    "blockAlignment", prefix + "alignment", "capacity", prefix + "capacity"));
        }
    }

    /**
     * A {@code FixedHeap}.
     *
     * @param capacity Size of the heap's native region.
     */
    public record Heap(DataSize capacity) {

        /** Checked here, not left to {@code FixedHeap.create}, so that no heap's region is taken before all are valid. */
        void check(String name) {
            if (capacity == null) {
                throw HceMemoryConfigurationException.invalid(PREFIX + ".heaps." + name + ".capacity", null, "must be set");
            }
            arguments(name).check(() -> FixedHeap.checkArguments(name, capacity.toBytes()));
        }

        /** @return the properties of heap {@code name} that supply {@code FixedHeap}'s parameters */
        private static ArgumentProperties arguments(String name) {
            return new ArgumentProperties(PREFIX + ".heaps", Map.of("capacity", PREFIX + ".heaps." + name + ".capacity"));
        }
    }

    /**
     * The Micrometer meters.
     *
     * @param enabled Whether to register hce-memory's meters when a MeterRegistry exists.
     */
    public record Metrics(@DefaultValue("true") boolean enabled) {
    }
}
