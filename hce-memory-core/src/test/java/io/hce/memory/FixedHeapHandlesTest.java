package io.hce.memory;

import io.hce.memory.testing.Validation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The handle API of {@link FixedHeap}: creator pins, stale handles (ABA included), deferred free of a pinned
 * block, range checks, reads from an eviction callback, and the CLOCK policy seen through handles.
 *
 * <p>All heaps here have one shard of 64 KiB, so sizes are exact: the shard is {@code [border 16 | blocks ... |
 * border 16]} and a request of {@code n} bytes takes a block of {@code n + 16} rounded up to 16. Which end of a
 * free block new blocks are carved from is left to the heap: layouts are read back in address order.
 */
class FixedHeapHandlesTest {

    private static final long CAPACITY = 64 << 10;
    /** Four blocks of this size (header included) fill the shard but for a 32-byte free block. */
    private static final long QUARTER_BLOCK = 16368;
    private static final long QUARTER_PAYLOAD = QUARTER_BLOCK - 16;

    /** Verifies the heap once a test has passed, and closes it. */
    @RegisterExtension
    final Validation validation = new Validation();

    private final FixedHeap heap = validation.track(FixedHeap.create("handles", CAPACITY, 1, false));

    // ---- creator pins -------------------------------------------------------------------------------------

    @Test
    void aNewHandleBlockIsPinnedByItsCreatorAndNotEvictedUntilUnpinned() {
        long only = heap.allocateHandle(heap.maxAllocation());
        heap.write(only, 0, MemorySegment.ofArray(new byte[] {1, 2, 3, 4}), 0, 4); // write needs a pin: the creator's
        List<Long> evicted = new ArrayList<>();
        HeapExhaustedException e = assertThrows(HeapExhaustedException.class,
                () -> heap.allocateHandleOrEvict(1, evicted::add));
        assertEquals(1, e.requestedBytes());
        assertThrows(HeapExhaustedException.class, () -> heap.allocateOrEvict(1, v -> evicted.add(v.address())));
        assertThrows(HeapExhaustedException.class, () -> heap.allocateAddressOrEvict(1, evicted::add));
        assertEquals(List.of(), evicted, "a block pinned by its creator is passed by");
        assertEquals(0, heap.statistics().evictions());
        assertEquals(3, heap.statistics().failures());
        assertArrayEquals(new byte[] {1, 2, 3, 4}, read(only, 4), "the pinned block is intact");
        heap.verify();

        heap.unpin(only);
        long next = heap.allocateHandleOrEvict(1, evicted::add);
        assertEquals(List.of(only), evicted, "once unpinned it is the one block to evict");
        assertFalse(heap.pin(only));
        assertEquals(16, heap.capacityOf(next));
        heap.unpin(next);
        heap.verify();
    }

    @Test
    void evictionPassesAPinnedBlockByAndTakesTheUnpinnedOneThenThrowsWhenOnlyPinnedBlocksAreLeft() {
        long pinned = heap.allocateHandle(2 * QUARTER_BLOCK - 16); // kept pinned by its creator
        fill(pinned, (byte) 7);
        long unpinned = heap.allocateHandle(heap.statistics().largestFreeBlock()); // the rest of the shard
        heap.unpin(unpinned);
        assertEquals(0, heap.statistics().freeBytes(), "the shard is full");
        long unpinnedCapacity = heap.capacityOf(unpinned);

        List<Long> evicted = new ArrayList<>();
        long replacement = heap.allocateHandleOrEvict(unpinnedCapacity, evicted::add);
        assertEquals(List.of(unpinned), evicted, "the hand passes the pinned block by and takes the unpinned one");
        assertEquals(unpinnedCapacity, heap.capacityOf(replacement));
        heap.verify();

        // both blocks are pinned now (the replacement by its creator): nothing else can go
        HeapExhaustedException e = assertThrows(HeapExhaustedException.class,
                () -> heap.allocateHandleOrEvict(1, evicted::add));
        assertEquals(1, e.requestedBytes());
        assertTrue(e.getMessage().contains("nothing left to evict"), e.getMessage());
        assertEquals(List.of(unpinned), evicted);
        assertEquals(1, heap.statistics().evictions());
        assertTrue(isFilledWith(pinned, (byte) 7), "the pinned block is intact");
        heap.verify();

        heap.unpin(pinned);
        long last = heap.allocateHandleOrEvict(1, evicted::add);
        assertEquals(List.of(unpinned, pinned), evicted);
        heap.unpin(last);
        heap.unpin(replacement);
        heap.verify();
    }

    @Test
    void unpinningTwiceThrows() {
        long handle = heap.allocateHandle(100);
        heap.unpin(handle);
        CacheInfoTest.assertState(() -> heap.unpin(handle), "not pinned", "0x" + Long.toHexString(handle));
        assertTrue(heap.pin(handle));
        assertTrue(heap.pin(handle));
        heap.unpin(handle);
        heap.unpin(handle);
        assertThrows(IllegalStateException.class, () -> heap.unpin(handle));
        heap.verify();
    }

    // ---- stale handles ------------------------------------------------------------------------------------

    @Test
    void aStaleHandleStaysStaleWhenTheSameMemoryIsHandedOutAgainAtTheSameAddressWithTheSameSize() {
        long old = heap.allocateHandle(100);
        long oldAddress = heap.segment(old).address();
        long oldCapacity = heap.capacityOf(old);
        fill(old, (byte) 1);
        heap.unpin(old);
        assertTrue(heap.free(old));
        heap.verify();

        long reused = heap.allocateHandle(100);
        assertEquals(oldAddress, heap.segment(reused).address(), "the same memory, handed out again");
        assertEquals(oldCapacity, heap.capacityOf(reused), "with the same size");
        assertNotEquals(old, reused, "a new allocation gets a new handle");
        fill(reused, (byte) 2);
        heap.unpin(reused);

        // the old handle is stale: every method sees it
        assertFalse(heap.pin(old));
        assertFalse(heap.touch(old));
        byte[] buffer = new byte[16];
        assertFalse(heap.read(old, 0, MemorySegment.ofArray(buffer), 0, 16));
        assertEquals(-1, heap.capacityOf(old));
        assertFalse(heap.free(old));
        assertThrows(IllegalStateException.class, () -> heap.unpin(old));
        CacheInfoTest.assertState(() -> heap.write(old, 0, MemorySegment.ofArray(buffer), 0, 16), "must be pinned", "stale");
        CacheInfoTest.assertState(() -> heap.segment(old), "must be pinned");

        // and none of that touched the new block
        assertTrue(heap.read(reused, 0, MemorySegment.ofArray(buffer), 0, 16));
        assertArrayEquals(filled(16, (byte) 2), buffer);
        assertTrue(heap.pin(reused));
        heap.unpin(reused);
        assertTrue(heap.touch(reused));
        assertEquals(oldCapacity, heap.capacityOf(reused));
        assertTrue(heap.free(reused));
        heap.verify();
        assertEquals(0, heap.statistics().usedBytes());
    }

    @Test
    void freeOfAHandleReturnsTrueOnceThenFalse() {
        long handle = heap.allocateHandle(100);
        heap.unpin(handle);
        HeapStatistics before = heap.statistics();
        assertTrue(heap.free(handle));
        assertEquals(before.frees() + 1, heap.statistics().frees());
        assertEquals(0, heap.statistics().usedBytes());
        assertFalse(heap.free(handle));
        assertFalse(heap.free(handle));
        assertEquals(before.frees() + 1, heap.statistics().frees(), "a stale free changes nothing");
        assertFalse(heap.free(FixedHeap.NO_HANDLE));
        heap.verify();
    }

    @Test
    void theHandlesOfBlocksMergedIntoAnotherBlockStayStaleWhateverItsPayloadHolds() {
        long a = heap.allocateHandle(100);
        long b = heap.allocateHandle(100);
        long[] headers = {heap.segment(a).address() - 16, heap.segment(b).address() - 16};
        heap.unpin(a);
        heap.unpin(b);
        assertTrue(heap.free(b));
        assertTrue(heap.free(a));
        long whole = heap.allocateHandle(heap.maxAllocation()); // the whole shard: both are merged into it
        MemorySegment payload = heap.segment(whole);
        payload.fill((byte) 0);
        // make the old headers inside the payload look as alive as possible: used, their size, stamp, a pin, live
        long[] olds = {a, b};
        int inside = 0;
        for (int i = 0; i < 2; i++) {
            long header = headers[i] - payload.address();
            if (header >= 0) {
                inside++;
                payload.set(ValueLayout.JAVA_INT, header, 0x8000_0000 | 128);
                payload.set(ValueLayout.JAVA_INT, header + 4, 128);
                payload.set(ValueLayout.JAVA_LONG, header + 8, (olds[i] & 0xFFFF_FFFF_0000_0000L) | (1L << 8) | 1);
            }
        }
        assertTrue(inside >= 1, "at most one of the two old headers is the new block's own");
        for (long old : olds) {
            assertFalse(heap.pin(old));
            assertFalse(heap.touch(old));
            assertFalse(heap.read(old, 0, MemorySegment.ofArray(new byte[8]), 0, 8));
            assertEquals(-1, heap.capacityOf(old));
            assertFalse(heap.free(old));
            assertThrows(IllegalStateException.class, () -> heap.unpin(old));
            assertThrows(IllegalStateException.class, () -> heap.segment(old));
        }
        for (int i = 0; i < 2; i++) {
            long header = headers[i] - payload.address();
            if (header >= 0) {
                assertEquals(1L << 8 | 1, payload.get(ValueLayout.JAVA_LONG, header + 8) & 0xFFFF_FFFFL,
                        "nothing wrote into the payload");
            }
        }
        heap.unpin(whole);
        heap.verify();
    }

    // ---- free of a pinned block ---------------------------------------------------------------------------

    @Test
    void aFreeOfAPinnedBlockIsDeferredUntilTheLastUnpinAndItsMemoryIsNotReusedMeanwhile() {
        long pinned = heap.allocateHandle(1000); // pinned by its creator
        MemorySegment view = heap.segment(pinned);
        long start = view.address();
        long end = start + heap.capacityOf(pinned);
        view.fill((byte) 0x5A);
        assertTrue(heap.pin(pinned)); // a second pin, a reader's
        assertTrue(heap.free(pinned), "the block was live");
        assertFalse(heap.free(pinned), "stale from now on");
        assertFalse(heap.pin(pinned));
        assertFalse(heap.touch(pinned));
        assertFalse(heap.read(pinned, 0, MemorySegment.ofArray(new byte[8]), 0, 8));
        heap.verify();

        // fill the rest of the heap with blocks of the same size: none may be at the freed, pinned block
        List<MemorySegment> others = new ArrayList<>();
        for (MemorySegment s; !(s = heap.tryAllocate(1000)).equals(MemorySegment.NULL); ) {
            assertDisjoint(s, start, end);
            others.add(s);
        }
        assertTrue(others.size() > 50, "the rest was filled: " + others.size());
        List<Long> evicted = new ArrayList<>();
        MemorySegment byEviction = heap.allocateOrEvict(1000, victim -> evicted.add(victim.address()));
        assertDisjoint(byEviction, start, end);
        assertEquals(1, evicted.size());
        assertNotEquals(start, evicted.get(0), "a freed, pinned block is not evicted");
        assertEquals(0, heap.tryAllocateAddress(1000), "the heap is full but for the pinned block");
        assertTrue(isAll(view, (byte) 0x5A), "the freed block's contents stay intact while it is pinned");
        heap.verify();

        heap.unpin(pinned); // one pin left: still not reused
        assertEquals(MemorySegment.NULL, heap.tryAllocate(1000));
        assertTrue(isAll(view, (byte) 0x5A));
        heap.verify();

        long usedBefore = heap.statistics().usedBytes();
        heap.unpin(pinned); // the last pin completes the free
        assertEquals(usedBefore - 1024, heap.statistics().usedBytes());
        assertThrows(IllegalStateException.class, () -> heap.unpin(pinned));
        heap.verify();
        MemorySegment reused = heap.allocate(1000);
        assertEquals(start, reused.address(), "after the last unpin the memory is reused");
        heap.verify();
    }

    @Test
    void capacityOfAHandleFreedWhilePinnedIsMinusOne() {
        long handle = heap.allocateHandle(100);
        assertEquals(112, heap.capacityOf(handle));
        assertTrue(heap.free(handle)); // deferred: the creator's pin is still held
        assertFalse(heap.pin(handle), "the handle is stale from now on");
        assertEquals(-1, heap.capacityOf(handle), "free(handle): 'Either way the handle is stale from now on';"
                + " capacityOf: '-1 if the handle is stale'");
        heap.unpin(handle);
        assertEquals(-1, heap.capacityOf(handle));
        heap.verify();
    }

    // ---- read, write, segment, capacityOf -----------------------------------------------------------------

    @Test
    void readsAreRangeCheckedAgainstThePayload() {
        long handle = heap.allocateHandle(100);
        long capacity = heap.capacityOf(handle);
        assertEquals(112, capacity, "100 bytes rounded up to 16");
        byte[] bytes = new byte[(int) capacity];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) i;
        }
        heap.write(handle, 0, MemorySegment.ofArray(bytes), 0, capacity);
        heap.unpin(handle);
        byte[] dst = new byte[200];
        MemorySegment out = MemorySegment.ofArray(dst);

        assertTrue(heap.read(handle, 0, out, 0, capacity));
        assertArrayEquals(bytes, java.util.Arrays.copyOf(dst, (int) capacity));
        assertTrue(heap.read(handle, 100, out, 150, 12), "the last bytes of the payload");
        assertEquals((byte) 100, dst[150]);
        assertEquals((byte) 111, dst[161]);
        assertTrue(heap.read(handle, capacity, out, 0, 0), "an empty range at the end");

        assertThrows(IndexOutOfBoundsException.class, () -> heap.read(handle, 1, out, 0, capacity));
        assertThrows(IndexOutOfBoundsException.class, () -> heap.read(handle, 0, out, 0, capacity + 1));
        assertThrows(IndexOutOfBoundsException.class, () -> heap.read(handle, capacity, out, 0, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> heap.read(handle, -1, out, 0, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> heap.read(handle, 0, out, 0, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> heap.read(handle, 8, out, 0, Long.MAX_VALUE));
        assertThrows(IndexOutOfBoundsException.class, () -> heap.read(handle, Long.MAX_VALUE, out, 0, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> heap.read(handle, 0, out, 190, 16), "past the end of dst");
        assertThrows(IndexOutOfBoundsException.class, () -> heap.read(handle, 0, out, -1, 16), "before the start of dst");
        heap.verify();
    }

    @Test
    void writeAndSegmentRequireAPin() {
        long handle = heap.allocateHandle(100);
        MemorySegment src = MemorySegment.ofArray(filled(112, (byte) 9));
        heap.write(handle, 0, src, 0, 112); // the creator's pin
        MemorySegment view = heap.segment(handle);
        assertEquals(112, view.byteSize(), "the whole payload");
        assertEquals(0, view.address() % 16);
        assertThrows(IndexOutOfBoundsException.class, () -> heap.write(handle, 1, src, 0, 112));
        assertThrows(IndexOutOfBoundsException.class, () -> heap.write(handle, -1, src, 0, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> heap.write(handle, 0, src, 100, 13), "past the end of src");
        heap.unpin(handle);

        CacheInfoTest.assertState(() -> heap.write(handle, 0, src, 0, 1), "must be pinned", "holds no pin");
        CacheInfoTest.assertState(() -> heap.segment(handle), "must be pinned", "holds no pin");
        assertTrue(isAll(view, (byte) 9), "a refused write changes nothing");

        assertTrue(heap.pin(handle));
        heap.write(handle, 50, MemorySegment.ofArray(new byte[] {42}), 0, 1);
        assertEquals(view.address(), heap.segment(handle).address());
        heap.unpin(handle);
        byte[] one = new byte[1];
        assertTrue(heap.read(handle, 50, MemorySegment.ofArray(one), 0, 1));
        assertEquals(42, one[0]);
        heap.verify();
    }

    @Test
    void capacityOfIsThePayloadOfALiveBlockAndMinusOneForAStaleHandle() {
        long one = heap.allocateHandle(1);
        long hundred = heap.allocateHandle(100);
        long exact = heap.allocateHandle(4096);
        assertEquals(16, heap.capacityOf(one));
        assertEquals(112, heap.capacityOf(hundred));
        assertEquals(4096, heap.capacityOf(exact));
        heap.unpin(one);
        assertEquals(16, heap.capacityOf(one), "pins do not matter");
        assertTrue(heap.free(one));
        assertEquals(-1, heap.capacityOf(one));
        assertEquals(-1, heap.capacityOf(FixedHeap.NO_HANDLE));
        heap.unpin(hundred);
        heap.unpin(exact);
        heap.verify();
    }

    // ---- eviction -----------------------------------------------------------------------------------------

    @Test
    void anEvictionCallbackCanReadItsVictimButNotPinIt() { // a pin takes the shard's lock, which eviction holds
        long victim = heap.allocateHandle(heap.maxAllocation());
        byte[] value = "the victim's key".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        heap.write(victim, 0, MemorySegment.ofArray(value), 0, value.length);
        heap.unpin(victim);
        List<String> seen = new ArrayList<>();
        long fresh = heap.allocateHandleOrEvict(100, evicted -> {
            byte[] key = new byte[value.length];
            assertTrue(heap.read(evicted, 0, MemorySegment.ofArray(key), 0, key.length), "the victim is still readable");
            seen.add(new String(key, java.nio.charset.StandardCharsets.US_ASCII));
            CacheInfoTest.assertState(() -> heap.pin(evicted), "must not call back into its heap"); // pins take the lock
        });
        assertEquals(List.of("the victim's key"), seen);
        assertFalse(heap.read(victim, 0, MemorySegment.ofArray(new byte[4]), 0, 4), "stale after the eviction");
        assertEquals(-1, heap.capacityOf(victim));
        heap.unpin(fresh);
        heap.verify();
    }

    @Test
    void anEvictionCallbackMustNotFreeOrAllocateInTheHeap() {
        long victim = heap.allocateHandle(heap.maxAllocation());
        heap.unpin(victim);
        assertThrows(IllegalStateException.class, () -> heap.allocateHandleOrEvict(100, heap::free));
        assertTrue(heap.pin(victim), "a refused callback leaves the victim allocated");
        heap.unpin(victim);
        assertEquals(0, heap.statistics().evictions());
        heap.verify();
    }

    @Test
    void clockGivesABlockTouchedOrReadSinceTheHandPassedOneMoreTurn() {
        long[] blocks = quarters(); // a, b, c, d, in address order, all unreferenced
        long a = blocks[0], b = blocks[1], c = blocks[2], d = blocks[3];
        assertTrue(heap.touch(a));
        assertTrue(heap.read(c, 0, MemorySegment.ofArray(new byte[8]), 0, 8));

        List<Long> evicted = new ArrayList<>();
        long e = heap.allocateHandleOrEvict(QUARTER_PAYLOAD, evicted::add);
        assertEquals(List.of(b), evicted, "the touched a is passed by (its bit cleared), its untouched neighbour b goes");
        assertEquals(addressOf.get(b), created(e));

        long f = heap.allocateHandleOrEvict(QUARTER_PAYLOAD, evicted::add);
        assertEquals(List.of(b, d), evicted, "the hand goes on from e: the read c is passed by, d goes");
        assertEquals(addressOf.get(d), created(f));

        long g = heap.allocateHandleOrEvict(QUARTER_PAYLOAD, evicted::add);
        assertEquals(List.of(b, d, a), evicted, "a had one more turn only: untouched since, it goes when the hand comes back");
        assertEquals(addressOf.get(a) - 32, created(g), "carved off the start of the free space a merged into:"
                + " the 32-byte free block left of it");

        assertTrue(isFilledWith(c, (byte) 3), "c is still there");
        assertEquals(3, heap.statistics().evictions());
        heap.verify();
    }

    @Test
    void evictionVictimsMergeIntoRoomForALargerRequest() {
        long[] blocks = quarters();
        long a = blocks[0], b = blocks[1], c = blocks[2], d = blocks[3];
        assertTrue(heap.touch(a));

        List<Long> evicted = new ArrayList<>();
        long merged = heap.allocateHandleOrEvict(2 * QUARTER_BLOCK - 16, evicted::add);
        assertEquals(List.of(b, c), evicted, "exactly the two adjacent unreferenced blocks at the hand");
        assertEquals(addressOf.get(b), created(merged), "the new block is where they were");
        assertEquals(2 * QUARTER_BLOCK - 16, heap.capacityOf(merged));
        assertEquals(2, heap.statistics().evictions());
        assertTrue(isFilledWith(a, (byte) 1));
        assertTrue(isFilledWith(d, (byte) 4));
        heap.verify();
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /** Payload addresses of blocks, learnt while their creator held its pin (a pin would set the CLOCK bit). */
    private final java.util.Map<Long, Long> addressOf = new java.util.HashMap<>();

    /** Records a just-allocated handle's address, then drops the creator's pin. @return the address */
    private long created(long handle) {
        long address = heap.segment(handle).address();
        addressOf.put(handle, address);
        heap.unpin(handle);
        return address;
    }

    /**
     * @return four unpinned, unreferenced handles that fill the shard but for one 32-byte free block, sorted
     *         by address (whichever end of a free block the heap carves from); the i-th holds bytes {@code i + 1}
     */
    private long[] quarters() {
        Long[] blocks = new Long[4];
        for (int i = 0; i < 4; i++) {
            blocks[i] = heap.allocateHandle(QUARTER_PAYLOAD); // each keeps its creator's pin for now
            assertEquals(QUARTER_PAYLOAD, heap.capacityOf(blocks[i]));
            addressOf.put(blocks[i], heap.segment(blocks[i]).address());
        }
        java.util.Arrays.sort(blocks, java.util.Comparator.comparing(addressOf::get));
        long[] sorted = new long[4];
        for (int i = 0; i < 4; i++) {
            sorted[i] = blocks[i];
            heap.segment(sorted[i]).fill((byte) (i + 1));
            heap.unpin(sorted[i]); // unreferenced: only pin, read and touch set the bit, not the creator's pin
        }
        HeapStatistics statistics = heap.statistics();
        assertEquals(32, statistics.freeBytes(), "the shard is full but for one 32-byte free block");
        for (int i = 1; i < 4; i++) {
            assertEquals(addressOf.get(sorted[i - 1]) + QUARTER_BLOCK, addressOf.get(sorted[i]), "adjacent");
        }
        return sorted;
    }

    private void fill(long handle, byte value) {
        boolean pinnedHere = heap.pin(handle);
        assertTrue(pinnedHere);
        try {
            heap.segment(handle).fill(value);
        } finally {
            heap.unpin(handle);
        }
    }

    private boolean isFilledWith(long handle, byte value) {
        long capacity = heap.capacityOf(handle);
        byte[] bytes = read(handle, capacity);
        for (byte b : bytes) {
            if (b != value) {
                return false;
            }
        }
        return true;
    }

    private byte[] read(long handle, long length) {
        byte[] bytes = new byte[(int) length];
        assertTrue(heap.read(handle, 0, MemorySegment.ofArray(bytes), 0, length), "read of a live block");
        return bytes;
    }

    private static boolean isAll(MemorySegment segment, byte value) {
        for (long i = 0; i < segment.byteSize(); i++) {
            if (segment.get(ValueLayout.JAVA_BYTE, i) != value) {
                return false;
            }
        }
        return true;
    }

    private static byte[] filled(int length, byte value) {
        byte[] bytes = new byte[length];
        java.util.Arrays.fill(bytes, value);
        return bytes;
    }

    private static void assertDisjoint(MemorySegment segment, long start, long end) {
        if (segment.address() < end && segment.address() + segment.byteSize() > start) {
            fail("block at 0x" + Long.toHexString(segment.address()) + " overlaps the freed, pinned block at 0x"
                    + Long.toHexString(start));
        }
    }
}
