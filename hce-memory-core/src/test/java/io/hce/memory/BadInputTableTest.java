package io.hce.memory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * For each public method, each bad argument (negative, zero, huge, not a power of two, null, heap segment,
 * foreign segment) gets the documented exception, and the allocator's state (its statistics, and
 * {@code verify()} for heaps) is unchanged afterwards.
 */
class BadInputTableTest {

    private final CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), AllocatorOptions.NONE);
    private final PoolAllocator pool = PoolAllocator.create("pool", ValueLayout.JAVA_LONG, 4, AllocatorOptions.NONE);
    private final FixedHeap heap = FixedHeap.create("heap", 64 << 10);
    private final FixedHeap otherHeap = FixedHeap.create("other", 64 << 10);
    private final FixedHeap checkedHeap = FixedHeap.create("checked", 64 << 10, 1, true);
    private final FixedHeap closedHeap = FixedHeap.create("closed", 64 << 10);
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment onHeap = MemorySegment.ofArray(new long[8]);
    private final MemorySegment ofArena = arena.allocate(64, 64);

    @AfterEach
    void close() {
        heap.close();
        otherHeap.close();
        checkedHeap.close();
        closedHeap.close();
        pool.close();
        arena.close();
    }

    @TestFactory
    List<DynamicTest> everyBadArgumentIsRejectedAndChangesNothing() {
        MemorySegment cached = allocator.allocate(64);
        MemorySegment pooled = pool.allocate();
        MemorySegment stored = heap.allocate(64);
        MemorySegment ofOtherHeap = otherHeap.allocate(64);
        List<DynamicTest> rows = new ArrayList<>();
        Supplier<Object> cacheState = allocator::statistics;
        row(rows, "CachingAllocator.allocate(-1)", IllegalArgumentException.class, cacheState, () -> allocator.allocate(-1));
        row(rows, "CachingAllocator.allocate(Long.MIN_VALUE)", IllegalArgumentException.class, cacheState, () -> allocator.allocate(Long.MIN_VALUE));
        row(rows, "CachingAllocator.allocate(8, 0)", IllegalArgumentException.class, cacheState, () -> allocator.allocate(8, 0));
        row(rows, "CachingAllocator.allocate(8, 12)", IllegalArgumentException.class, cacheState, () -> allocator.allocate(8, 12));
        row(rows, "CachingAllocator.allocate(2^62) (huge)", OutOfMemoryError.class, cacheState, () -> allocator.allocate(1L << 62));
        row(rows, "CachingAllocator.deallocate(null)", NullPointerException.class, cacheState, () -> allocator.deallocate(null));
        row(rows, "CachingAllocator.deallocate(heap segment)", IllegalArgumentException.class, cacheState, () -> allocator.deallocate(onHeap));
        row(rows, "CachingAllocator.deallocate(arena segment)", IllegalArgumentException.class, cacheState, () -> allocator.deallocate(ofArena));
        row(rows, "CachingAllocator.deallocate(misaligned slice)", IllegalArgumentException.class, cacheState,
                () -> allocator.deallocate(cached.asSlice(8)));
        row(rows, "CachingAllocator.allocateAddress(-1)", IllegalArgumentException.class, cacheState, () -> allocator.allocateAddress(-1));
        row(rows, "CachingAllocator.allocateAddress(8, 12)", IllegalArgumentException.class, cacheState, () -> allocator.allocateAddress(8, 12));
        row(rows, "CachingAllocator.deallocateAddress(address, -1)", IllegalArgumentException.class, cacheState,
                () -> allocator.deallocateAddress(cached.address(), -1));
        row(rows, "CachingAllocator.deallocateAddress(0, 64)", IllegalArgumentException.class, cacheState,
                () -> allocator.deallocateAddress(0, 64));
        row(rows, "CachingAllocator.deallocateAddress(misaligned, 64)", IllegalArgumentException.class, cacheState,
                () -> allocator.deallocateAddress(cached.address() + 8, 64));
        row(rows, "CachingAllocator.create(null)", NullPointerException.class, cacheState, () -> CachingAllocator.create(null));
        row(rows, "CachingAllocator.create(info, null)", NullPointerException.class, cacheState,
                () -> CachingAllocator.create(CacheInfo.defaults(), null));
        row(rows, "Memory.allocate(-1)", IllegalArgumentException.class, cacheState, () -> Memory.allocate(-1));
        row(rows, "Memory.allocate(8, 3)", IllegalArgumentException.class, cacheState, () -> Memory.allocate(8, 3));
        row(rows, "Memory.allocate(null, 1)", NullPointerException.class, cacheState, () -> Memory.allocate(null, 1));
        row(rows, "Memory.allocate(JAVA_INT, -1)", IllegalArgumentException.class, cacheState, () -> Memory.allocate(ValueLayout.JAVA_INT, -1));
        row(rows, "Memory.deallocate(null)", NullPointerException.class, cacheState, () -> Memory.deallocate(null));
        row(rows, "Memory.install(null)", NullPointerException.class, cacheState, () -> Memory.install(null));

        Supplier<Object> poolState = pool::statistics;
        row(rows, "PoolAllocator.allocate(9, 8) (past the block)", IllegalArgumentException.class, poolState, () -> pool.allocate(9, 8));
        row(rows, "PoolAllocator.allocate(-1, 8)", IllegalArgumentException.class, poolState, () -> pool.allocate(-1, 8));
        row(rows, "PoolAllocator.allocate(8, 6)", IllegalArgumentException.class, poolState, () -> pool.allocate(8, 6));
        row(rows, "PoolAllocator.allocate(8, 64) (over-aligned)", IllegalArgumentException.class, poolState, () -> pool.allocate(8, 64));
        row(rows, "PoolAllocator.deallocate(null)", NullPointerException.class, poolState, () -> pool.deallocate(null));
        row(rows, "PoolAllocator.deallocate(heap segment)", IllegalArgumentException.class, poolState, () -> pool.deallocate(onHeap));
        row(rows, "PoolAllocator.deallocate(arena segment)", IllegalArgumentException.class, poolState, () -> pool.deallocate(ofArena));
        row(rows, "PoolAllocator.deallocate(larger than a block)", IllegalArgumentException.class, poolState,
                () -> pool.deallocate(pooled.reinterpret(9)));
        row(rows, "PoolAllocator.preallocate(-1)", IllegalArgumentException.class, poolState, () -> pool.preallocate(-1));
        row(rows, "PoolAllocator.create(name, layout, 0)", IllegalArgumentException.class, poolState,
                () -> PoolAllocator.create("p", ValueLayout.JAVA_INT, 0));
        row(rows, "PoolAllocator.create(null, ...)", NullPointerException.class, poolState,
                () -> PoolAllocator.create(null, ValueLayout.JAVA_INT, 1));

        Supplier<Object> heapState = () -> {
            heap.verify();
            return heap.statistics();
        };
        row(rows, "FixedHeap.allocate(0)", IllegalArgumentException.class, heapState, () -> heap.allocate(0));
        row(rows, "FixedHeap.allocate(-1)", IllegalArgumentException.class, heapState, () -> heap.allocate(-1));
        row(rows, "FixedHeap.allocate(maxAllocation + 1)", IllegalArgumentException.class, heapState,
                () -> heap.allocate(heap.maxAllocation() + 1));
        row(rows, "FixedHeap.tryAllocate(Long.MAX_VALUE)", IllegalArgumentException.class, heapState, () -> heap.tryAllocate(Long.MAX_VALUE));
        row(rows, "FixedHeap.allocateOrEvict(8, null)", NullPointerException.class, heapState, () -> heap.allocateOrEvict(8, null));
        row(rows, "FixedHeap.allocateOrEvict(0, ...)", IllegalArgumentException.class, heapState, () -> heap.allocateOrEvict(0, v -> { }));
        row(rows, "FixedHeap.free(null)", NullPointerException.class, heapState, () -> heap.free(null));
        row(rows, "FixedHeap.free(heap segment)", IllegalArgumentException.class, heapState, () -> heap.free(onHeap));
        row(rows, "FixedHeap.free(arena segment)", IllegalArgumentException.class, heapState, () -> heap.free(ofArena));
        row(rows, "FixedHeap.free(another heap's block)", IllegalArgumentException.class, heapState, () -> heap.free(ofOtherHeap));
        row(rows, "FixedHeap.free(interior slice)", IllegalArgumentException.class, heapState, () -> heap.free(stored.asSlice(16)));
        row(rows, "FixedHeap.touch(null)", NullPointerException.class, heapState, () -> heap.touch(null));
        row(rows, "FixedHeap.touch(a caching allocator's block)", IllegalArgumentException.class, heapState, () -> heap.touch(cached));
        row(rows, "FixedHeap.create(name, 0)", IllegalArgumentException.class, heapState, () -> FixedHeap.create("h", 0));
        row(rows, "FixedHeap.create(\"\", ...)", IllegalArgumentException.class, heapState, () -> FixedHeap.create("", 1 << 20));

        // the handle API
        long pinned = heap.allocateHandle(64); // holds its creator's pin
        long unpinned = heap.allocateHandle(64);
        heap.unpin(unpinned);
        long stale = heap.allocateHandle(64);
        heap.unpin(stale);
        heap.free(stale);
        long capacity = heap.capacityOf(pinned);
        MemorySegment dst = MemorySegment.ofArray(new byte[256]);
        long max = heap.maxAllocation();
        row(rows, "FixedHeap.allocateHandle(0)", IllegalArgumentException.class, heapState, () -> heap.allocateHandle(0));
        row(rows, "FixedHeap.allocateHandle(maxAllocation + 1)", IllegalArgumentException.class, heapState,
                () -> heap.allocateHandle(max + 1));
        row(rows, "FixedHeap.tryAllocateHandle(-1)", IllegalArgumentException.class, heapState, () -> heap.tryAllocateHandle(-1));
        row(rows, "FixedHeap.tryAllocateHandle(Long.MAX_VALUE)", IllegalArgumentException.class, heapState,
                () -> heap.tryAllocateHandle(Long.MAX_VALUE));
        row(rows, "FixedHeap.allocateHandleOrEvict(8, null)", NullPointerException.class, heapState,
                () -> heap.allocateHandleOrEvict(8, null));
        row(rows, "FixedHeap.allocateHandleOrEvict(0, ...)", IllegalArgumentException.class, heapState,
                () -> heap.allocateHandleOrEvict(0, h -> { }));
        row(rows, "FixedHeap.unpin(NO_HANDLE)", IllegalStateException.class, heapState, () -> heap.unpin(FixedHeap.NO_HANDLE));
        row(rows, "FixedHeap.unpin(a handle holding no pin)", IllegalStateException.class, heapState, () -> heap.unpin(unpinned));
        row(rows, "FixedHeap.unpin(a stale handle)", IllegalStateException.class, heapState, () -> heap.unpin(stale));
        row(rows, "FixedHeap.read(h, -1, ...)", IndexOutOfBoundsException.class, heapState,
                () -> heap.read(unpinned, -1, dst, 0, 8));
        row(rows, "FixedHeap.read(h, 0, ..., capacity + 1)", IndexOutOfBoundsException.class, heapState,
                () -> heap.read(unpinned, 0, dst, 0, capacity + 1));
        row(rows, "FixedHeap.read(h, capacity, ..., 1)", IndexOutOfBoundsException.class, heapState,
                () -> heap.read(unpinned, capacity, dst, 0, 1));
        row(rows, "FixedHeap.read(h, 0, ..., -1)", IndexOutOfBoundsException.class, heapState,
                () -> heap.read(unpinned, 0, dst, 0, -1));
        row(rows, "FixedHeap.read(h, ...) past the end of dst", IndexOutOfBoundsException.class, heapState,
                () -> heap.read(unpinned, 0, dst, 250, 8));
        row(rows, "FixedHeap.write(a handle holding no pin)", IllegalStateException.class, heapState,
                () -> heap.write(unpinned, 0, dst, 0, 8));
        row(rows, "FixedHeap.write(a stale handle)", IllegalStateException.class, heapState, () -> heap.write(stale, 0, dst, 0, 8));
        row(rows, "FixedHeap.write(NO_HANDLE)", IllegalStateException.class, heapState,
                () -> heap.write(FixedHeap.NO_HANDLE, 0, dst, 0, 8));
        row(rows, "FixedHeap.write(h, capacity - 7, ..., 8)", IndexOutOfBoundsException.class, heapState,
                () -> heap.write(pinned, capacity - 7, dst, 0, 8));
        row(rows, "FixedHeap.write(h, -1, ...)", IndexOutOfBoundsException.class, heapState,
                () -> heap.write(pinned, -1, dst, 0, 8));
        row(rows, "FixedHeap.write(h, ...) past the end of src", IndexOutOfBoundsException.class, heapState,
                () -> heap.write(pinned, 0, dst, 250, 8));
        row(rows, "FixedHeap.segment(a handle holding no pin)", IllegalStateException.class, heapState, () -> heap.segment(unpinned));
        row(rows, "FixedHeap.segment(a stale handle)", IllegalStateException.class, heapState, () -> heap.segment(stale));
        row(rows, "FixedHeap.segment(NO_HANDLE)", IllegalStateException.class, heapState, () -> heap.segment(FixedHeap.NO_HANDLE));

        long closedHandle = closedHeap.allocateHandle(64);
        MemorySegment closedSegment = closedHeap.allocate(64);
        closedHeap.close();
        Supplier<Object> closedState = closedHeap::statistics;
        row(rows, "FixedHeap.pin(h) of a closed heap", IllegalStateException.class, closedState, () -> closedHeap.pin(closedHandle));
        row(rows, "FixedHeap.unpin(h) of a closed heap", IllegalStateException.class, closedState, () -> closedHeap.unpin(closedHandle));
        row(rows, "FixedHeap.free(h) of a closed heap", IllegalStateException.class, closedState, () -> closedHeap.free(closedHandle));
        row(rows, "FixedHeap.touch(h) of a closed heap", IllegalStateException.class, closedState, () -> closedHeap.touch(closedHandle));
        row(rows, "FixedHeap.read(h) of a closed heap", IllegalStateException.class, closedState,
                () -> closedHeap.read(closedHandle, 0, dst, 0, 8));
        row(rows, "FixedHeap.write(h) of a closed heap", IllegalStateException.class, closedState,
                () -> closedHeap.write(closedHandle, 0, dst, 0, 8));
        row(rows, "FixedHeap.segment(h) of a closed heap", IllegalStateException.class, closedState,
                () -> closedHeap.segment(closedHandle));
        row(rows, "FixedHeap.capacityOf(h) of a closed heap", IllegalStateException.class, closedState,
                () -> closedHeap.capacityOf(closedHandle));
        row(rows, "FixedHeap.allocateHandle(8) of a closed heap", IllegalStateException.class, closedState,
                () -> closedHeap.allocateHandle(8));
        row(rows, "FixedHeap.tryAllocateAddress(8) of a closed heap", IllegalStateException.class, closedState,
                () -> closedHeap.tryAllocateAddress(8));
        row(rows, "FixedHeap.tryResize(s, 8) of a closed heap", IllegalStateException.class, closedState,
                () -> closedHeap.tryResize(closedSegment, 8));

        Supplier<Object> checkedState = () -> {
            checkedHeap.verify();
            return checkedHeap.statistics();
        };
        long freedTwice = checkedHeap.allocateHandle(64);
        checkedHeap.unpin(freedTwice);
        checkedHeap.free(freedTwice);
        row(rows, "FixedHeap.free(h) freed already (checked mode)", IllegalStateException.class, checkedState,
                () -> checkedHeap.free(freedTwice));

        // the address API
        long address = heap.tryAllocateAddress(64);
        long freedAddress = heap.tryAllocateAddress(64);
        heap.freeAddress(freedAddress);
        MemorySegment freedSegment = heap.allocate(64);
        heap.free(freedSegment);
        long handleAddress = heap.segment(pinned).address();
        row(rows, "FixedHeap.tryAllocateAddress(0)", IllegalArgumentException.class, heapState, () -> heap.tryAllocateAddress(0));
        row(rows, "FixedHeap.tryAllocateAddress(maxAllocation + 1)", IllegalArgumentException.class, heapState,
                () -> heap.tryAllocateAddress(max + 1));
        row(rows, "FixedHeap.allocateAddressOrEvict(8, null)", NullPointerException.class, heapState,
                () -> heap.allocateAddressOrEvict(8, null));
        row(rows, "FixedHeap.allocateAddressOrEvict(-1, ...)", IllegalArgumentException.class, heapState,
                () -> heap.allocateAddressOrEvict(-1, a -> { }));
        row(rows, "FixedHeap.freeAddress(0)", IllegalArgumentException.class, heapState, () -> heap.freeAddress(0));
        row(rows, "FixedHeap.freeAddress(misaligned)", IllegalArgumentException.class, heapState, () -> heap.freeAddress(address + 8));
        row(rows, "FixedHeap.freeAddress(inside a block)", IllegalArgumentException.class, heapState, () -> heap.freeAddress(address + 32));
        row(rows, "FixedHeap.freeAddress(another heap's block)", IllegalArgumentException.class, heapState,
                () -> heap.freeAddress(ofOtherHeap.address()));
        row(rows, "FixedHeap.freeAddress(freed already)", IllegalStateException.class, heapState, () -> heap.freeAddress(freedAddress));
        row(rows, "FixedHeap.freeAddress(a block handed out as a handle)", IllegalStateException.class, heapState,
                () -> heap.freeAddress(handleAddress));
        row(rows, "FixedHeap.touchAddress(0)", IllegalArgumentException.class, heapState, () -> heap.touchAddress(0));
        row(rows, "FixedHeap.touchAddress(inside a block)", IllegalArgumentException.class, heapState,
                () -> heap.touchAddress(address + 16));
        row(rows, "FixedHeap.touchAddress(freed already)", IllegalStateException.class, heapState, () -> heap.touchAddress(freedAddress));

        // tryResize
        row(rows, "FixedHeap.tryResize(s, 0)", IllegalArgumentException.class, heapState, () -> heap.tryResize(stored, 0));
        row(rows, "FixedHeap.tryResize(s, maxAllocation + 1)", IllegalArgumentException.class, heapState,
                () -> heap.tryResize(stored, max + 1));
        row(rows, "FixedHeap.tryResize(null, 8)", NullPointerException.class, heapState, () -> heap.tryResize(null, 8));
        row(rows, "FixedHeap.tryResize(heap segment, 8)", IllegalArgumentException.class, heapState, () -> heap.tryResize(onHeap, 8));
        row(rows, "FixedHeap.tryResize(another heap's block, 8)", IllegalArgumentException.class, heapState,
                () -> heap.tryResize(ofOtherHeap, 8));
        row(rows, "FixedHeap.tryResize(interior slice, 8)", IllegalArgumentException.class, heapState,
                () -> heap.tryResize(stored.asSlice(16), 8));
        row(rows, "FixedHeap.tryResize(freed segment, 8)", IllegalStateException.class, heapState,
                () -> heap.tryResize(freedSegment, 8));

        // create(name, capacity, shards, checked)
        row(rows, "FixedHeap.create(name, 1 MiB, 3, false)", IllegalArgumentException.class, heapState,
                () -> FixedHeap.create("h", 1 << 20, 3, false));
        row(rows, "FixedHeap.create(name, 1 MiB, 0, false)", IllegalArgumentException.class, heapState,
                () -> FixedHeap.create("h", 1 << 20, 0, false));
        row(rows, "FixedHeap.create(name, 1 MiB, -2, false)", IllegalArgumentException.class, heapState,
                () -> FixedHeap.create("h", 1 << 20, -2, false));
        row(rows, "FixedHeap.create(name, 1 MiB, 128, false)", IllegalArgumentException.class, heapState,
                () -> FixedHeap.create("h", 1 << 20, 128, false));
        row(rows, "FixedHeap.create(name, 64 KiB, 32, false) (shards below 4096 bytes)", IllegalArgumentException.class, heapState,
                () -> FixedHeap.create("h", 64 << 10, 32, false));
        row(rows, "FixedHeap.create(name, 2 GiB + 1, 2, false) (shards above 1 GiB)", IllegalArgumentException.class, heapState,
                () -> FixedHeap.create("h", (2L << 30) + 1, 2, false));
        row(rows, "FixedHeap.create(name, 4095, 1, false)", IllegalArgumentException.class, heapState,
                () -> FixedHeap.create("h", 4095, 1, false));
        row(rows, "FixedHeap.create(name, MAX_CAPACITY + 1, 64, false)", IllegalArgumentException.class, heapState,
                () -> FixedHeap.create("h", FixedHeap.MAX_CAPACITY + 1, 64, false));
        row(rows, "FixedHeap.create(null, ..., 1, true)", NullPointerException.class, heapState,
                () -> FixedHeap.create(null, 1 << 20, 1, true));
        row(rows, "FixedHeap.create(\" \", ..., 1, true)", IllegalArgumentException.class, heapState,
                () -> FixedHeap.create(" ", 1 << 20, 1, true));

        row(rows, "CacheInfo.of(0, 1)", IllegalArgumentException.class, cacheState, () -> CacheInfo.of(0, 1));
        row(rows, "CacheInfo.of(4, -1)", IllegalArgumentException.class, cacheState, () -> CacheInfo.of(4, -1));
        row(rows, "new CacheInfo.Bucket(-1, 1)", IllegalArgumentException.class, cacheState, () -> new CacheInfo.Bucket(-1, 1));
        row(rows, "new CacheInfo(null)", NullPointerException.class, cacheState, () -> new CacheInfo(null));
        return rows;
    }

    private static void row(List<DynamicTest> rows, String call, Class<? extends Throwable> expected, Supplier<Object> state,
                            Executable executable) {
        rows.add(DynamicTest.dynamicTest(call + " -> " + expected.getSimpleName(), () -> {
            Object before = state.get();
            assertThrows(expected, executable, call);
            assertEquals(before, state.get(), call + " changed the state");
        }));
    }
}
