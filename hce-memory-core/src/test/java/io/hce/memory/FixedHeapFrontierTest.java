package io.hce.memory;

import io.hce.memory.testing.Validation;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The frontier: the free block an eviction sweep's victims merged into, kept out of the free lists, with the one
 * left offset that may be stale (the one right of it). Each test makes the frontier grow, shrink, move or end by
 * another path, and {@code verify()} (after each step, and after the test) then checks every left offset but the
 * one right of the current frontier: a path that left a stale one behind, or merged with the wrong neighbour, is
 * caught at the next step. Unchecked and checked mode (whose evictions and frees take the watched paths).
 *
 * <p>The layout of the tests that start with {@link #fill}: a 64 KiB heap filled with 1,500-byte values (1,520-byte blocks, carved downwards, 144 free bytes
 * left at the start), then one 1,000-byte put (a 1,024-byte block). It evicts the lowest value, {@code v[0]}, and
 * is carved off the start of the free space, leaving a 640-byte frontier between it and {@code v[1]}.
 */
class FixedHeapFrontierTest {

    private static final long CAPACITY = 64 << 10;
    private static final long VALUE = 1500;
    private static final long VALUE_BLOCK = 1520;
    private static final long FRONTIER = 640;

    @RegisterExtension
    final Validation validation = new Validation();

    private FixedHeap heap;
    private final List<Long> values = new ArrayList<>(); // the values' addresses, ascending
    private MemorySegment put;

    /** Fills a new heap with 1,500-byte values, their addresses in {@link #values}, ascending. */
    private void fillWithValues(String name, long capacity, boolean checked) {
        heap = validation.track(FixedHeap.create(name, capacity, 1, checked));
        for (long address; (address = heap.tryAllocateAddress(VALUE)) != 0; ) {
            values.add(address);
        }
        Collections.sort(values);
    }

    private void fill(boolean checked) {
        fillWithValues("frontier", CAPACITY, checked);
        List<Long> evicted = new ArrayList<>();
        put = heap.allocateOrEvict(1000, victim -> evicted.add(victim.address()));
        assertEquals(List.of(values.getFirst()), evicted);
        assertEquals(values.getFirst() - 144, put.address(), "carved off the start of the free space");
        assertEquals(FRONTIER - 16, heap.statistics().largestFreeBlock(), "the frontier is the only free block");
        heap.verify();
    }

    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {false, true})
    void aValueFreedRightOfTheFrontierMergesIntoIt(boolean checked) {
        fill(checked);
        heap.freeAddress(values.get(1)); // kept on a quick list: merged when statistics flush the lists
        assertEquals(FRONTIER + VALUE_BLOCK - 16, heap.statistics().largestFreeBlock());
        heap.verify();
        long next = heap.allocateAddressOrEvict(2000, victim -> { throw new AssertionError("it fits"); });
        assertEquals(put.address() + 1024, next, "carved off the frontier, which took the value in");
        heap.verify();
    }

    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {false, true})
    void aResizeGrowsIntoTheFrontierPartlyAndThenWholly(boolean checked) {
        fill(checked);
        MemorySegment grown = heap.tryResize(put, 1000 + 200); // a 1,216-byte block: 192 bytes more
        assertEquals(1200, grown.byteSize());
        assertEquals(FRONTIER - 192 - 16, heap.statistics().largestFreeBlock(), "the frontier gave up its start");
        heap.verify();
        long whole = 1024 + FRONTIER - 16; // the put's and the frontier's blocks, as one payload
        MemorySegment all = heap.tryResize(grown, whole);
        assertEquals(whole, all.byteSize());
        assertEquals(0, heap.statistics().largestFreeBlock(), "the frontier is gone");
        heap.verify(); // v[1]'s left offset is exact again
        heap.free(all);
        assertEquals(whole, heap.statistics().largestFreeBlock(), "merged (once flushed) into nothing else: both neighbours are used");
        heap.verify();
    }

    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {false, true})
    void aShrinkNextToTheFrontierMergesIntoIt(boolean checked) {
        fill(checked);
        MemorySegment shrunk = heap.tryResize(put, 100);
        assertEquals(100, shrunk.byteSize());
        assertEquals(FRONTIER + 1024 - 128 - 16, heap.statistics().largestFreeBlock());
        heap.verify();
        long next = heap.allocateAddressOrEvict(1000, victim -> { throw new AssertionError("it fits"); });
        assertEquals(put.address() + 128, next, "carved off the frontier, which took the shrunk block's tail in");
        heap.verify();
    }

    /**
     * A touched value right of the frontier is passed by: the next victim does not touch the frontier, which is
     * listed (its right neighbour's left offset written), and the victims from there on are the new frontier,
     * taken whole by the put (the left offset right of it written).
     */
    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {false, true})
    void aSweepThatPassesATouchedValueListsTheOldFrontierAndStartsANewOne(boolean checked) {
        fill(checked);
        heap.touchAddress(values.get(1));
        List<Long> evicted = new ArrayList<>();
        long next = heap.allocateAddressOrEvict(2 * VALUE_BLOCK - 16, evicted::add);
        assertEquals(List.of(values.get(2), values.get(3)), evicted);
        assertEquals(values.get(2), next, "the two victims' blocks, whole");
        assertEquals(FRONTIER - 16, heap.statistics().largestFreeBlock(), "the old frontier, now listed");
        heap.verify();
        heap.freeAddress(values.get(1)); // between the listed old frontier and the new block: merged on a flush
        assertEquals(FRONTIER + VALUE_BLOCK - 16, heap.statistics().largestFreeBlock());
        heap.verify();
    }

    /**
     * A frontier of 600,144 bytes (a 600,000-byte put merged back into it) takes in a 1,520-byte value freed right
     * of it without leaving its size class (classes are 16 KiB wide there): the merge must still go through the
     * frontier's books, not grow the block in place as a listed block of that class would.
     */
    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {false, true})
    void aValueMergedIntoALargeFrontierWithinItsClassKeepsTheFrontiersBooks(boolean checked) {
        fillWithValues("frontier-large", 1 << 20, checked); // 689 values, 1,264 bytes free left of them
        List<Long> evicted = new ArrayList<>();
        MemorySegment large = heap.allocateOrEvict(600_000, victim -> evicted.add(victim.address()));
        assertEquals(394, evicted.size(), "1,264 + 394 * 1,520 bytes hold 600,016 with 128 to spare");
        heap.free(large); // 16 KiB or more: merged at once, into the frontier right of it
        assertEquals(600_144 - 16, heap.statistics().largestFreeBlock());
        heap.verify();
        heap.freeAddress(values.get(394)); // right of the frontier: kept, then merged when statistics flush
        assertEquals(600_144 + VALUE_BLOCK - 16, heap.statistics().largestFreeBlock());
        heap.verify();
        long next = heap.allocateAddressOrEvict(600_000 + VALUE_BLOCK,
                victim -> { throw new AssertionError("it fits"); });
        assertEquals(large.address(), next, "carved off the frontier's start");
        heap.verify();
    }

    /**
     * A listed free block of 600,016 bytes left of a small block, with the frontier right of it: freeing the small
     * block merges all three within the listed block's size class. The result must become the frontier (it took
     * the frontier in), not grow the listed block in place and lose the frontier.
     */
    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {false, true})
    void aBlockFreedBetweenAListedBlockAndTheFrontierMergesAllThreeIntoTheFrontier(boolean checked) {
        fillWithValues("frontier-between", 1 << 20, checked); // 689 values, 1,264 bytes free left of them
        MemorySegment large = heap.allocateOrEvict(600_000, victim -> { }); // a 128-byte frontier right of it
        MemorySegment small = heap.allocateOrEvict(1000, victim -> { }); // one more victim: a 624-byte frontier
        assertEquals(large.address() + 600_016, small.address());
        heap.free(large); // 16 KiB or more, its neighbours used: merged at once, into its list
        assertEquals(600_016 - 16, heap.statistics().largestFreeBlock());
        heap.verify();
        heap.free(small); // kept, then merged when statistics flush the quick lists
        assertEquals(600_016 + 1024 + 624 - 16, heap.statistics().largestFreeBlock());
        heap.verify();
        long next = heap.allocateAddressOrEvict(601_000, victim -> { throw new AssertionError("it fits"); });
        assertEquals(large.address(), next, "carved off the start of the frontier the three became");
        heap.verify();
    }

    /**
     * Blocks of 16 KiB and more are merged when freed, not kept: a handle's block freed right of the frontier
     * finds the frontier as its left neighbour (its own left offset is the stale one) and merges into it.
     */
    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {false, true})
    void aLargeHandleBlockFreedRightOfTheFrontierMergesIntoIt(boolean checked) {
        heap = validation.track(FixedHeap.create("frontier-handles", 1 << 20, 1, checked));
        List<Long> handles = new ArrayList<>();
        java.util.Map<Long, Long> addresses = new java.util.HashMap<>();
        for (long handle; (handle = heap.tryAllocateHandle(20_000)) != 0; ) {
            addresses.put(handle, heap.segment(handle).address()); // under its creator's pin
            heap.unpin(handle); // evictable
            handles.add(handle);
        }
        handles.sort(java.util.Comparator.comparing(addresses::get));
        List<Long> evicted = new ArrayList<>();
        long first = heap.allocateHandleOrEvict(18_000, evicted::add);
        heap.unpin(first);
        assertEquals(List.of(handles.getFirst()), evicted);
        heap.verify();
        long frontier = heap.statistics().largestFreeBlock();
        assertTrue(heap.free(handles.get(1)));
        assertEquals(frontier + 20_016, heap.statistics().largestFreeBlock(), "merged into the frontier");
        heap.verify();
        long second = heap.allocateHandleOrEvict(29_000, evicted::add);
        assertEquals(1, evicted.size(), "the frontier holds it");
        heap.unpin(second);
        heap.verify();
    }
}
