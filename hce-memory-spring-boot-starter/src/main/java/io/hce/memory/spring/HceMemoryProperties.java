package io.hce.memory.spring;

import io.hce.memory.AllocatorOptions;
import io.hce.memory.CacheInfo;
import io.hce.memory.FixedHeap;
import io.hce.memory.LeakDetection;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Configuration of hce-memory, under {@code hce.memory}. Every value is checked when it is bound: a bad one
 * stops start-up with a message that names the property, its value and the reason.
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
@ConfigurationProperties("hce.memory")
public record HceMemoryProperties(@DefaultValue("true") boolean enabled, @DefaultValue("false") boolean checked,
                                  @DefaultValue("off") LeakDetection leakDetection, @DefaultValue Cache cache, Map<String, Pool> pools, Map<String, Heap> heaps,
                                  @DefaultValue Metrics metrics) {

    /** @return the debugging aids every allocator of the context gets */
    public AllocatorOptions allocatorOptions() {
        return new AllocatorOptions(checked, leakDetection);
    }

    /** The prefix of every property here. */
    public static final String PREFIX = "hce.memory";

    /**
     * @throws IllegalArgumentException naming the property, if a pool or heap name is blank
     */
    public HceMemoryProperties {
        pools = pools == null ? Map.of() : Map.copyOf(pools);
        heaps = heaps == null ? Map.of() : Map.copyOf(heaps);
        for (String name : pools.keySet()) {
            requireName(name, "pools");
        }
        for (String name : heaps.keySet()) {
            requireName(name, "heaps");
            heaps.get(name).check(name);
        }
        for (Map.Entry<String, Pool> pool : pools.entrySet()) {
            pool.getValue().check(pool.getKey());
        }
    }

    private static void requireName(String name, String kind) {
        if (name.isBlank()) {
            throw new IllegalArgumentException(PREFIX + "." + kind + ": a name must not be blank");
        }
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
            if (bucketCount < 1 || bucketCount > CacheInfo.MAX_POWER_OF_TWO_BUCKETS) {
                throw new IllegalArgumentException(prefix + "bucket-count=" + bucketCount + ": must be between 1 and "
                        + CacheInfo.MAX_POWER_OF_TWO_BUCKETS);
            }
            if (bucketByteLimit.isNegative()) {
                throw new IllegalArgumentException(prefix + "bucket-byte-limit=" + bucketByteLimit + ": must not be negative");
            }
            List<CacheInfo.Bucket> buckets = new ArrayList<>(CacheInfo.of(bucketCount, bucketByteLimit.toBytes()).buckets());
            for (Map.Entry<Integer, Bucket> entry : overrides.entrySet()) {
                int index = entry.getKey();
                String property = prefix + "buckets." + index;
                if (index < 0 || index >= bucketCount) {
                    throw new IllegalArgumentException(property + ": unknown bucket index " + index + ", there are "
                            + bucketCount + " buckets (0 … " + (bucketCount - 1) + ")");
                }
                Bucket override = entry.getValue();
                CacheInfo.Bucket bucket = buckets.get(index);
                long blockSize = override.blockSize() != null ? override.blockSize().toBytes() : bucket.blockSize();
                long byteLimit = override.byteLimit() != null ? override.byteLimit().toBytes() : bucket.byteLimit();
                try {
                    buckets.set(index, new CacheInfo.Bucket(blockSize, byteLimit));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(property + " (block-size=" + blockSize + ", byte-limit="
                            + byteLimit + "): " + e.getMessage()); // the message says it all: no cause
                }
            }
            try {
                return new CacheInfo(buckets);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(prefix + "buckets: " + e.getMessage()); // no cause, as above
            }
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
            String prefix = PREFIX + ".pools." + name + ".";
            if (blockSize == null || blockSize.toBytes() < 1) {
                throw new IllegalArgumentException(prefix + "block-size=" + blockSize + ": must be at least 1 byte");
            }
            if (alignment.toBytes() < 1 || Long.bitCount(alignment.toBytes()) != 1) {
                throw new IllegalArgumentException(prefix + "alignment=" + alignment + ": must be a power of two");
            }
            if (capacity < 1) {
                throw new IllegalArgumentException(prefix + "capacity=" + capacity + ": must be at least 1");
            }
        }
    }

    /**
     * A {@code FixedHeap}.
     *
     * @param capacity Size of the heap's native region.
     */
    public record Heap(DataSize capacity) {

        void check(String name) {
            String property = PREFIX + ".heaps." + name + ".capacity";
            if (capacity == null || capacity.toBytes() < FixedHeap.MIN_CAPACITY || capacity.toBytes() > FixedHeap.MAX_CAPACITY) {
                throw new IllegalArgumentException(property + "=" + capacity + ": must be between "
                        + FixedHeap.MIN_CAPACITY + " B and " + DataSize.ofBytes(FixedHeap.MAX_CAPACITY).toGigabytes() + "GB");
            }
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
