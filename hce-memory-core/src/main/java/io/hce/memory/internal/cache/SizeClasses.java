package io.hce.memory.internal.cache;

import io.hce.memory.CacheInfo;
import io.hce.memory.internal.platform.NativeMemory;

import java.util.List;

/**
 * The buckets of a {@link CacheInfo}, flattened into the tables the hot path reads.
 *
 * <h2>Bucket lookup</h2>
 * A request of {@code n} bytes belongs to the first bucket whose block size is at least {@code n}.
 * {@code firstBucketOfLog2[ceil(log2 n)]} is the first bucket whose block size is at least the power of
 * two below {@code n}; from there a forward scan passes the few buckets between that power and
 * {@code n}. For power-of-two buckets (every configuration made by {@link CacheInfo#of}) the scan never
 * steps: one table load and one compare. A sentinel past the last bucket ends every scan, and its index,
 * {@link #directBucket()}, means "no bucket: allocate directly".
 *
 * <h2>Block sizes and alignment</h2>
 * The bucket is chosen by size alone, so a deallocation finds it from the segment's size. Every block of a
 * bucket is allocated with {@code malloc}'s own alignment, {@value NativeMemory#MALLOC_ALIGNMENT} bytes:
 * {@code aligned_alloc} at a block's natural alignment (64 for a 64-byte block, 4096 for 4 KiB) leaves an
 * unusable gap in front of every block in glibc, which doubled the native memory of the caches against plain
 * {@code malloc}. A request aligned to more than 16 bytes is <em>over-aligned</em>: it may take a cached
 * block that happens to be aligned enough, or allocates a block of the bucket's size with the stricter
 * alignment, which later joins the bucket like any other.
 *
 * <p>Blocks below {@value NativeMemory#MALLOC_ALIGNMENT} bytes are allocated as that many
 * ({@link #nativeSize}), so every block is at least 16-aligned whatever {@code malloc} is preloaded.
 */
public final class SizeClasses {

    /** The most blocks a thread cache keeps in one bucket, whatever its byte limit. */
    static final int MAX_BLOCKS_PER_BUCKET = 1 << 20;

    /** The most blocks moved between a thread cache and the depot at once. */
    static final int MAX_BATCH_SIZE = 64;

    private final CacheInfo info;
    private final int bucketCount;
    private final long[] blockSizeOrSentinel;
    private final byte[] firstBucketOfLog2;
    private final long[] nativeSize;
    private final long[] alignment;
    private final long[] alignmentMaskOrDirect;
    private final int[] capacity;
    private final int[] batchSize;

    /**
     * @param info the configuration to flatten
     */
    public SizeClasses(CacheInfo info) {
        this.info = info;
        List<CacheInfo.Bucket> buckets = info.buckets();
        bucketCount = buckets.size();
        blockSizeOrSentinel = new long[bucketCount + 1];
        nativeSize = new long[bucketCount];
        alignment = new long[bucketCount];
        alignmentMaskOrDirect = new long[bucketCount + 1];
        capacity = new int[bucketCount];
        batchSize = new int[bucketCount];
        for (int b = 0; b < bucketCount; b++) {
            CacheInfo.Bucket bucket = buckets.get(b);
            long size = bucket.blockSize();
            blockSizeOrSentinel[b] = size;
            nativeSize[b] = Math.max(size, NativeMemory.MALLOC_ALIGNMENT);
            alignment[b] = NativeMemory.MALLOC_ALIGNMENT;
            capacity[b] = (int) Math.min(bucket.byteLimit() / nativeSize[b], MAX_BLOCKS_PER_BUCKET);
            batchSize[b] = capacity[b] == 0 ? 0 : Math.clamp(capacity[b] / 2, 1, MAX_BATCH_SIZE);
        }
        blockSizeOrSentinel[bucketCount] = Long.MAX_VALUE;
        for (int b = 0; b < bucketCount; b++) {
            alignmentMaskOrDirect[b] = alignment[b] - 1;
        }
        alignmentMaskOrDirect[bucketCount] = NativeMemory.MALLOC_ALIGNMENT - 1;
        firstBucketOfLog2 = new byte[Long.SIZE + 1];
        for (int log2 = 0; log2 <= Long.SIZE; log2++) {
            long powerBelow = log2 == 0 ? 0 : 1L << (log2 - 1);
            int b = 0;
            while (b < bucketCount && blockSizeOrSentinel[b] <= powerBelow) {
                b++;
            }
            firstBucketOfLog2[log2] = (byte) b;
        }
    }

    /**
     * The bucket for a request of {@code byteSize} bytes.
     *
     * @param byteSize at least 1
     * @return the bucket's index, or {@link #directBucket()} when the size exceeds every bucket
     */
    public int bucketOf(long byteSize) {
        int b = firstBucketOfLog2[Long.SIZE - Long.numberOfLeadingZeros(byteSize - 1)];
        long[] sizes = blockSizeOrSentinel;
        while (sizes[b] < byteSize) {
            b++;
        }
        return b;
    }

    /** @return the index that stands for "no bucket": the number of buckets */
    public int directBucket() {
        return bucketCount;
    }

    /** @return the number of buckets */
    public int bucketCount() {
        return bucketCount;
    }

    /** @return the configuration these tables were made from */
    public CacheInfo info() {
        return info;
    }

    /**
     * @param bucket a bucket index
     * @return the bucket's configured block size
     */
    public long blockSize(int bucket) {
        return blockSizeOrSentinel[bucket];
    }

    /**
     * @param bucket a bucket index
     * @return the bytes each block of the bucket takes from {@code malloc}
     */
    public long nativeSize(int bucket) {
        return nativeSize[bucket];
    }

    /**
     * @param bucket a bucket index
     * @return the alignment every block of the bucket has
     */
    public long alignment(int bucket) {
        return alignment[bucket];
    }

    /**
     * @param bucket a bucket index, or {@link #directBucket()}
     * @return the low address bits that are 0 in every block of the bucket (for direct blocks, malloc's)
     */
    public long alignmentMask(int bucket) {
        return alignmentMaskOrDirect[bucket];
    }

    /**
     * @param bucket a bucket index
     * @return how many blocks one thread cache keeps in the bucket
     */
    public int capacity(int bucket) {
        return capacity[bucket];
    }

    /**
     * @param bucket a bucket index
     * @return how many blocks move to or from the depot at once; 0 when the bucket caches nothing
     */
    public int batchSize(int bucket) {
        return batchSize[bucket];
    }
}
