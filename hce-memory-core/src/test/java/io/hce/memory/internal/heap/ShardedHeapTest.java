package io.hce.memory.internal.heap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The engine's own calls, in orders the public API can reach only by racing threads. */
class ShardedHeapTest {

    private static final long CAPACITY = 1 << 20;

    private final Arena arena = Arena.ofConfined();
    private final ShardedHeap heap = new ShardedHeap("engine", arena.allocate(ShardedHeap.bytesFor(CAPACITY, 1), 16), CAPACITY, 1, null);

    @AfterEach
    void close() {
        assertNull(heap.verify());
        arena.close();
    }

    /**
     * A resize that found its segment's block, then lost the lock to a free of it: the block is on a quick list
     * with its old owned state in place, so only the owned bit can tell the resize it is gone.
     */
    @Test
    void aResizeAfterAConcurrentFreeOfItsBlockChangesNothing() {
        long handle = heap.allocate(100, 0);
        long offset = heap.payloadOffset(handle);
        long found = heap.liveHandleAt(offset, 100);  // tryResize's lookup, before it takes the lock
        heap.freeOwned(offset, 100);                  // another thread's free wins the lock
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.tryResize(found, 16));
        assertTrue(e.getMessage().contains("freed or evicted"), e.getMessage());
        assertNull(heap.verify());
        long again = heap.allocate(100, 0);
        long other = heap.allocate(64, 0);
        assertEquals(offset, heap.payloadOffset(again), "the kept block, whole");
        long otherOffset = heap.payloadOffset(other);
        assertTrue(otherOffset + 64 <= offset - 16 || otherOffset - 16 >= offset + 112,
                "the other block does not overlap the kept one: " + otherOffset + " against " + offset);
    }

    /** Closed, the shards grant no lock: nothing reads or writes the bitmaps by address once the region may be gone. */
    @Test
    void closedShardsRefuseEveryRequestThatTakesALock() {
        long handle = heap.allocate(100, 0);
        long offset = heap.payloadOffset(handle);
        heap.lockAll();
        try {
            heap.closeHeld();
        } finally {
            heap.unlockAll();
        }
        for (Runnable request : new Runnable[] {() -> heap.allocate(100, 0), () -> heap.freeOwned(offset, 100),
                () -> heap.tryResize(handle, 200), () -> heap.figures()}) {
            IllegalStateException e = assertThrows(IllegalStateException.class, request::run);
            assertEquals("heap 'engine' is closed", e.getMessage());
        }
        heap.lockAll(); // close and verify still take every lock
        heap.unlockAll();
    }

    @Test
    void aHeapOnTheJavaHeapIsRefused() {
        MemorySegment onHeap = MemorySegment.ofArray(new long[(int) (ShardedHeap.bytesFor(4096, 1) / 8)]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ShardedHeap("engine", onHeap, 4096, 1, null));
        assertTrue(e.getMessage().startsWith("a heap's memory must be native"), e.getMessage());
    }
}
