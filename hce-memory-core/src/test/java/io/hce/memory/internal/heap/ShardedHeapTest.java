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
    private final ShardedHeap heap = new ShardedHeap(arena.allocate(ShardedHeap.bytesFor(CAPACITY, 1), 16), CAPACITY, 1, null);

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
}
