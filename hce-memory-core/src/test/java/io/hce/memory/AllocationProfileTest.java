package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** profile(): the allocation sites that hold watched live blocks, grouped by the caller's frames. */
class AllocationProfileTest {

    private static final AllocatorOptions PARANOID = new AllocatorOptions(false, LeakDetection.PARANOID);

    @Test
    void sitesAreTheCallersFramesWithTheirLiveBytesMostFirst() {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), PARANOID);
        List<MemorySegment> large = new ArrayList<>();
        List<MemorySegment> small = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            large.add(allocateLarge(allocator));
        }
        for (int i = 0; i < 3; i++) {
            small.add(allocateSmallThroughALayout(allocator));
        }

        List<AllocationSite> sites = allocator.profile();
        assertThat(sites).hasSize(2);
        assertThat(sites.get(0).stack().getFirst().getMethodName()).isEqualTo("allocateLarge");
        assertThat(sites.get(0).site()).startsWith(getClass().getName() + ".allocateLarge(AllocationProfileTest.java:");
        assertThat(sites.get(0).sampledBlocks()).isEqualTo(10);
        assertThat(sites.get(0).sampledBytes()).isEqualTo(10 * 1000);
        assertThat(sites.get(0).estimatedBytes()).isEqualTo(10 * 1000); // every block is watched
        assertThat(sites.get(0).stack()).hasSizeLessThanOrEqualTo(AllocationSite.MAX_FRAMES);
        // allocate(layout) comes through the JDK's SegmentAllocator defaults: the site is still the caller
        assertThat(sites.get(1).stack().getFirst().getMethodName()).isEqualTo("allocateSmallThroughALayout");
        assertThat(sites.get(1).sampledBytes()).isEqualTo(3 * 24);

        large.forEach(allocator::deallocate);
        assertThat(allocator.profile()).singleElement()
                .satisfies(site -> assertThat(site.stack().getFirst().getMethodName()).isEqualTo("allocateSmallThroughALayout"));
        small.forEach(allocator::deallocate);
        assertThat(allocator.profile()).isEmpty();
    }

    @Test
    void aSampledProfileScalesTheSampleByTheSamplingInterval() {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), new AllocatorOptions(false, LeakDetection.SAMPLED));
        List<MemorySegment> blocks = new ArrayList<>();
        for (int i = 0; i < 20 * LeakDetection.SAMPLING_INTERVAL; i++) {
            blocks.add(allocateLarge(allocator));
        }
        List<AllocationSite> sites = allocator.profile();
        assertThat(sites).singleElement().satisfies(site -> {
            assertThat(site.sampledBlocks()).isBetween(1L, 100L); // about 20
            assertThat(site.estimatedBytes()).isEqualTo(site.sampledBytes() * LeakDetection.SAMPLING_INTERVAL);
        });
        blocks.forEach(allocator::deallocate);
        assertThat(allocator.profile()).isEmpty();
    }

    @Test
    void withoutLeakDetectionOrCheckedModeThereIsNoProfile() {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), AllocatorOptions.NONE);
        MemorySegment block = allocateLarge(allocator);
        assertThat(allocator.profile()).isEmpty();
        allocator.deallocate(block);
    }

    @Test
    void aPoolsProfileNamesItsCallers() {
        try (PoolAllocator pool = PoolAllocator.create("profiled", MemoryLayout.sequenceLayout(4, ValueLayout.JAVA_LONG), 4, PARANOID)) {
            MemorySegment block = pool.allocate();
            assertThat(pool.profile()).singleElement().satisfies(site -> {
                assertThat(site.stack().getFirst().getMethodName()).isEqualTo("aPoolsProfileNamesItsCallers");
                assertThat(site.sampledBytes()).isEqualTo(32);
            });
            pool.deallocate(block);
            assertThat(pool.profile()).isEmpty();
        }
    }

    @Test
    void howCloselyBlocksAreWatchedFollowsTheOptions() {
        assertThat(AllocatorOptions.NONE.allocationsPerWatchedBlock()).isZero();
        assertThat(new AllocatorOptions(false, LeakDetection.SAMPLED).allocationsPerWatchedBlock()).isEqualTo(LeakDetection.SAMPLING_INTERVAL);
        assertThat(PARANOID.allocationsPerWatchedBlock()).isEqualTo(1);
        assertThat(new AllocatorOptions(true, LeakDetection.SAMPLED).allocationsPerWatchedBlock()).isEqualTo(1); // checked: all
    }

    private static MemorySegment allocateLarge(CachingAllocator allocator) {
        return allocator.allocate(1000);
    }

    private static MemorySegment allocateSmallThroughALayout(CachingAllocator allocator) {
        return allocator.allocate(MemoryLayout.sequenceLayout(3, ValueLayout.JAVA_LONG));
    }
}
