package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Checked mode: each misuse is reported with what was wrong and where the block was allocated. */
class CheckedModeTest {

    private static final AllocatorOptions CHECKED = new AllocatorOptions(true, LeakDetection.OFF);

    private final CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), CHECKED);

    @Test
    void aDoubleFreeIsReportedWithBothStacks() {
        MemorySegment block = allocator.allocate(100);
        allocator.deallocate(block);
        assertThatThrownBy(() -> allocator.deallocate(block))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("double free of block 0x" + Long.toHexString(block.address()) + " of 100 bytes")
                .hasCauseInstanceOf(Throwable.class)
                .satisfies(e -> {
                    assertThat(e.getCause().getMessage()).startsWith("allocated by CachingAllocator[");
                    assertThat(e.getCause().getStackTrace()[0].getMethodName()).isEqualTo("allocated");
                    assertThat(e.getSuppressed()[0].getMessage()).startsWith("freed on thread");
                });
    }

    @Test
    void blocksByAddressAreCheckedToo() {
        long address = allocator.allocateAddress(100);
        assertThatThrownBy(() -> allocator.deallocateAddress(address, 50)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("deallocated with 50 bytes");
        assertThatThrownBy(() -> allocator.deallocateAddress(address, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a live block given back with size 0");
        allocator.deallocateAddress(address, 100);
        assertThatThrownBy(() -> allocator.deallocateAddress(address, 100)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("double free of block 0x" + Long.toHexString(address));
    }

    @Test
    void foreignSlicedAndResizedSegmentsAreReported() {
        MemorySegment block = allocator.allocate(256);
        MemorySegment foreign = MemorySegment.ofAddress(block.address() + 4096 * 16).reinterpret(256);
        assertThatThrownBy(() -> allocator.deallocate(foreign)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("was never allocated here");
        assertThatThrownBy(() -> allocator.deallocate(block.asSlice(0, 128))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a slice or resized segment of block").hasMessageContaining("deallocated with 128 bytes")
                .cause().hasMessageStartingWith("allocated by");
        assertThatThrownBy(() -> allocator.deallocate(block.reinterpret(512))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("deallocated with 512 bytes");
        allocator.deallocate(block); // still live: the misuses changed nothing
    }

    @Test
    void aSegmentOfAClosedArenaIsReported() {
        MemorySegment segment;
        try (Arena arena = allocator.newArena()) {
            segment = arena.allocate(64);
        }
        assertThatThrownBy(() -> allocator.deallocate(segment)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bound to an arena that is closed");
    }

    @Test
    void aWriteAfterFreeIsReportedWhenTheBlockLeavesQuarantine() {
        MemorySegment victim = allocator.allocate(64);
        allocator.deallocate(victim);
        assertThat(victim.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo(AllocationGuard.POISON);
        victim.set(ValueLayout.JAVA_INT, 12, 42); // the bug
        List<MemorySegment> others = new ArrayList<>();
        for (int i = 0; i < AllocationGuard.QUARANTINE_BLOCKS; i++) {
            others.add(allocator.allocate(64));
        }
        for (int i = 0; i < others.size() - 1; i++) {
            allocator.deallocate(others.get(i));
        }
        assertThatThrownBy(() -> allocator.deallocate(others.getLast()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("write after free: block 0x" + Long.toHexString(victim.address()));
        // the allocator is still consistent: blocks come and go, and trim returns everything
        allocator.deallocate(allocator.allocate(64));
        allocator.trim();
        assertThat(allocator.statistics().reservedBytes()).isZero();
    }

    /** Issue 14, finding 4: trim() emptied the quarantine without checking the poison. */
    @Test
    void trimReportsAWriteAfterFreeInQuarantineOnceItHasFreedEverything() {
        MemorySegment victim = allocator.allocate(64);
        allocator.deallocate(victim);
        victim.set(ValueLayout.JAVA_INT, 12, 42); // the bug
        assertThatThrownBy(allocator::trim)
                .isInstanceOf(WriteAfterFreeException.class)
                .hasMessageContaining("write after free: block 0x" + Long.toHexString(victim.address()))
                .hasMessageContaining("did its work");
        assertThat(allocator.statistics().reservedBytes()).isZero(); // the trim was done nonetheless
    }

    /** Issue 14, finding 4: PoolAllocator.close() did not check the poison either. */
    @Test
    void closingACheckedPoolReportsAWriteAfterFreeInQuarantine() {
        PoolAllocator pool = PoolAllocator.create("checked", MemoryLayout.sequenceLayout(64, ValueLayout.JAVA_BYTE), 8,
                new AllocatorOptions(true, LeakDetection.OFF));
        MemorySegment victim = pool.allocate();
        pool.deallocate(victim);
        victim.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        WriteAfterFreeException e = org.junit.jupiter.api.Assertions.assertThrows(WriteAfterFreeException.class, pool::close);
        assertThat(e.address()).isEqualTo(victim.address());
        assertThat(e.getCause()).isNotNull();
        assertThat(e.getSuppressed()).hasSize(1);
        assertThat(pool.statistics().cachedBlocks()).isZero();
    }

    /**
     * Issue 14, finding 4: the quarantine held 1,024 blocks whatever their size: allocating and freeing 4 MiB
     * blocks ended with 4 GiB reserved. It is bounded in bytes too.
     */
    @Test
    void theQuarantineIsBoundedInBytes() {
        MemorySegment live = allocator.allocate(64);
        for (int i = 0; i < 200; i++) {
            allocator.deallocate(allocator.allocate(4 << 20));
        }
        assertThat(allocator.statistics().reservedBytes()).isLessThanOrEqualTo(AllocationGuard.QUARANTINE_BYTES + (8 << 20));
        allocator.deallocate(live);
        allocator.trim();
        assertThat(allocator.statistics().reservedBytes()).isZero();
    }

    /**
     * Issue 14, finding 5: a segment of {@code Arena.global()} shares the allocator's global scope, so normal
     * mode takes it (and a later trim frees an interior pointer); checked mode knows it is no block of its own.
     */
    @Test
    void aSegmentOfTheGlobalArenaIsRejected() {
        MemorySegment global = java.lang.foreign.Arena.global().allocate(64, 64);
        assertThatThrownBy(() -> allocator.deallocate(global))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("was never allocated here");
        allocator.trim();
        assertThat(allocator.statistics().reservedBytes()).isZero();
    }

    @Test
    void quarantinedBlocksAreNeverHandedOut() {
        MemorySegment first = allocator.allocate(32);
        allocator.deallocate(first);
        MemorySegment second = allocator.allocate(32);
        assertThat(second.address()).isNotEqualTo(first.address()); // unchecked, LIFO would return it
        allocator.deallocate(second);
    }

    @Test
    void poolsAreCheckedToo() {
        try (PoolAllocator pool = PoolAllocator.create("checked", MemoryLayout.sequenceLayout(64, ValueLayout.JAVA_BYTE), 4, CHECKED)) {
            MemorySegment block = pool.allocate();
            assertThatThrownBy(() -> pool.deallocate(block.asSlice(0, 32))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("a slice or resized segment of block");
            pool.deallocate(block);
            assertThatThrownBy(() -> pool.deallocate(block)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("double free").hasMessageContaining("pool 'checked'");
        }
    }

    @Test
    void systemPropertiesChooseTheOptions() {
        try {
            System.setProperty(AllocatorOptions.CHECKED_PROPERTY, "true");
            System.setProperty(AllocatorOptions.LEAK_DETECTION_PROPERTY, "Sampled");
            assertThat(AllocatorOptions.fromSystemProperties()).isEqualTo(new AllocatorOptions(true, LeakDetection.SAMPLED));
            assertThat(CachingAllocator.create(CacheInfo.of(2, 64)).options().checked()).isTrue();
            System.setProperty(AllocatorOptions.LEAK_DETECTION_PROPERTY, "always");
            assertThatThrownBy(AllocatorOptions::fromSystemProperties).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("Invalid system property hce.memory.leak-detection=always: 'always' is not a leak"
                            + " detection mode: off, sampled or paranoid");
            System.setProperty(AllocatorOptions.CHECKED_PROPERTY, "yes");
            assertThatThrownBy(AllocatorOptions::fromSystemProperties).hasMessageContaining("hce.memory.checked=yes");
        } finally {
            System.clearProperty(AllocatorOptions.CHECKED_PROPERTY);
            System.clearProperty(AllocatorOptions.LEAK_DETECTION_PROPERTY);
        }
        assertThat(AllocatorOptions.fromSystemProperties()).isEqualTo(AllocatorOptions.NONE);
    }
}
