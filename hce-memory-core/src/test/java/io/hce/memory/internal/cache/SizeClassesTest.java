package io.hce.memory.internal.cache;

import io.hce.memory.CacheInfo;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SizeClassesTest {

    @Test
    void powerOfTwoBucketsServeEverySizeUpToTheirBlockSize() {
        SizeClasses sizes = new SizeClasses(CacheInfo.defaults());
        for (long size = 1; size <= 4096; size++) {
            int bucket = sizes.bucketOf(size);
            assertEquals(Long.numberOfTrailingZeros(Long.highestOneBit(2 * size - 1)), bucket, "size " + size);
            assertEquals(true, sizes.blockSize(bucket) >= size && (bucket == 0 || sizes.blockSize(bucket - 1) < size));
        }
        for (long size : new long[]{4097, 8192, 1L << 40, Long.MAX_VALUE}) {
            assertEquals(sizes.directBucket(), sizes.bucketOf(size));
        }
    }

    @Test
    void customBucketsServeTheFirstBlockSizeThatFits() {
        SizeClasses sizes = new SizeClasses(new CacheInfo(List.of(new CacheInfo.Bucket(24, 0),
                new CacheInfo.Bucket(40, 0), new CacheInfo.Bucket(48, 0), new CacheInfo.Bucket(100, 0),
                new CacheInfo.Bucket(1500, 0))));
        long[] blockSizes = {24, 40, 48, 100, 1500};
        for (long size = 1; size <= 1600; size++) {
            int expected = 0;
            while (expected < blockSizes.length && blockSizes[expected] < size) {
                expected++;
            }
            assertEquals(expected, sizes.bucketOf(size), "size " + size);
        }
    }

    @Test
    void everyBucketsBlocksHaveMallocsAlignmentNotTheirNaturalOne() { // aligned_alloc's gaps doubled the memory
        SizeClasses sizes = new SizeClasses(new CacheInfo(List.of(new CacheInfo.Bucket(1, 0),
                new CacheInfo.Bucket(48, 0), new CacheInfo.Bucket(64, 0), new CacheInfo.Bucket(1500, 0),
                new CacheInfo.Bucket(1 << 20, 0))));
        assertEquals(List.of(16L, 16L, 16L, 16L, 16L),
                List.of(sizes.alignment(0), sizes.alignment(1), sizes.alignment(2), sizes.alignment(3), sizes.alignment(4)));
        assertEquals(16, sizes.nativeSize(0));
        assertEquals(48, sizes.nativeSize(1));
    }

    @Test
    void capacityAndBatchFollowTheByteLimit() {
        SizeClasses sizes = new SizeClasses(new CacheInfo(List.of(new CacheInfo.Bucket(1, 64 * 1024),
                new CacheInfo.Bucket(64, 64 * 1024), new CacheInfo.Bucket(4096, 64 * 1024),
                new CacheInfo.Bucket(8192, 8192), new CacheInfo.Bucket(9000, 8999))));
        assertEquals(4096, sizes.capacity(0)); // 1-byte blocks take 16 bytes each
        assertEquals(1024, sizes.capacity(1));
        assertEquals(64, sizes.batchSize(1));
        assertEquals(16, sizes.capacity(2));
        assertEquals(8, sizes.batchSize(2));
        assertEquals(1, sizes.capacity(3));
        assertEquals(1, sizes.batchSize(3));
        assertEquals(0, sizes.capacity(4));
        assertEquals(0, sizes.batchSize(4));
    }
}
