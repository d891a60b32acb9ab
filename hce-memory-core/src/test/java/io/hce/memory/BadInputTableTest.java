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
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment onHeap = MemorySegment.ofArray(new long[8]);
    private final MemorySegment ofArena = arena.allocate(64, 64);

    @AfterEach
    void close() {
        heap.close();
        otherHeap.close();
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
