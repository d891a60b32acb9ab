package io.hce.memory;

import io.hce.memory.testing.Validation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Blocks handed out as addresses or segments (owned) are freed onto quick lists and handed out again without
 * their headers being written (or read, but for a freed block's size in a heap of at most 4 MiB): the owned
 * bitmap alone says which are live. These tests attack that:
 * every way to use an owned block after its free must still be refused, whatever the block became since.
 * Each runs on a heap of 1 MiB, which reads a freed block's size from its header, and of 16 MiB, which reads it
 * from the block-start bitmap.
 */
@ParameterizedClass(name = "{0} bytes")
@ValueSource(longs = {1 << 20, 16 << 20})
class FixedHeapOwnedReuseTest {

    @RegisterExtension
    final Validation validation = new Validation();

    /** Unchecked whatever {@code hce.memory.checked} says: checked mode takes the watched paths instead. */
    private final FixedHeap heap;

    FixedHeapOwnedReuseTest(long capacity) {
        heap = validation.track(FixedHeap.create("owned", capacity, 1, false));
    }

    @Test
    void aFreedAddressIsHandedOutAgainAndItsSecondFreeIsRefused() {
        long address = heap.allocateAddress(100);
        heap.freeAddress(address);
        heap.verify();
        assertThrows(IllegalStateException.class, () -> heap.freeAddress(address), "free of a quick block");
        long again = heap.allocateAddress(100);
        assertEquals(address, again, "the quick block is reused");
        heap.verify();
        heap.freeAddress(again);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.freeAddress(again));
        assertTrue(e.getMessage().contains("double free"), e.getMessage());
        assertEquals(2, heap.statistics().allocations());
        assertEquals(2, heap.statistics().frees());
    }

    /**
     * Cachelot's round (mixed sizes, freed in allocation order, the same sizes again) gets every block back where
     * it was, in the same order: the kept blocks come back oldest first, so a round walks the heap in address
     * order as the one before did. Newest first would hand each size's blocks out in reverse.
     */
    @Test
    void aRoundFreedInAllocationOrderIsHandedOutAgainInTheSameOrder() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(13);
        long[] sizes = new long[2_000];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = 4 + random.nextInt(64 * (1 + i % 4)); // some sizes repeat many times, some rarely
        }
        long[] addresses = new long[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            addresses[i] = heap.allocateAddress(sizes[i]);
        }
        for (int round = 0; round < 3; round++) {
            for (long address : addresses) {
                heap.freeAddress(address);
            }
            for (int i = 0; i < sizes.length; i++) {
                assertEquals(addresses[i], heap.allocateAddress(sizes[i]), "round " + round + ", block " + i);
            }
            heap.verify();
        }
    }

    @Test
    void aSegmentOnAQuickListCannotBeTouchedFreedOrResized() {
        MemorySegment segment = heap.allocate(100);
        heap.free(segment);
        IllegalStateException touched = assertThrows(IllegalStateException.class, () -> heap.touch(segment));
        assertTrue(touched.getMessage().endsWith("is free already (freed, or evicted)")
                && !touched.getMessage().contains("double free"), "a touch is not a free: " + touched.getMessage());
        assertThrows(IllegalStateException.class, () -> heap.free(segment));
        assertThrows(IllegalStateException.class, () -> heap.tryResize(segment, 50));
        heap.verify();
    }

    @Test
    void anAddressWhoseBlockIsNowAHandlesIsRefused() {
        long address = heap.allocateAddress(100);
        heap.freeAddress(address);
        long handle = heap.allocateHandle(100);
        assertEquals(address, heap.segment(handle).address(), "the quick block went to the handle");
        heap.unpin(handle);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.freeAddress(address));
        assertTrue(e.getMessage().contains("handle"), e.getMessage());
        heap.verify();
        assertTrue(heap.free(handle));
    }

    @Test
    void aHandlesBlockReusedByAddressIsEvictedLikeAnyOwnedBlock() {
        long handle = heap.allocateHandle(100);
        long place = heap.segment(handle).address();
        heap.unpin(handle);
        assertTrue(heap.free(handle));
        long reused = heap.allocateAddress(100); // the quick block's header had state 0: written now
        assertEquals(place, reused);
        Set<Long> evicted = new HashSet<>();
        List<Long> live = new ArrayList<>();
        live.add(reused);
        while (!evicted.contains(reused)) {
            live.add(heap.allocateAddressOrEvict(4000, evicted::add));
            assertTrue(live.size() < 10_000, "the reused block was never evicted");
        }
        heap.verify();
        assertThrows(IllegalStateException.class, () -> heap.freeAddress(reused), "an evicted block");
    }

    @Test
    void ownedBlocksHandedOutAgainFromQuickListsAreEvictedOnceEachAndNeverFreedAfter() {
        List<Long> addresses = new ArrayList<>();
        for (long address; (address = heap.tryAllocateAddress(200)) != 0; ) {
            addresses.add(address);
        }
        Set<Long> freed = new HashSet<>();
        for (int i = 0; i < addresses.size(); i += 2) {
            heap.freeAddress(addresses.get(i));
            freed.add(addresses.get(i));
        }
        Set<Long> again = new HashSet<>();
        for (int i = 0; i < addresses.size(); i += 2) {
            again.add(heap.allocateAddress(200));
        }
        assertEquals(freed, again, "the freed blocks are handed out again");
        heap.verify();
        List<Long> evicted = new ArrayList<>();
        Set<Long> placed = new HashSet<>();
        for (int i = 0; i < 64; i++) {
            placed.add(heap.allocateAddressOrEvict(3000, evicted::add));
        }
        assertEquals(evicted.size(), new HashSet<>(evicted).size(), "each victim once");
        assertTrue(addresses.containsAll(evicted));
        heap.verify();
        int refused = 0;
        for (long victim : evicted) { // merged into a free block, or now inside another block
            if (placed.contains(victim)) {
                continue; // a new block starts there: its owner's address now, as with malloc
            }
            RuntimeException e = assertThrows(RuntimeException.class, () -> heap.freeAddress(victim));
            assertTrue(e instanceof IllegalStateException || e instanceof IllegalArgumentException, e.toString());
            refused++;
        }
        assertTrue(refused > evicted.size() / 2, refused + " of " + evicted.size() + " victims' addresses refused");
    }

    @Test
    void quickBlocksAreMergedBackWhenALargeRequestNeedsThem() {
        List<Long> addresses = new ArrayList<>();
        for (long address; (address = heap.tryAllocateAddress(16)) != 0; ) {
            addresses.add(address);
        }
        assertTrue(addresses.size() > 20_000, "more small blocks than the quick lists keep: " + addresses.size());
        addresses.forEach(heap::freeAddress);
        heap.verify();
        long all = heap.allocateAddress(heap.maxAllocation()); // the quick blocks merged, step by step
        heap.verify();
        heap.freeAddress(all);
    }

    /** Sizes around the end of the quick classes and of the block-start bitmap's scan for the next start. */
    @ParameterizedTest
    @ValueSource(longs = {16_336, 16_352, 16_368, 16_384, 16_400, 16_496, 20_000, 65_536, 300_000})
    void blocksAtTheBoundariesAreSizedRightWhenFreedByAddress(long byteSize) {
        long a = heap.allocateAddress(byteSize);
        long b = heap.allocateAddress(byteSize);
        MemorySegment.ofAddress(b).reinterpret(byteSize).fill((byte) 0x5A);
        heap.freeAddress(a);
        heap.verify();
        assertEquals(a, heap.allocateAddress(byteSize), "the freed block is reused for its size");
        heap.freeAddress(a);
        heap.freeAddress(b);
        heap.verify();
        assertEquals(heap.maxAllocation(), heap.statistics().largestFreeBlock());
    }

    @Test
    void aSegmentFreedWithTheWrongSizeIsRefusedAndStaysLive() {
        MemorySegment segment = heap.allocate(100);
        MemorySegment wider = MemorySegment.ofAddress(segment.address()).reinterpret(200);
        assertThrows(IllegalArgumentException.class, () -> heap.free(wider));
        heap.verify();
        heap.free(segment);
    }

    /** Two threads free the same address at once, again and again: exactly one is accepted each time. */
    @Test
    void twoConcurrentFreesOfOneAddressAreNeverBothAccepted() throws Exception {
        int rounds = 2_000;
        CyclicBarrier barrier = new CyclicBarrier(2);
        long[] shared = new long[1];
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        Thread one = Thread.ofPlatform().start(() -> racingFrees(rounds, true, barrier, shared, accepted, refused));
        Thread two = Thread.ofVirtual().start(() -> racingFrees(rounds, false, barrier, shared, accepted, refused));
        one.join();
        two.join();
        assertEquals(rounds, accepted.get());
        assertEquals(rounds, refused.get());
        assertEquals(rounds, heap.statistics().frees(), "each block released once");
        heap.verify();
    }

    /** One side of the race: the allocating side takes a new block (a boundary size in turn) before each round. */
    private void racingFrees(int rounds, boolean allocates, CyclicBarrier barrier, long[] shared, AtomicInteger accepted,
                             AtomicInteger refused) {
        try {
            for (int round = 0; round < rounds; round++) {
                if (allocates) {
                    shared[0] = heap.allocateAddress(32 + round % 200);
                    MemorySegment.ofAddress(shared[0]).reinterpret(32).set(ValueLayout.JAVA_LONG, 0, round);
                }
                barrier.await();
                try {
                    heap.freeAddress(shared[0]);
                    accepted.incrementAndGet();
                } catch (IllegalStateException expected) {
                    refused.incrementAndGet();
                }
                barrier.await();
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
