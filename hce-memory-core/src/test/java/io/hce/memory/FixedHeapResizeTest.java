package io.hce.memory;

import io.hce.memory.testing.Validation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link FixedHeap#tryResize}: grows a block into a free right neighbour, shrinks it by splitting off a free
 * tail, and otherwise returns NULL and changes nothing; contents are kept; the heap verified after each test
 * ({@link io.hce.memory.testing.Validation}), and often within it.
 *
 * <p>Every heap has one shard of 64 KiB. A block of {@code n} bytes takes {@code n + 16} rounded up to 16;
 * the layouts are built in address order whichever end of a free block the heap carves new blocks from.
 */
class FixedHeapResizeTest {

    private static final long CAPACITY = 64 << 10;
    /** The free block of an empty shard: all but its two 16-byte borders. */
    private static final long SHARD_FREE = CAPACITY - 32;

    /** Whether consecutive allocations from one free block go up in address (carved off its start) or down. */
    private static final boolean CARVES_UPWARD;

    static {
        try (FixedHeap probe = FixedHeap.create("probe", CAPACITY, 1, false)) {
            CARVES_UPWARD = probe.allocate(16).address() < probe.allocate(16).address();
        }
    }

    /** Verifies every heap a test tracks once the test has passed, and closes it. */
    @RegisterExtension
    final Validation validation = new Validation();

    private final FixedHeap heap = validation.track(FixedHeap.create("resize", CAPACITY, 1, false));

    // ---- grow ---------------------------------------------------------------------------------------------

    @Test
    void growsIntoAFreeRightNeighbourAndSplitsOffTheRest() {
        List<MemorySegment> blocks = inAddressOrderThenFull(100, 200, 100); // blocks of 128, 224, 128
        MemorySegment a = pattern(blocks.get(0));
        MemorySegment c = pattern(blocks.get(2));
        heap.free(blocks.get(1));
        long used = heap.statistics().usedBytes();

        MemorySegment grown = heap.tryResize(a, 200); // a block of 224 out of 128 + 224: 128 left over
        assertEquals(a.address(), grown.address(), "in place");
        assertEquals(200, grown.byteSize());
        assertPattern(grown, 100, "contents kept");
        heap.verify();
        HeapStatistics statistics = heap.statistics();
        assertEquals(used + 96, statistics.usedBytes());
        assertEquals(128, statistics.freeBytes(), "the rest of the neighbour is a free block");
        assertEquals(112, statistics.largestFreeBlock());
        assertPattern(c, 100, "the next block is untouched");

        MemorySegment tail = heap.allocate(112); // the rest is reusable, right behind the grown block
        assertEquals(a.address() + 224, tail.address());
        heap.free(tail);
        heap.free(grown);
    }

    @Test
    void growsIntoTheWholeNeighbourWhenItFitsExactly() {
        List<MemorySegment> blocks = inAddressOrderThenFull(100, 200, 100);
        MemorySegment a = pattern(blocks.get(0));
        pattern(blocks.get(2));
        heap.free(blocks.get(1));
        MemorySegment grown = heap.tryResize(a, 336); // 352 = 128 + 224
        assertEquals(a.address(), grown.address());
        assertEquals(336, grown.byteSize());
        assertPattern(grown, 100, "contents kept");
        assertEquals(0, heap.statistics().freeBytes());
        heap.verify();
        grown.set(ValueLayout.JAVA_BYTE, 335, (byte) 1);
        assertPattern(blocks.get(2), 100, "the next block is untouched");
        heap.free(grown);
    }

    @Test
    void growsIntoTheWholeNeighbourWhenTheRestWouldBeTooSmallForABlock() {
        List<MemorySegment> blocks = inAddressOrderThenFull(100, 200, 100);
        MemorySegment a = pattern(blocks.get(0));
        heap.free(blocks.get(1));
        long used = heap.statistics().usedBytes();
        MemorySegment grown = heap.tryResize(a, 320); // a block of 336: 16 left, less than a block
        assertEquals(a.address(), grown.address());
        assertEquals(320, grown.byteSize());
        assertPattern(grown, 100, "contents kept");
        assertEquals(0, heap.statistics().freeBytes(), "the 16 bytes went with the block");
        assertEquals(used + 224, heap.statistics().usedBytes());
        heap.verify();
        heap.free(grown);
    }

    @Test
    void growsToMaxAllocationIntoAWholeFreeShard() {
        List<MemorySegment> blocks = inAddressOrder(100, SHARD_FREE - 128 - 16); // a, then all the rest
        MemorySegment a = pattern(blocks.get(0));
        heap.free(blocks.get(1));
        MemorySegment grown = heap.tryResize(a, heap.maxAllocation());
        assertEquals(a.address(), grown.address());
        assertEquals(heap.maxAllocation(), grown.byteSize());
        assertPattern(grown, 100, "contents kept");
        assertEquals(0, heap.statistics().freeBytes());
        heap.verify();
        heap.free(grown);
        assertEquals(heap.maxAllocation(), heap.statistics().largestFreeBlock());
    }

    @Test
    void doesNotGrowIntoAUsedNeighbour() {
        List<MemorySegment> blocks = inAddressOrderThenFull(100, 200, 100);
        MemorySegment a = pattern(blocks.get(0));
        pattern(blocks.get(1));
        HeapStatistics before = heap.statistics();
        assertEquals(MemorySegment.NULL, heap.tryResize(a, 113), "113 bytes need a block of 144, a has 128");
        assertEquals(MemorySegment.NULL, heap.tryResize(a, 200));
        assertUnchanged(before, a, blocks.get(1));
        heap.free(a); // still the block it was, at its size
    }

    @Test
    void doesNotGrowIntoAFreeNeighbourTooSmall() {
        List<MemorySegment> blocks = inAddressOrderThenFull(100, 200, 100);
        MemorySegment a = pattern(blocks.get(0));
        heap.free(blocks.get(1));
        HeapStatistics before = heap.statistics();
        assertEquals(MemorySegment.NULL, heap.tryResize(a, 337), "a block of 368 > 128 + 224");
        assertEquals(MemorySegment.NULL, heap.tryResize(a, heap.maxAllocation()));
        assertUnchanged(before, a, blocks.get(2));
        assertEquals(224, before.freeBytes(), "the neighbour is still free, whole");
        assertEquals(MemorySegment.NULL, heap.tryAllocate(209), "and no larger");
        assertEquals(blocks.get(1).address(), heap.allocate(208).address(), "and still there");
    }

    @Test
    void doesNotGrowTheLastBlockOfTheShard() {
        List<MemorySegment> blocks = inAddressOrder(SHARD_FREE - 128 - 16, 100); // all but a, then a at the end
        MemorySegment a = pattern(blocks.get(1));
        heap.free(blocks.get(0)); // free, but on the left
        HeapStatistics before = heap.statistics();
        assertEquals(MemorySegment.NULL, heap.tryResize(a, 200), "only the right neighbour counts: the border");
        assertUnchanged(before, a, a);
    }

    // ---- shrink -------------------------------------------------------------------------------------------

    @Test
    void shrinksBySplittingOffAReusableTail() {
        List<MemorySegment> blocks = inAddressOrderThenFull(1000, 100); // blocks of 1024 and 128
        MemorySegment a = pattern(blocks.get(0));
        MemorySegment b = pattern(blocks.get(1));
        long used = heap.statistics().usedBytes();
        MemorySegment shrunk = heap.tryResize(a, 100); // a block of 128, a free tail of 896
        assertEquals(a.address(), shrunk.address());
        assertEquals(100, shrunk.byteSize());
        assertPattern(shrunk, 100, "contents kept");
        heap.verify();
        HeapStatistics statistics = heap.statistics();
        assertEquals(used - 896, statistics.usedBytes());
        assertEquals(896, statistics.freeBytes());
        assertEquals(880, statistics.largestFreeBlock());
        MemorySegment tail = heap.allocate(880);
        assertEquals(a.address() + 128, tail.address(), "the tail is reused, right behind the shrunk block");
        assertPattern(b, 100, "the next block is untouched");
    }

    @Test
    void theShrunkTailMergesWithAFreeRightNeighbour() {
        List<MemorySegment> blocks = inAddressOrderThenFull(1000, 100, 100); // 1024, 128, 128
        MemorySegment a = pattern(blocks.get(0));
        pattern(blocks.get(2));
        heap.free(blocks.get(1));
        MemorySegment shrunk = heap.tryResize(a, 100);
        assertEquals(a.address(), shrunk.address());
        assertPattern(shrunk, 100, "contents kept");
        heap.verify();
        HeapStatistics statistics = heap.statistics();
        assertEquals(896 + 128, statistics.freeBytes());
        assertEquals(896 + 128 - 16, statistics.largestFreeBlock(), "the tail and the free neighbour are one block");
        heap.verify();
        assertEquals(a.address() + 128, heap.allocate(896 + 128 - 16).address());
        assertPattern(blocks.get(2), 100, "the block after is untouched");
    }

    @Test
    void theShrunkTailOfTheLastBlockGoesBackToTheFreeRest() {
        List<MemorySegment> blocks = inAddressOrder(1000, SHARD_FREE - 1024 - 16); // a, then all the rest
        MemorySegment a = pattern(blocks.get(0));
        heap.free(blocks.get(1));
        MemorySegment shrunk = heap.tryResize(a, 1);
        assertEquals(a.address(), shrunk.address());
        assertEquals(1, shrunk.byteSize());
        heap.verify();
        assertEquals(SHARD_FREE - 32, heap.statistics().freeBytes());
        assertEquals(SHARD_FREE - 32 - 16, heap.statistics().largestFreeBlock(), "one free block");
        heap.free(shrunk);
        assertEquals(heap.maxAllocation(), heap.statistics().largestFreeBlock());
    }

    @Test
    void shrinkingByLessThanABlockKeepsTheBlockWhole() {
        List<MemorySegment> blocks = inAddressOrderThenFull(100, 100);
        MemorySegment a = pattern(blocks.get(0));
        HeapStatistics before = heap.statistics();
        MemorySegment shrunk = heap.tryResize(a, 90); // 112 of 128: 16 left, less than a block
        assertEquals(a.address(), shrunk.address());
        assertEquals(90, shrunk.byteSize());
        assertPattern(shrunk, 90, "contents kept");
        assertEquals(before, heap.statistics(), "nothing split off");
        MemorySegment back = heap.tryResize(shrunk, 112); // the block's whole payload is still its own
        assertEquals(a.address(), back.address());
        assertEquals(before, heap.statistics());
    }

    @Test
    void resizingToTheSameSizeChangesNothing() {
        List<MemorySegment> blocks = inAddressOrderThenFull(100, 100);
        MemorySegment a = pattern(blocks.get(0));
        HeapStatistics before = heap.statistics();
        MemorySegment same = heap.tryResize(a, 100);
        assertEquals(a.address(), same.address());
        assertEquals(100, same.byteSize());
        assertEquals(before, heap.statistics());
        assertPattern(same, 100, "contents kept");
    }

    @Test
    void growThenShrinkBackRestoresTheLayout() {
        List<MemorySegment> blocks = inAddressOrderThenFull(100, 200, 100);
        MemorySegment a = pattern(blocks.get(0));
        heap.free(blocks.get(1));
        HeapStatistics before = heap.statistics();
        MemorySegment grown = heap.tryResize(a, 336);
        heap.verify();
        MemorySegment shrunk = heap.tryResize(grown, 100);
        assertEquals(a.address(), shrunk.address());
        heap.verify();
        HeapStatistics after = heap.statistics();
        assertEquals(before.usedBytes(), after.usedBytes());
        assertEquals(before.freeBytes(), after.freeBytes());
        assertEquals(before.largestFreeBlock(), after.largestFreeBlock());
        assertEquals(blocks.get(1).address(), heap.allocate(208).address(), "the neighbour's room is back, whole");
        assertPattern(shrunk, 100, "contents kept");
    }

    @Test
    void aFreedSegmentCannotBeResized() {
        List<MemorySegment> blocks = inAddressOrderThenFull(100, 100);
        heap.free(blocks.get(0));
        HeapStatistics before = heap.statistics();
        assertThrows(IllegalStateException.class, () -> heap.tryResize(blocks.get(0), 50));
        assertEquals(before, heap.statistics());
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /**
     * Allocates blocks of the given payload sizes so that they lie next to each other in this order of
     * address, from the shard's one free block.
     */
    private List<MemorySegment> inAddressOrder(long... sizes) {
        List<MemorySegment> blocks = new ArrayList<>();
        if (CARVES_UPWARD) {
            for (long size : sizes) {
                blocks.add(heap.allocate(size));
            }
        } else {
            for (int i = sizes.length - 1; i >= 0; i--) {
                blocks.addFirst(heap.allocate(sizes[i]));
            }
        }
        for (int i = 1; i < blocks.size(); i++) {
            long blockSize = (blocks.get(i - 1).byteSize() + 16 + 15) & -16;
            if (blocks.get(i - 1).address() + blockSize != blocks.get(i).address()) {
                fail("blocks " + (i - 1) + " and " + i + " are not adjacent");
            }
        }
        return blocks;
    }

    /** As {@link #inAddressOrder}, then the rest of the shard allocated, so that nothing is free. */
    private List<MemorySegment> inAddressOrderThenFull(long... sizes) {
        List<MemorySegment> blocks = inAddressOrder(sizes);
        heap.allocate(heap.statistics().largestFreeBlock());
        assertEquals(0, heap.statistics().freeBytes());
        if (CARVES_UPWARD) {
            // the rest lies right of the last block: it is a used neighbour, as wanted
            assertTrue(heap.statistics().usedBytes() > 0);
        }
        heap.verify();
        return blocks;
    }

    /** Fills a block with {@code i % 251} at byte i. @return the block */
    private static MemorySegment pattern(MemorySegment block) {
        for (long i = 0; i < block.byteSize(); i++) {
            block.set(ValueLayout.JAVA_BYTE, i, (byte) (i % 251));
        }
        return block;
    }

    private static void assertPattern(MemorySegment block, long length, String what) {
        for (long i = 0; i < length; i++) {
            if (block.get(ValueLayout.JAVA_BYTE, i) != (byte) (i % 251)) {
                fail(what + ": byte " + i + " changed");
            }
        }
    }

    private void assertUnchanged(HeapStatistics before, MemorySegment block, MemorySegment neighbour) {
        assertEquals(before.usedBytes(), heap.statistics().usedBytes(), "the block is unchanged");
        assertEquals(before.freeBytes(), heap.statistics().freeBytes());
        assertEquals(before.largestFreeBlock(), heap.statistics().largestFreeBlock());
        assertPattern(block, block.byteSize(), "contents kept");
        heap.verify();
        assertTrue(neighbour.byteSize() > 0);
    }
}
