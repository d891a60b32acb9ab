package io.hce.memory;

import io.hce.memory.testing.Validation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FixedHeapTest {

    private static final long CAPACITY = 1 << 20;

    /** Verifies every heap a test tracks once the test has passed, and closes it. */
    @RegisterExtension
    final Validation validation = new Validation();

    private final FixedHeap heap = validation.track(FixedHeap.create("test", CAPACITY));

    @Test
    void anEmptyHeapIsOneFreeBlockBetweenTwoBorders() {
        HeapStatistics statistics = heap.statistics();
        assertEquals(CAPACITY - 32, statistics.freeBytes());
        assertEquals(0, statistics.usedBytes());
        assertEquals(CAPACITY - 48, heap.maxAllocation());
        assertEquals(heap.maxAllocation(), statistics.largestFreeBlock());
    }

    @Test
    void blocksAreSixteenAlignedWithAHeaderEachAndSplitOffTheFreeBlock() {
        MemorySegment a = heap.allocate(1);
        MemorySegment b = heap.allocate(100);
        assertEquals(1, a.byteSize());
        assertEquals(100, b.byteSize());
        assertEquals(0, a.address() % 16);
        assertEquals(b.address() + 16 + 112, a.address(),
                "blocks are carved off the free block's end: 100 B take 7 granules after b's 16 B header, then a's");
        assertEquals(32 + 128, heap.statistics().usedBytes());
    }

    @Test
    void freeMergesWithBothNeighbours() {
        MemorySegment a = heap.allocate(1000);
        MemorySegment b = heap.allocate(1000);
        MemorySegment c = heap.allocate(1000);
        heap.free(a);
        heap.free(c); // merges with the big free block on its right
        heap.verify();
        heap.free(b); // merges left and right: the heap is one free block again
        heap.verify();
        HeapStatistics statistics = heap.statistics();
        assertEquals(CAPACITY - 32, statistics.freeBytes());
        assertEquals(heap.maxAllocation(), statistics.largestFreeBlock());
        assertEquals(3, statistics.allocations());
        assertEquals(3, statistics.frees());
        assertEquals(heap.maxAllocation(), heap.allocate(heap.maxAllocation()).byteSize());
    }

    @Test
    void aFreedBlockIsReusedForARequestOfItsSize() {
        MemorySegment a = heap.allocate(3000);
        heap.allocate(10);
        heap.free(a);
        assertEquals(a.address(), heap.allocate(3000).address());
    }

    @Test
    void exhaustionThrowsOrReturnsNullAndIsCounted() {
        heap.allocate(heap.maxAllocation() - 1000);
        HeapExhaustedException e = assertThrows(HeapExhaustedException.class, () -> heap.allocate(5000));
        assertEquals(5000, e.requestedBytes());
        assertTrue(e.getMessage().contains("heap 'test' has no free block for 5000 bytes"), e.getMessage());
        assertSame(MemorySegment.NULL, heap.tryAllocate(5000));
        assertEquals(2, heap.statistics().failures());
    }

    /**
     * A full cache's puts are carved off the start of the free block at the hand (the frontier), where the last
     * put left off and the next victims merge in: a new value lies right after the one before. Only the hand's
     * wrap at the end of the heap, or a small leftover that a put fits (and takes first), breaks the run, and the
     * next put goes on from where it was (7 breaks here). When each sweep's rest went into the free lists and new
     * blocks were carved off the end of the sweep's free block, 1,971 of the 2,000 puts broke the run.
     */
    @Test
    void putsIntoAFullHeapAreLaidOutOneAfterAnotherAtTheHand() {
        FixedHeap full = validation.track(FixedHeap.create("frontier", CAPACITY, 1, false));
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        while (full.tryAllocateAddress(100 + random.nextInt(3000)) != 0) {
            // fill it
        }
        long[] lastEnds = new long[3]; // where the last three puts ended
        java.util.Deque<Long> recent = new java.util.ArrayDeque<>(); // the last 100: a sixth of a turn of ~650 puts
        int breaks = 0;
        for (int i = 0; i < 2_000; i++) {
            long size = 100 + random.nextInt(3000);
            long address = full.allocateAddressOrEvict(size, victim -> assertTrue(!recent.contains(victim),
                    "a value put less than 100 puts ago is evicted: it did not go behind the hand"));
            recent.addLast(address);
            if (recent.size() > 100) {
                recent.removeFirst();
            }
            boolean inRun = false;
            for (long end : lastEnds) { // +16: a put took a whole free block that was 16 bytes too large to split
                inRun |= address == end || address == end + 16;
            }
            breaks += i > 0 && !inRun ? 1 : 0;
            lastEnds[i % lastEnds.length] = address + ((size + 16 + 15) & -16);
        }
        assertTrue(breaks <= 40, breaks + " of 2,000 puts were not laid right after one of the three before");
        full.verify();
    }

    /**
     * CLOCK in address order: blocks are carved off the free block's end, so block 3 is lowest. The hand
     * starts at the left: 3 goes first, and the fresh block is carved off the start of the free space it merged
     * into; the second request sweeps on (2, 1), gives touched block 0 a second chance, wraps, and takes the
     * fresh block and then 0.
     */
    @Test
    void evictionSweepsInAddressOrderGivesTouchedBlocksASecondChanceAndTellsTheOwnerFirst() {
        long size = heap.maxAllocation() / 4 - 64;
        List<MemorySegment> blocks = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            MemorySegment block = heap.allocate(size);
            block.fill((byte) i);
            blocks.add(block);
        }
        heap.touch(blocks.get(0));
        long leftOver = heap.statistics().freeBytes(); // one free block, left of block 3
        List<Long> evicted = new ArrayList<>();
        MemorySegment fresh = heap.allocateOrEvict(size, victim -> {
            assertTrue(victim.byteSize() >= size);
            assertEquals(3, victim.get(ValueLayout.JAVA_BYTE, 0), "the memory is intact when the owner hears");
            evicted.add(victim.address());
        });
        assertEquals(List.of(blocks.get(3).address()), evicted);
        assertEquals(blocks.get(3).address() - leftOver, fresh.address(), "carved off the start of the free space");
        assertEquals(1, heap.statistics().evictions());
        MemorySegment huge = heap.allocateOrEvict(heap.maxAllocation(), victim -> evicted.add(victim.address()));
        assertEquals(List.of(blocks.get(3).address(), blocks.get(2).address(), blocks.get(1).address(),
                fresh.address(), blocks.get(0).address()), evicted);
        assertEquals(heap.maxAllocation(), huge.byteSize());
        assertEquals(5, heap.statistics().evictions());
    }

    @Test
    void aThrowingCallbackLeavesTheVictimAllocatedAndTheHeapConsistent() {
        MemorySegment victim = heap.allocate(heap.maxAllocation() - 100);
        assertThrows(IllegalStateException.class,
                () -> heap.allocateOrEvict(1000, v -> { throw new IllegalStateException("owner refuses"); }));
        heap.verify();
        assertEquals(0, heap.statistics().evictions());
        heap.free(victim); // still live: freeing it works once
        validation.expectNothingLive();
    }

    @Test
    void aCallbackMustNotCallBackIntoTheHeap() {
        heap.allocate(heap.maxAllocation() - 100);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> heap.allocateOrEvict(1000, heap::free));
        assertTrue(e.getMessage().contains("must not call back into it"), e.getMessage());
    }

    @Test
    void badRequestsAreRejectedAndChangeNothing() {
        MemorySegment live = heap.allocate(64);
        HeapStatistics before = heap.statistics();
        CacheInfoTest.assertMessage(() -> heap.allocate(0), "between 1 and its maxAllocation() " + heap.maxAllocation(), "was 0");
        CacheInfoTest.assertMessage(() -> heap.allocate(-5), "was -5");
        CacheInfoTest.assertMessage(() -> heap.tryAllocate(heap.maxAllocation() + 1),
                String.valueOf(heap.maxAllocation()), "was " + (heap.maxAllocation() + 1));
        CacheInfoTest.assertMessage(() -> heap.allocateOrEvict(1L << 40, v -> { }), "was " + (1L << 40));
        assertThrows(NullPointerException.class, () -> heap.allocateOrEvict(8, null));
        assertThrows(NullPointerException.class, () -> heap.free(null));
        CacheInfoTest.assertMessage(() -> heap.free(MemorySegment.ofArray(new byte[64])), "not a block of heap 'test'");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment foreign = arena.allocate(64);
            CacheInfoTest.assertMessage(() -> heap.free(foreign), "not a block of heap 'test'");
        }
        try (FixedHeap other = FixedHeap.create("other", CAPACITY)) {
            MemorySegment ofOther = other.allocate(64);
            CacheInfoTest.assertMessage(() -> heap.free(ofOther), "not a block of heap 'test'");
        }
        CacheInfoTest.assertMessage(() -> heap.free(live.asSlice(16)), "not a block of this heap");
        CacheInfoTest.assertMessage(() -> heap.touch(live.asSlice(8)), "not a block of this heap");
        assertEquals(before, heap.statistics());
    }

    @Test
    void doubleFreesAreCaughtWhetherOrNotTheBlockWasMerged() {
        MemorySegment a = heap.allocate(64);
        MemorySegment b = heap.allocate(64);
        heap.allocate(64); // keeps b from merging to the right
        heap.free(b);
        IllegalStateException unmerged = assertThrows(IllegalStateException.class, () -> heap.free(b));
        assertTrue(unmerged.getMessage().contains("double free"), unmerged.getMessage());
        heap.free(a); // a merges with the free b on its right: b's header is marked as merged
        assertThrows(IllegalStateException.class, () -> heap.free(b));
        assertThrows(IllegalStateException.class, () -> heap.free(a));
        assertThrows(IllegalStateException.class, () -> heap.touch(a));
        heap.verify();
        assertEquals(2, heap.statistics().frees());
    }

    /**
     * Regression: memory reused from an earlier heap may hold its merged-header marks; inside a live block
     * of this heap such a mark is not a block of this heap (it was once reported as a double free).
     */
    @Test
    void aStaleMergeMarkInsideABlockIsNotTakenForADoubleFree() {
        MemorySegment live = heap.allocate(256);
        TlsfMark.write(live.asSlice(32, 16)); // what an earlier heap's merged header looks like
        CacheInfoTest.assertMessage(() -> heap.free(live.asSlice(48)), "not a block of this heap");
        heap.free(live);
        validation.expectNothingLive();
    }

    @Test
    void createRejectsBadNamesAndCapacities() {
        assertThrows(NullPointerException.class, () -> FixedHeap.create(null, CAPACITY));
        CacheInfoTest.assertMessage(() -> FixedHeap.create(" ", CAPACITY), "name must not be blank");
        CacheInfoTest.assertMessage(() -> FixedHeap.create("tiny", 4095), "capacity of heap 'tiny' must be between 4KB and 64GB");
        CacheInfoTest.assertMessage(() -> FixedHeap.create("huge", FixedHeap.MAX_CAPACITY + 1), "was " + (FixedHeap.MAX_CAPACITY + 1));
    }

    @Test
    void closingMakesTheSegmentsAndTheHeapUnusable() {
        FixedHeap closing = FixedHeap.create("closing", FixedHeap.MIN_CAPACITY);
        MemorySegment block = closing.allocate(100);
        block.set(ValueLayout.JAVA_INT, 0, 42);
        closing.close();
        closing.close();
        assertThrows(IllegalStateException.class, () -> block.get(ValueLayout.JAVA_INT, 0));
        CacheInfoTest.assertState(() -> closing.allocate(8), "heap 'closing' is closed");
        CacheInfoTest.assertState(() -> closing.free(block), "heap 'closing' is closed");
        CacheInfoTest.assertState(closing::verify, "heap 'closing' is closed");
        assertEquals(1, closing.statistics().allocations());
        assertEquals(0, closing.statistics().usedBytes());
    }

    /**
     * A full heap of several shards: a request that the shards' hints pass by takes no lock, so the refusal of a
     * closed heap comes after the failure. It is still a refusal: no {@code 0}, no exhaustion, no failure counted.
     */
    @Test
    void aFullHeapOfSeveralShardsRefusesRequestsOnceClosed() {
        FixedHeap full = FixedHeap.create("full", 8 << 20, 2, false);
        full.allocateAddress(full.maxAllocation());
        full.allocateAddress(full.maxAllocation());
        full.close();
        CacheInfoTest.assertState(() -> full.tryAllocateAddress(16), "heap 'full' is closed");
        CacheInfoTest.assertState(() -> full.allocateAddress(16), "heap 'full' is closed");
        CacheInfoTest.assertState(() -> full.tryAllocate(16), "heap 'full' is closed");
        CacheInfoTest.assertState(() -> full.tryAllocateHandle(16), "heap 'full' is closed");
        assertEquals(0, full.statistics().failures());
    }

    /** Cachelot's benchmark workload: uniform sizes in [4, 4080] until the first failure in a 64 MiB heap. */
    @Test
    void uniformSmallBlocksFillAtLeastNinetyFivePercent() {
        FixedHeap big = validation.track(FixedHeap.create("utilisation", 64 << 20));
        java.util.SplittableRandom random = new java.util.SplittableRandom(42);
        long requested = 0;
        while (true) {
            long size = 4 + random.nextInt(4077);
            if (big.tryAllocate(size).equals(MemorySegment.NULL)) {
                break;
            }
            requested += size;
        }
        double utilisation = (double) requested / big.capacity();
        System.out.printf("FixedHeap utilisation: %.2f%% of %d bytes requested and placed (%.2f%% in blocks)%n",
                100 * utilisation, big.capacity(), 100.0 * big.statistics().usedBytes() / big.capacity());
        assertTrue(utilisation >= 0.95, "utilisation " + utilisation);
    }

    /**
     * Cachelot's benchmark reuses its arena: filled by address to the first failure, freed in allocation order
     * (then shuffled), and filled again. The freed blocks are kept for reuse, unmerged, and merged only when a
     * request finds no free block: every round must still place at least 95 % of the capacity.
     */
    @Test
    void uniformSmallBlocksRefillAtLeastNinetyFivePercentRoundAfterRound() {
        FixedHeap big = validation.track(FixedHeap.create("refill", 64 << 20, 1, false));
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        for (int round = 0; round < 4; round++) {
            List<Long> addresses = new ArrayList<>();
            long requested = 0;
            for (long size = 4 + random.nextInt(4077), address; (address = big.tryAllocateAddress(size)) != 0;
                 size = 4 + random.nextInt(4077)) {
                addresses.add(address);
                requested += size;
            }
            double utilisation = (double) requested / big.capacity();
            assertTrue(utilisation >= 0.95, "round " + round + ": utilisation " + utilisation);
            if (round % 2 == 1) {
                java.util.Collections.shuffle(addresses, new java.util.Random(round));
            }
            addresses.forEach(big::freeAddress);
            big.verify();
        }
        assertEquals(big.maxAllocation(), big.statistics().largestFreeBlock(), "all merged back");
    }

    @Test
    void heapsBeyondAGibibyteAreCutIntoShardsOfAtMostOne() {
        FixedHeap big = validation.track(FixedHeap.create("five", 5L << 30));
        long max = big.maxAllocation();
        assertEquals(8, big.shards(), "a power of two of shards of at most 1 GiB");
        assertEquals((5L << 30) / 8 / 16 * 16 - 48, max, "eight equal shards");
        List<MemorySegment> blocks = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            MemorySegment block = big.allocate(max);
            block.set(ValueLayout.JAVA_LONG, max - 8, i);
            blocks.add(block);
        }
        assertThrows(HeapExhaustedException.class, () -> big.allocate(1));
        big.verify();
        for (int i = 0; i < 8; i++) {
            assertEquals(i, blocks.get(i).get(ValueLayout.JAVA_LONG, max - 8));
            big.free(blocks.get(i));
        }
        big.verify();
        assertEquals(max, big.statistics().largestFreeBlock());
        MemorySegment small = big.allocate(1000);
        big.free(small);
        validation.expectNothingLive();
    }

    /** Writes what a merged header of some other heap looks like: size 0, 0xDEADBEEF, a salted granule. */
    private static final class TlsfMark {
        static void write(MemorySegment header) {
            header.set(ValueLayout.JAVA_INT, 0, 0);
            header.set(ValueLayout.JAVA_INT, 4, 0xDEADBEEF);
            header.set(ValueLayout.JAVA_INT, 8, 12345);
            header.set(ValueLayout.JAVA_INT, 12, 0);
        }
    }
}
