package io.hce.memory;

import io.hce.memory.testing.Validation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checked mode of {@link FixedHeap} ({@code create(name, capacity, shards, true)}): poison, write after free,
 * stale segments and double frees of handles, each reported with the stacks that allocated and ended the
 * block, and the heap consistent and usable afterwards.
 *
 * <p>Allocations and frees whose stacks a report must name are made in methods of their own
 * ({@code allocateHere}, {@code freeHere}, ...), so that the test can find them in the reported stacks.
 */
class FixedHeapCheckedModeTest {

    private static final long CAPACITY = 64 << 10;

    /** Verifies the heap once a test has passed, and closes it. */
    @RegisterExtension
    final Validation validation = new Validation();

    private final FixedHeap heap = validation.track(FixedHeap.create("checked", CAPACITY, 1, true));

    // ---- write after free ---------------------------------------------------------------------------------

    @Test
    void aWriteAfterFreeIsReportedByTheAllocationThatHandsTheMemoryOutAgain() {
        MemorySegment block = allocateHere(100);
        block.fill((byte) 1);
        freeHere(block);
        block.set(ValueLayout.JAVA_BYTE, 37, (byte) 1); // the write after free: the segment still reaches the memory

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.allocate(100));
        assertReport(e, "write after free", "allocateHere", "freeHere");
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(block.address() + 37)),
                "names the damaged byte: " + e.getMessage());
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(block.address())), "names the block: " + e.getMessage());
        assertConsistentAndUsable();
    }

    @Test
    void aWriteAfterFreeIsReportedByAHandleAllocationToo() {
        long handle = allocateHandleHere(100);
        MemorySegment view = heap.segment(handle);
        heap.unpin(handle);
        freeHandleHere(handle);
        view.set(ValueLayout.JAVA_LONG, 64, 42L); // a use of the view after its pin was dropped and the block freed

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.allocateHandle(100));
        assertReport(e, "write after free", "allocateHandleHere", "freeHandleHere");
        assertConsistentAndUsable();
    }

    @Test
    void aWriteAfterEvictionIsReportedWithTheEvictionsStack() {
        MemorySegment[] layout = neighbours(1000, 20_000, 1000); // left, victim, right: adjacent in address order
        MemorySegment victim = layout[1];
        heap.allocateHandle(heap.statistics().largestFreeBlock()); // the rest, pinned: never a victim
        heap.free(layout[0]);
        List<MemorySegment> victims = new ArrayList<>();
        MemorySegment fresh = evictHere(victims); // 2000 bytes: the hand meets the victim before the right block
        assertEquals(List.of(victim.address()), victims.stream().map(MemorySegment::address).toList());
        heap.verify();

        // the owner did not forget its evicted block: it writes a byte of it that is still free memory
        long damaged = victim.address() + 10_000;
        assertTrue(damaged < fresh.address() - 16 || damaged >= fresh.address() + 2000, "not in the new block");
        victim.set(ValueLayout.JAVA_BYTE, 10_000, (byte) 0);
        long used = heap.statistics().usedBytes();
        long rest = heap.statistics().largestFreeBlock(); // the free block that holds the damaged byte
        assertTrue(rest > 15_000, "the victim and the left block merged; 2000 bytes were taken: " + rest);

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.allocate(rest));
        assertReport(e, "write after free", "allocateHere", "evictHere");
        assertTrue(e.getSuppressed()[0].getMessage().startsWith("evicted"), e.getSuppressed()[0].getMessage());
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(damaged)), "names the damaged byte: " + e.getMessage());
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(victim.address())), "names the victim: " + e.getMessage());
        heap.verify();
        assertEquals(used, heap.statistics().usedBytes(), "the reporting allocation did not happen");
        assertEquals(rest, heap.statistics().largestFreeBlock());
        heap.free(heap.allocate(rest)); // the poison was restored: no report this time
        heap.verify();
    }

    /**
     * Allocates blocks of the given sizes one after the other from the shard's one free block, the middle one
     * by {@link #allocateHere}. @return them in address order (whichever end of the free block the heap carves
     * from), checked to be adjacent
     */
    private MemorySegment[] neighbours(long first, long middle, long last) {
        MemorySegment x = heap.allocate(first);
        MemorySegment m = allocateHere(middle);
        MemorySegment y = heap.allocate(last);
        MemorySegment[] sorted = x.address() < y.address() ? new MemorySegment[] {x, m, y} : new MemorySegment[] {y, m, x};
        for (int i = 1; i < 3; i++) {
            long blockSize = (sorted[i - 1].byteSize() + 16 + 15) & -16;
            assertEquals(sorted[i - 1].address() + blockSize, sorted[i].address(), "adjacent blocks");
        }
        return sorted;
    }

    private void assertConsistentAndUsable() {
        heap.verify();
        HeapStatistics statistics = heap.statistics();
        assertEquals(0, statistics.usedBytes(), "the reporting allocation did not happen");
        assertEquals(heap.maxAllocation(), statistics.largestFreeBlock());
        MemorySegment again = heap.allocate(heap.maxAllocation()); // the poison was restored: no report this time
        heap.free(again);
        heap.verify();
    }

    // ---- stale segments -----------------------------------------------------------------------------------

    @Test
    void aStaleSegmentPassedToFreeIsReported() {
        MemorySegment stale = allocateHere(100);
        freeHere(stale);
        MemorySegment current = allocateAgainHere(100);
        assertEquals(stale.address(), current.address(), "the memory was handed out again at the same address");
        assertEquals(stale.byteSize(), current.byteSize(), "with the same size");

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.free(stale));
        assertTrue(e.getMessage().contains("stale segment"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> heap.touch(stale));
        assertThrows(IllegalStateException.class, () -> heap.tryResize(stale, 50));
        heap.verify();
        assertEquals(128, heap.statistics().usedBytes(), "the current block is untouched");
        heap.free(current); // the segment handed out works
        heap.verify();
        assertEquals(0, heap.statistics().usedBytes());
    }

    @Test
    void aStaleSegmentReportCarriesTheStacks() {
        MemorySegment stale = allocateHere(100);
        freeHere(stale);
        MemorySegment current = allocateAgainHere(100);
        assertEquals(stale.address(), current.address(), "the memory was handed out again at the same address");
        // "A stale segment ... and a double free of a handle are reported with the same stacks": those that
        // allocated and freed the stale segment's block
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.free(stale));
        assertReport(e, "stale segment", "allocateHere", "freeHere");
        IllegalStateException touched = assertThrows(IllegalStateException.class, () -> heap.touch(stale));
        assertReport(touched, "stale segment", "allocateHere", "freeHere");
        heap.free(current);
        heap.verify();
    }

    @Test
    void aSegmentIsStaleAfterItsBlockWasResizedAndTheResizedOneWorks() {
        MemorySegment original = heap.allocate(100);
        MemorySegment resized = heap.tryResize(original, 40); // shrunk in place
        assertEquals(original.address(), resized.address());
        // HeapGuard: "A segment's block was resized: the new segment is the one to give back"
        CacheInfoTest.assertState(() -> heap.free(original), "stale segment");
        CacheInfoTest.assertState(() -> heap.touch(original), "stale segment");
        heap.touch(resized);
        heap.free(resized);
        heap.verify();
        assertEquals(0, heap.statistics().usedBytes());
    }

    // ---- double free of a handle --------------------------------------------------------------------------

    @Test
    void aDoubleFreeOfAHandleIsReportedWithBothStacks() {
        long handle = allocateHandleHere(100);
        heap.unpin(handle);
        freeHandleHere(handle);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.free(handle));
        assertReport(e, "double free", "allocateHandleHere", "freeHandleHere");
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(handle)), e.getMessage());
        heap.verify();
        assertEquals(0, heap.statistics().usedBytes());
        assertEquals(1, heap.statistics().frees());
        long next = heap.allocateHandle(100);
        heap.unpin(next);
        assertTrue(heap.free(next));
        heap.verify();
    }

    @Test
    void aDoubleFreeOfAHandleIsReportedAlsoAfterItsMemoryWasHandedOutAgain() {
        long handle = allocateHandleHere(100);
        long address = heap.segment(handle).address();
        heap.unpin(handle);
        freeHandleHere(handle);
        long next = heap.allocateHandle(100); // a new allocation of the same memory
        assertEquals(address, heap.segment(next).address(), "the same memory, handed out again at the same place");
        heap.unpin(next);
        assertFalse(heap.pin(handle), "the old handle is stale");
        // FixedHeap.free(long): "@throws IllegalStateException in checked mode, if the block was freed already by
        // free (a double free), with both stacks"; the class: "a double free of a handle [is] reported with the
        // same stacks" as a stale segment, "even if its memory was handed out again"
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.free(handle),
                "a double free of a handle whose memory was handed out again at the same place goes unreported");
        assertReport(e, "double free", "allocateHandleHere", "freeHandleHere");
        assertTrue(heap.pin(next), "the new block is untouched");
        heap.unpin(next);
        assertTrue(heap.free(next));
        heap.verify();
    }

    @Test
    void aDoubleFreeOfASegmentWhoseMemoryIsNowInsideAnotherBlockIsReportedAsOne() {
        MemorySegment block = allocateHere(100);
        freeHere(block);
        MemorySegment whole = heap.allocate(heap.maxAllocation()); // the whole shard: the old block is inside it
        // FixedHeap: "free ... of a segment reject[s] ... a block that is free already (a double free), as long
        // as its memory has not been handed out again; in checked mode also then"; free: "@throws
        // IllegalStateException if the block is free already"
        RuntimeException e = assertThrows(RuntimeException.class, () -> heap.free(block));
        assertTrue(e instanceof IllegalStateException, "a double free in checked mode is reported as " + e);
        assertReport((IllegalStateException) e, "", "allocateHere", "freeHere");
        heap.free(whole);
        heap.verify();
    }

    @Test
    void aDoubleFreeOfAPinnedHandleIsReportedAndTheLastUnpinStillCompletesTheFree() {
        long handle = allocateHandleHere(100); // pinned by its creator
        freeHandleHere(handle); // deferred
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.free(handle));
        assertReport(e, "double free", "allocateHandleHere", "freeHandleHere");
        assertEquals(128, heap.statistics().usedBytes(), "still held by the pin");
        heap.unpin(handle);
        assertEquals(0, heap.statistics().usedBytes());
        heap.verify();
    }

    @Test
    void aFreeOfAnEvictedHandleJustReturnsFalse() {
        long victim = heap.allocateHandle(heap.maxAllocation());
        heap.unpin(victim);
        List<Long> evicted = new ArrayList<>();
        long fresh = heap.allocateHandleOrEvict(100, evicted::add);
        assertEquals(List.of(victim), evicted);
        assertFalse(heap.free(victim), "a free that lost a race with eviction is not an error");
        heap.unpin(fresh);
        assertTrue(heap.free(fresh));
        assertFalse(heap.free(victim));

        heap.verify();
    }

    @Test
    void aFreeOfAnEvictedHandleWhoseRecordIsKeptJustReturnsFalse() {
        // a free block beside the victim: the victim merges with it, and the block carved for the request does
        // not start at the victim's header (whichever end it is carved from), so the victim's record stays
        long a = heap.allocateHandle(100);
        long f = heap.allocateHandle(1000);
        long victim = heap.allocateHandle(20_000);
        heap.allocateHandle(heap.statistics().largestFreeBlock()); // pinned for good
        heap.unpin(a);
        heap.unpin(f);
        heap.unpin(victim);
        assertTrue(heap.free(f));
        assertTrue(heap.touch(a));
        List<Long> evicted = new ArrayList<>();
        long fresh = heap.allocateHandleOrEvict(2000, evicted::add);
        assertEquals(List.of(victim), evicted);
        assertFalse(heap.free(victim), "an evicted handle's free is not a double free");
        assertFalse(heap.free(victim));
        CacheInfoTest.assertState(() -> heap.unpin(victim), "not pinned", "the block was evicted");
        heap.unpin(fresh);
        heap.verify();
    }

    @Test
    void unpinOfAStaleHandleSaysWhatHappenedToIt() {
        long handle = heap.allocateHandle(100);
        heap.unpin(handle);
        CacheInfoTest.assertState(() -> heap.unpin(handle), "not pinned", "the block is live and holds no pin");
        assertTrue(heap.free(handle));
        CacheInfoTest.assertState(() -> heap.unpin(handle), "not pinned", "the block was freed");
        heap.verify();
    }

    // ---- poison -------------------------------------------------------------------------------------------

    @Test
    void freedAndEvictedBlocksArePoisonedAndNewBlocksHandedOutPoisoned() {
        MemorySegment block = heap.allocate(200);
        byte poison = block.get(ValueLayout.JAVA_BYTE, 0);
        assertNotEquals(0, poison, "a new block holds the poison, not zeros");
        assertAll(block, poison, "a new block");
        block.fill((byte) 0x11);
        heap.free(block);
        assertAll(block, poison, "a freed block");

        long handle = heap.allocateHandle(heap.maxAllocation());
        MemorySegment whole = heap.segment(handle); // the whole shard's payload
        whole.fill((byte) 0x22);
        heap.unpin(handle);
        List<Byte> seenByTheCallback = new ArrayList<>();
        MemorySegment small = heap.allocateOrEvict(16, victim -> seenByTheCallback.add(victim.get(ValueLayout.JAVA_BYTE, 100)));
        assertEquals(List.of((byte) 0x22), seenByTheCallback, "the victim is intact when its owner hears");
        assertAll(small, poison, "the new block");
        // the rest of the evicted block is poisoned, but for the new block's header and the free rest's header
        // right after it (if the new block was carved off the free block's start)
        long skipFrom = small.address() - 16 - whole.address();
        long skipTo = skipFrom + 16 + 16 + 16;
        assertAll(whole.asSlice(0, Math.max(0, skipFrom)), poison, "the evicted block, before the new one");
        assertAll(whole.asSlice(Math.min(whole.byteSize(), skipTo)), poison, "the evicted block, after the new one");
        heap.verify();
    }

    @Test
    void aFreedBlockStaysIntactWhilePinnedAndIsPoisonedByTheLastUnpin() {
        long handle = heap.allocateHandle(200);
        MemorySegment view = heap.segment(handle);
        view.fill((byte) 0x33);
        assertTrue(heap.pin(handle)); // a reader's pin
        heap.unpin(handle); // the creator's
        assertTrue(heap.free(handle)); // deferred: the reader holds its pin
        assertAll(view, (byte) 0x33, "a freed block that is still pinned");
        heap.unpin(handle); // the reader's, the last
        byte poison = view.get(ValueLayout.JAVA_BYTE, 0);
        assertNotEquals((byte) 0x33, poison);
        assertAll(view, poison, "a freed block after its last unpin");
        heap.verify();
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private MemorySegment allocateHere(long size) {
        return heap.allocate(size);
    }

    private MemorySegment allocateAgainHere(long size) {
        return heap.allocate(size);
    }

    private void freeHere(MemorySegment block) {
        heap.free(block);
    }

    private long allocateHandleHere(long size) {
        return heap.allocateHandle(size);
    }

    private void freeHandleHere(long handle) {
        assertTrue(heap.free(handle));
    }

    private MemorySegment evictHere(List<MemorySegment> victims) {
        return heap.allocateOrEvict(2000, victims::add);
    }

    /** The report names the problem, has the allocating stack as its cause and the ending one suppressed. */
    private static void assertReport(IllegalStateException e, String problem, String allocatedIn, String endedIn) {
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertTrue(e.getMessage().contains("heap 'checked'"), e.getMessage());
        Throwable cause = e.getCause();
        assertNotNull(cause, "no allocation stack: " + e);
        assertTrue(cause.getMessage().startsWith("allocated in heap 'checked'"), cause.getMessage());
        assertTrue(hasFrame(cause, allocatedIn), "the cause is the allocation's stack, in " + allocatedIn + ": "
                + Arrays.toString(cause.getStackTrace()));
        assertEquals(1, e.getSuppressed().length, "one suppressed exception, the stack that ended the block");
        Throwable ended = e.getSuppressed()[0];
        assertTrue(hasFrame(ended, endedIn), "the suppressed exception is the stack in " + endedIn + ": "
                + Arrays.toString(ended.getStackTrace()));
    }

    private static boolean hasFrame(Throwable t, String method) {
        for (StackTraceElement frame : t.getStackTrace()) {
            if (frame.getClassName().equals(FixedHeapCheckedModeTest.class.getName()) && frame.getMethodName().equals(method)) {
                return true;
            }
        }
        return false;
    }

    private static void assertAll(MemorySegment segment, byte value, String what) {
        for (long i = 0; i < segment.byteSize(); i++) {
            byte b = segment.get(ValueLayout.JAVA_BYTE, i);
            if (b != value) {
                fail(what + ": byte " + i + " is 0x" + Integer.toHexString(b & 0xFF) + ", not 0x" + Integer.toHexString(value & 0xFF));
            }
        }
    }
}
