package io.hce.memory;

import io.hce.memory.testing.Validation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CachingAllocatorTest {

    @RegisterExtension
    final Validation validation = new Validation();

    private final CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults());

    @Test
    void everySizeUpToTheLargestBucketIsServedByTheSmallestBucketThatFits() {
        for (long size = 1; size <= 4096; size++) {
            int expected = 64 - Long.numberOfLeadingZeros(size - 1); // ceil(log2(size))
            long before = allocator.statistics().buckets().get(expected).allocations();
            MemorySegment segment = allocator.allocate(size);
            assertEquals(size, segment.byteSize());
            assertEquals(before + 1, allocator.statistics().buckets().get(expected).allocations(), "size " + size);
            allocator.deallocate(segment);
        }
        CacheStatistics statistics = allocator.statistics();
        assertEquals(0, statistics.directAllocations());
        MemorySegment large = allocator.allocate(4097);
        assertEquals(1, allocator.statistics().directAllocations());
        assertEquals(statistics.hits() + statistics.misses(), allocator.statistics().hits() + allocator.statistics().misses(),
                "past the largest bucket: no bucket");
        allocator.deallocate(large);
        assertEquals(1, allocator.statistics().directFrees());
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 7, 16, 24, 64, 100, 1000, 4096, 5000, 70_000})
    void everyPowerOfTwoAlignmentIsHonouredForNewAndCachedBlocks(long size) {
        for (long alignment = 1; alignment <= 16384; alignment <<= 1) {
            for (int round = 0; round < 2; round++) { // round 1 may be served from the cache
                MemorySegment segment = allocator.allocate(size, alignment);
                assertEquals(0, segment.address() % alignment, size + " B aligned to " + alignment);
                assertEquals(0, segment.address() % 16, "at least 16-aligned");
                assertEquals(size, segment.byteSize());
                segment.fill((byte) 0x5A);
                allocator.deallocate(segment);
            }
        }
    }

    @Test
    void anOverAlignedRequestTakesAnAlignedCachedBlock() {
        MemorySegment first = allocator.allocate(64, 4096);
        allocator.deallocate(first);
        long misses = allocator.statistics().misses();
        MemorySegment again = allocator.allocate(64, 4096);
        assertEquals(first.address(), again.address());
        assertEquals(misses, allocator.statistics().misses());
        allocator.deallocate(again);
    }

    @Test
    void defaultAlignmentIsAtLeastSixteen() {
        List<MemorySegment> segments = new ArrayList<>();
        for (int size = 1; size <= 64; size++) {
            segments.add(allocator.allocate(size));
        }
        segments.forEach(segment -> assertEquals(0, segment.address() % 16));
        segments.forEach(allocator::deallocate);
    }

    @Test
    void segmentAllocatorMethodsWork() {
        MemorySegment longs = allocator.allocate(ValueLayout.JAVA_LONG, 100);
        assertEquals(800, longs.byteSize());
        longs.setAtIndex(ValueLayout.JAVA_LONG, 99, 42L);
        assertEquals(42L, longs.getAtIndex(ValueLayout.JAVA_LONG, 99));
        MemorySegment text = allocator.allocateFrom("hello, native world");
        assertEquals("hello, native world", text.getString(0));
        MemoryLayout point = MemoryLayout.structLayout(ValueLayout.JAVA_INT.withName("x"), ValueLayout.JAVA_INT.withName("y"));
        MemorySegment p = allocator.allocate(point);
        assertEquals(8, p.byteSize());
        allocator.deallocate(longs);
        allocator.deallocate(text);
        allocator.deallocate(p);
        assertEquals(allocator.statistics().cachedBytes(), allocator.statistics().reservedBytes());
    }

    @Test
    void zeroSizeGivesAnEmptySegmentThatTakesNoMemory() {
        MemorySegment empty = allocator.allocate(0, 64);
        assertEquals(0, empty.byteSize());
        assertEquals(0, empty.address() % 64);
        allocator.deallocate(empty);
        assertEquals(0, allocator.statistics().reservedBytes());
        assertEquals(0, allocator.statistics().hits() + allocator.statistics().misses());
    }

    /**
     * One bucket of 64 B with a 128 B limit: a thread cache keeps 2 blocks, the depot takes batches of 1 and
     * holds 4 (two caches' worth), and past that blocks are freed.
     */
    @Test
    void hitsMissesAndFreesAreCountedExactlyForAScriptedSequence() {
        CachingAllocator small = CachingAllocator.create(new CacheInfo(List.of(new CacheInfo.Bucket(64, 128))));
        List<MemorySegment> held = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            held.add(small.allocate(64));
        }
        assertBucket(small, 0, 8, 0, 0, 8 * 64);
        held.forEach(small::deallocate); // 2 stay in the cache, 4 go to the depot, 2 are freed
        held.clear();
        assertBucket(small, 0, 8, 2, 6 * 64, 6 * 64);
        for (int i = 0; i < 8; i++) {
            held.add(small.allocate(33));
        }
        assertBucket(small, 6, 10, 2, 0, 8 * 64); // 2 from the cache, 4 from the depot, 2 from malloc
        held.forEach(small::deallocate);
        assertBucket(small, 6, 10, 4, 6 * 64, 6 * 64);
        small.trim(); // the thread's 2 and the depot's 4 go back to the system
        assertBucket(small, 6, 10, 4, 0, 0);
    }

    private static void assertBucket(CachingAllocator allocator, long hits, long misses, long frees, long cached,
                                     long reserved) {
        CacheStatistics statistics = allocator.statistics();
        assertEquals(new BucketStatistics(64, 128, hits, misses, frees, cached), statistics.buckets().getFirst());
        assertEquals(reserved, statistics.reservedBytes());
    }

    @Test
    void aBucketWithoutLimitCachesNothing() {
        CachingAllocator none = CachingAllocator.create(CacheInfo.of(4, 0));
        none.deallocate(none.allocate(8));
        none.deallocate(none.allocate(8));
        BucketStatistics bucket = none.statistics().buckets().get(3);
        assertEquals(new BucketStatistics(8, 0, 0, 2, 2, 0), bucket);
        assertEquals(0, none.statistics().reservedBytes());
    }

    @Test
    void blocksAreReusedLastInFirstOut() {
        MemorySegment a = allocator.allocate(100);
        allocator.deallocate(a);
        MemorySegment b = allocator.allocate(120);
        assertEquals(a.address(), b.address());
        allocator.deallocate(b);
    }

    @Test
    void blocksByAddressComeFromAndGoBackToTheSameCaches() {
        CachingAllocator fresh = validation.track(CachingAllocator.create(CacheInfo.defaults(), AllocatorOptions.NONE));
        long address = fresh.allocateAddress(100);
        assertEquals(0, address % 16);
        MemorySegment.ofAddress(address).reinterpret(100).fill((byte) 7); // real, writable memory
        fresh.deallocateAddress(address, 100);
        MemorySegment segment = fresh.allocate(128); // same bucket: the block just given back
        assertEquals(address, segment.address());
        fresh.deallocate(segment);
        long again = fresh.allocateAddress(128);
        assertEquals(address, again);
        fresh.deallocate(MemorySegment.ofAddress(again).reinterpret(128)); // an address block, as a segment
        BucketStatistics bucket = fresh.statistics().buckets().get(7);
        assertEquals(128, bucket.blockSize());
        assertEquals(2, bucket.hits());
        assertEquals(1, bucket.misses());
        assertEquals(128, bucket.cachedBytes());

        long aligned = fresh.allocateAddress(64, 4096);
        assertEquals(0, aligned % 4096);
        fresh.deallocateAddress(aligned, 64);
        long empty = fresh.allocateAddress(0, 64);
        assertEquals(0, empty % 64);
        assertTrue(empty != 0);
        fresh.deallocateAddress(empty, 0); // takes no memory: nothing to give back
        validation.expectNothingLive(); // trimmed, no bytes reserved
    }

    @Test
    void badArgumentsAreRejectedAndChangeNothing() {
        MemorySegment live = allocator.allocate(64);
        CacheStatistics before = allocator.statistics();
        CacheInfoTest.assertMessage(() -> allocator.allocate(-1), "byteSize must not be negative, was -1");
        for (long alignment : new long[]{0, -8, 3, 24, Long.MIN_VALUE}) {
            CacheInfoTest.assertMessage(() -> allocator.allocate(8, alignment),
                    "byteAlignment must be a power of two, was " + alignment);
        }
        assertThrows(NullPointerException.class, () -> allocator.deallocate(null));
        CacheInfoTest.assertMessage(() -> allocator.deallocate(MemorySegment.ofArray(new byte[64])), "on the Java heap");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arenaSegment = arena.allocate(64, 64);
            CacheInfoTest.assertMessage(() -> allocator.deallocate(arenaSegment), "bound to an arena or a buffer");
        }
        MemorySegment buffer = MemorySegment.ofBuffer(ByteBuffer.allocateDirect(64));
        CacheInfoTest.assertMessage(() -> allocator.deallocate(buffer), "bound to an arena or a buffer");
        CacheInfoTest.assertMessage(() -> allocator.deallocate(live.asSlice(8, 56)), "is not aligned to 16 bytes");
        CacheInfoTest.assertMessage(() -> allocator.deallocate(MemorySegment.ofAddress(0).reinterpret(64)),
                "segment of 64 bytes at 0x0");
        assertEquals(before, allocator.statistics());
        allocator.deallocate(live);
    }

    @Test
    void mallocFailureIsAnOutOfMemoryErrorAndChangesNothing() {
        CacheStatistics before = allocator.statistics();
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> allocator.allocate(1L << 62));
        assertTrue(e.getMessage().contains(String.valueOf(1L << 62)), e.getMessage());
        assertThrows(OutOfMemoryError.class, () -> allocator.allocate(64, 1L << 62));
        assertEquals(before, allocator.statistics());
    }

    @Test
    void maxCachedBytesAddsCachesStripesAndDepots() {
        CachingAllocator one = CachingAllocator.create(new CacheInfo(List.of(new CacheInfo.Bucket(64, 128))));
        long perCache = 128;
        long depot = 4 * 64;
        long stripes = (one.maxCachedBytes(0) - depot) / perCache;
        assertTrue(stripes >= 2 && Long.bitCount(stripes) == 1, "stripes: " + stripes);
        assertEquals(perCache * (3 + stripes) + depot, one.maxCachedBytes(3));
    }
}
