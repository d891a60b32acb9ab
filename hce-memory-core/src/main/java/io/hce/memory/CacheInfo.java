package io.hce.memory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How the thread caches of a {@link CachingAllocator} are laid out: the buckets, each with the size of
 * the blocks it holds and how many bytes of them one cache may keep. This is hce's
 * {@code hce::config::memory::cache::info}; building one by hand is the Java form of a custom
 * {@code get_info()}.
 *
 * <p>A request of {@code n} bytes is served by the first bucket whose block size is at least {@code n};
 * larger requests bypass the caches. Block sizes need not be powers of two.
 *
 * <pre>{@code
 * CacheInfo info = new CacheInfo(List.of(
 *         new CacheInfo.Bucket(64, 1 << 20),     // many 64-byte blocks
 *         new CacheInfo.Bucket(256, 64 << 10),
 *         new CacheInfo.Bucket(1500, 256 << 10))); // network frames
 * }</pre>
 *
 * @param buckets the buckets, by strictly increasing block size; between 1 and {@link #MAX_BUCKETS}
 */
public record CacheInfo(List<Bucket> buckets) {

    /** The most buckets a cache may have. */
    public static final int MAX_BUCKETS = 64;

    /** The largest block size a bucket may have (1 GiB): larger blocks do not belong in a thread cache. */
    public static final long MAX_BLOCK_SIZE = 1L << 30;

    /** hce's default bucket count ({@code HCETHREADLOCALMEMORYBUCKETCOUNT}): blocks of 1 B … 4 KiB. */
    public static final int DEFAULT_BUCKET_COUNT = 13;

    /** hce's default byte limit per bucket ({@code HCETHREADLOCALMEMORYBUCKETBYTELIMIT}): 64 KiB. */
    public static final long DEFAULT_BUCKET_BYTE_LIMIT = 64 * 1024;

    /** The most power-of-two buckets {@link #of} makes: 1 B … {@link #MAX_BLOCK_SIZE}. */
    public static final int MAX_POWER_OF_TWO_BUCKETS = Long.numberOfTrailingZeros(MAX_BLOCK_SIZE) + 1;

    /**
     * One bucket.
     *
     * @param blockSize the size of every block in the bucket, in bytes: 1 … {@link #MAX_BLOCK_SIZE}
     * @param byteLimit how many bytes of blocks one cache may keep in this bucket; 0 caches nothing
     */
    public record Bucket(long blockSize, long byteLimit) {

        /**
         * @throws InvalidArgumentException if the block size is out of range or the limit negative
         */
        public Bucket {
            if (blockSize < 1 || blockSize > MAX_BLOCK_SIZE) {
                throw new InvalidArgumentException("blockSize", blockSize,
                        "must be between 1 and " + MAX_BLOCK_SIZE + " bytes");
            }
            if (byteLimit < 0) {
                throw new InvalidArgumentException("byteLimit", byteLimit, "must not be negative");
            }
        }
    }

    /**
     * @throws InvalidArgumentException of {@code buckets}, naming the bucket, if there are no buckets or too
     *                                  many, or block sizes do not increase strictly
     * @throws NullPointerException     if the list or a bucket is {@code null}
     */
    public CacheInfo {
        Objects.requireNonNull(buckets, "buckets");
        buckets = List.copyOf(buckets);
        if (buckets.isEmpty() || buckets.size() > MAX_BUCKETS) {
            throw new InvalidArgumentException("buckets", buckets.size(), "must number between 1 and " + MAX_BUCKETS);
        }
        for (int i = 1; i < buckets.size(); i++) {
            long previous = buckets.get(i - 1).blockSize();
            long current = buckets.get(i).blockSize();
            if (current <= previous) {
                throw new InvalidArgumentException("buckets", null, "must increase strictly in block size, but bucket "
                        + i + " (" + current + " B) follows bucket " + (i - 1) + " (" + previous + " B)");
            }
        }
    }

    /**
     * hce's defaults: {@value #DEFAULT_BUCKET_COUNT} power-of-two buckets (1 B … 4 KiB) of 64 KiB each.
     *
     * @return the default configuration
     */
    public static CacheInfo defaults() {
        return of(DEFAULT_BUCKET_COUNT, DEFAULT_BUCKET_BYTE_LIMIT);
    }

    /**
     * Power-of-two buckets of 1 B … 2<sup>bucketCount-1</sup> B, all with the same byte limit: what hce's
     * two cmake settings configure.
     *
     * @param bucketCount     the number of buckets, 1 … {@link #MAX_POWER_OF_TWO_BUCKETS}
     * @param bucketByteLimit bytes one cache may keep per bucket, not negative
     * @return the configuration
     * @throws InvalidArgumentException if either value is out of range
     */
    public static CacheInfo of(int bucketCount, long bucketByteLimit) {
        if (bucketCount < 1 || bucketCount > MAX_POWER_OF_TWO_BUCKETS) {
            throw new InvalidArgumentException("bucketCount", bucketCount, "must be between 1 and "
                    + MAX_POWER_OF_TWO_BUCKETS + " (blocks of 1 B to " + MAX_BLOCK_SIZE + " B)");
        }
        if (bucketByteLimit < 0) {
            throw new InvalidArgumentException("bucketByteLimit", bucketByteLimit, "must not be negative");
        }
        List<Bucket> buckets = new ArrayList<>(bucketCount);
        for (int i = 0; i < bucketCount; i++) {
            buckets.add(new Bucket(1L << i, bucketByteLimit));
        }
        return new CacheInfo(buckets);
    }

    /**
     * The block size of the largest bucket: larger requests bypass the caches.
     *
     * @return the largest block size, in bytes
     */
    public long maxBlockSize() {
        return buckets.getLast().blockSize();
    }
}
