package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CacheInfoTest {

    @Test
    void defaultsAreHce() {
        CacheInfo info = CacheInfo.defaults();
        assertEquals(13, info.buckets().size());
        for (int i = 0; i < 13; i++) {
            assertEquals(new CacheInfo.Bucket(1L << i, 64 * 1024), info.buckets().get(i));
        }
        assertEquals(4096, info.maxBlockSize());
    }

    @Test
    void ofMakesPowerOfTwoBuckets() {
        CacheInfo info = CacheInfo.of(3, 10);
        assertEquals(List.of(new CacheInfo.Bucket(1, 10), new CacheInfo.Bucket(2, 10), new CacheInfo.Bucket(4, 10)),
                info.buckets());
        assertEquals(CacheInfo.MAX_BLOCK_SIZE, CacheInfo.of(CacheInfo.MAX_POWER_OF_TWO_BUCKETS, 0).maxBlockSize());
    }

    @Test
    void ofRejectsBadCountsAndLimits() {
        assertMessage(() -> CacheInfo.of(0, 1), "bucketCount must be between 1 and 31", "was 0");
        assertMessage(() -> CacheInfo.of(64, 1), "was 64");
        assertMessage(() -> CacheInfo.of(4, -1), "bucketByteLimit must not be negative, was -1");
    }

    @Test
    void customBucketsAreValidatedWithTheBucketNamed() {
        assertMessage(() -> new CacheInfo(List.of()), "buckets must number between 1 and 64, was 0");
        assertMessage(() -> new CacheInfo(List.of(new CacheInfo.Bucket(64, 1), new CacheInfo.Bucket(64, 1))),
                "buckets must increase strictly in block size, but bucket 1 (64 B) follows bucket 0 (64 B)");
        assertMessage(() -> new CacheInfo(List.of(new CacheInfo.Bucket(64, 1), new CacheInfo.Bucket(32, 1))),
                "bucket 1 (32 B) follows bucket 0 (64 B)");
        assertMessage(() -> new CacheInfo.Bucket(0, 1), "blockSize must be between 1 and", "was 0");
        assertMessage(() -> new CacheInfo.Bucket(CacheInfo.MAX_BLOCK_SIZE + 1, 1), "was " + (CacheInfo.MAX_BLOCK_SIZE + 1));
        assertMessage(() -> new CacheInfo.Bucket(8, -5), "byteLimit must not be negative, was -5");
        assertThrows(NullPointerException.class, () -> new CacheInfo(null));
    }

    @Test
    void bucketsAreCopied() {
        var list = new java.util.ArrayList<>(List.of(new CacheInfo.Bucket(8, 8)));
        CacheInfo info = new CacheInfo(list);
        list.add(new CacheInfo.Bucket(16, 8));
        assertEquals(1, info.buckets().size());
    }

    static void assertMessage(Runnable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' lacks '" + fragment + "'");
        }
    }

    static void assertState(Runnable call, String... fragments) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call::run);
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' lacks '" + fragment + "'");
        }
    }
}
