package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Leak detection: a block whose segment is collected before it is deallocated is reported, once. */
class LeakDetectionTest {

    @Test
    void aDroppedSegmentIsReportedAndADeallocatedOneIsNot() {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(),
                new AllocatorOptions(false, LeakDetection.PARANOID));
        MemorySegment kept = allocator.allocate(64);
        for (int i = 0; i < 10; i++) {
            allocator.deallocate(allocator.allocate(128)); // deallocated: never a leak
        }
        leak(allocator, 3);
        Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> allocator.leaks() == 3, () -> "leaks " + allocator.leaks());
        allocator.deallocate(kept);
        System.gc();
        assertThat(allocator.leaks()).isEqualTo(3);
    }

    @Test
    void blocksByAddressAreNotWatchedSoTheyAreNeverReportedFalsely() {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(),
                new AllocatorOptions(false, LeakDetection.PARANOID));
        long[] live = new long[5];
        for (int i = 0; i < live.length; i++) {
            live[i] = allocator.allocateAddress(32); // no segment to collect: must not look leaked
        }
        leak(allocator, 1);
        Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> allocator.leaks() >= 1, () -> "leaks " + allocator.leaks());
        System.gc();
        assertThat(allocator.leaks()).isEqualTo(1);
        for (long address : live) {
            allocator.deallocateAddress(address, 32);
        }
    }

    @Test
    void poolsReportLeaksToo() {
        PoolAllocator pool = PoolAllocator.create("leaky", ValueLayout.JAVA_LONG, 4, new AllocatorOptions(false, LeakDetection.PARANOID));
        pool.allocate().set(ValueLayout.JAVA_LONG, 0, 1);
        Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> pool.leaks() == 1, () -> "leaks " + pool.leaks());
        pool.close();
    }

    @Test
    void samplingTracksAboutOneAllocationIn128() {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), new AllocatorOptions(false, LeakDetection.SAMPLED));
        leak(allocator, 12_800);
        Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> allocator.leaks() >= 50, () -> "leaks " + allocator.leaks());
        assertThat(allocator.leaks()).isBetween(50L, 200L); // 100 expected; binomial spread is about ±10
    }

    @Test
    void offTracksNothing() {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), AllocatorOptions.NONE);
        leak(allocator, 100);
        System.gc();
        assertThat(allocator.leaks()).isZero();
    }

    private static void leak(CachingAllocator allocator, int blocks) {
        for (int i = 0; i < blocks; i++) {
            allocator.allocate(16).set(ValueLayout.JAVA_BYTE, 0, (byte) i);
        }
    }
}
