package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CachingArenaTest {

    private static final MemoryLayout POINT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("x"), ValueLayout.JAVA_INT.withName("y"), ValueLayout.JAVA_DOUBLE.withName("weight"));

    private final CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults());

    @Test
    void allocatesLayoutsStringsAndStructs() {
        try (Arena arena = allocator.newArena()) {
            MemorySegment longs = arena.allocate(ValueLayout.JAVA_LONG, 100);
            longs.setAtIndex(ValueLayout.JAVA_LONG, 99, 7L);
            MemorySegment text = arena.allocateFrom("off-heap, cached");
            MemorySegment point = arena.allocate(POINT);
            point.set(ValueLayout.JAVA_DOUBLE, 8, 0.5);
            MemorySegment empty = arena.allocate(0);
            MemorySegment aligned = arena.allocate(100, 4096);
            assertEquals(800, longs.byteSize());
            assertEquals(7L, longs.getAtIndex(ValueLayout.JAVA_LONG, 99));
            assertEquals("off-heap, cached", text.getString(0));
            assertEquals(16, point.byteSize());
            assertEquals(0.5, point.get(ValueLayout.JAVA_DOUBLE, 8));
            assertEquals(0, empty.byteSize());
            assertEquals(0, aligned.address() % 4096);
            assertEquals(arena.scope(), longs.scope());
        }
    }

    @Test
    void segmentsAreUnusableAfterCloseAndTheArenaToo() {
        Arena arena = allocator.newArena();
        MemorySegment segment = arena.allocate(ValueLayout.JAVA_INT);
        arena.close();
        assertFalse(arena.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_INT, 0));
        assertThrows(IllegalStateException.class, () -> arena.allocate(8));
        assertThrows(IllegalStateException.class, arena::close);
    }

    @Test
    void closeReturnsEveryBlockToTheThreadsCache() {
        for (int round = 0; round < 2; round++) {
            try (Arena arena = allocator.newArena()) {
                for (int i = 0; i < 10; i++) {
                    arena.allocate(8 + i * 100);
                }
            }
        }
        CacheStatistics statistics = allocator.statistics();
        assertEquals(10, statistics.misses(), "the first round mallocs");
        assertEquals(10, statistics.hits(), "the second round is served by the blocks the first gave back");
        assertEquals(statistics.reservedBytes(), statistics.cachedBytes());
    }

    @Test
    void isConfinedToTheThreadThatOpenedIt() throws Exception {
        try (Arena arena = allocator.newArena()) {
            MemorySegment segment = arena.allocate(8);
            assertOnAnotherThread(() -> arena.allocate(8));
            assertOnAnotherThread(arena::close);
            assertOnAnotherThread(() -> segment.get(ValueLayout.JAVA_LONG, 0));
            assertTrue(arena.scope().isAlive());
        }
    }

    @Test
    void segmentsOfAnArenaCannotBeDeallocatedOneByOne() {
        try (Arena arena = allocator.newArena()) {
            MemorySegment segment = arena.allocate(64);
            CacheInfoTest.assertMessage(() -> allocator.deallocate(segment), "bound to an arena");
        }
    }

    @Test
    void memoryNewArenaUsesTheDefaultAllocator() {
        long before = Memory.allocator().statistics().hits() + Memory.allocator().statistics().misses();
        try (Arena arena = Memory.newArena()) {
            arena.allocate(32);
        }
        CacheStatistics after = Memory.allocator().statistics();
        assertEquals(before + 1, after.hits() + after.misses());
    }

    private static void assertOnAnotherThread(Runnable action) throws InterruptedException {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> CompletableFuture.runAsync(action, command -> Thread.ofPlatform().start(command)).get());
        assertInstanceOf(WrongThreadException.class, e.getCause());
    }
}
