package io.hce.memory;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * "10,000 heaps of 64 KiB, filled and dropped without close(): after GC, 640 MiB still in use by malloc." A
 * dropped heap, once it and all its segments are unreachable, must give its region back through the shared
 * Cleaner; a heap whose segment is still reachable must not; and {@code close()} gives it back at once.
 *
 * <p>Native memory in use is measured with glibc's {@code mallinfo2()}: {@code uordblks + hblkhd}, the bytes
 * of chunks in use in all arenas plus those mapped on their own.
 */
class FixedHeapReclaimTest {

    private static final long MIB = 1 << 20;
    /** The JVM itself mallocs a little while it runs (the JIT, the GC): what "back to the start" allows. */
    private static final long TOLERANCE = 16 * MIB; // against 640 MiB for 10,000 leaked heaps
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** struct mallinfo2: ten size_t fields. */
    private static final StructLayout MALLINFO2 = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("arena"),
            ValueLayout.JAVA_LONG.withName("ordblks"),
            ValueLayout.JAVA_LONG.withName("smblks"),
            ValueLayout.JAVA_LONG.withName("hblks"),
            ValueLayout.JAVA_LONG.withName("hblkhd"),
            ValueLayout.JAVA_LONG.withName("usmblks"),
            ValueLayout.JAVA_LONG.withName("fsmblks"),
            ValueLayout.JAVA_LONG.withName("uordblks"),
            ValueLayout.JAVA_LONG.withName("fordblks"),
            ValueLayout.JAVA_LONG.withName("keepcost"));
    private static final long HBLKHD = MALLINFO2.byteOffset(MemoryLayout.PathElement.groupElement("hblkhd"));
    private static final long UORDBLKS = MALLINFO2.byteOffset(MemoryLayout.PathElement.groupElement("uordblks"));

    private static MethodHandle mallinfo2;

    @BeforeAll
    static void findMallinfo2() {
        Linker linker = Linker.nativeLinker();
        Optional<MemorySegment> symbol = linker.defaultLookup().find("mallinfo2");
        assumeTrue(symbol.isPresent(), "mallinfo2() needs glibc 2.33 or later");
        mallinfo2 = linker.downcallHandle(symbol.get(), FunctionDescriptor.of(MALLINFO2));
    }

    /** @return the bytes malloc has handed out and not taken back, in every arena and mapped */
    static long nativeBytesInUse() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = (MemorySegment) mallinfo2.invokeExact((SegmentAllocator) arena);
            return info.get(ValueLayout.JAVA_LONG, UORDBLKS) + info.get(ValueLayout.JAVA_LONG, HBLKHD);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Collects until the bytes in use are at most {@code limit}, for up to {@link #WAIT}. @return the last reading */
    private static long awaitInUseAtMost(long limit) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        long inUse;
        while ((inUse = nativeBytesInUse()) > limit && System.nanoTime() < deadline) {
            System.gc();
            LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
        }
        return inUse;
    }

    /** The bytes in use once whatever is collectable now has been collected and cleaned. */
    private static long settledInUse() {
        long previous = Long.MAX_VALUE;
        long now = nativeBytesInUse();
        for (int i = 0; i < 20 && now < previous; i++) { // until a collection frees nothing more
            previous = now;
            System.gc();
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
            now = nativeBytesInUse();
        }
        return now;
    }

    @Test
    void tenThousandDroppedHeapsGiveTheirRegionsBack() {
        fillAndDrop(100); // load and compile what the loop runs, so that its one-time mallocs come before
        long before = settledInUse();
        fillAndDrop(10_000);
        long afterDropping = nativeBytesInUse();
        long afterGc = awaitInUseAtMost(before + TOLERANCE);
        System.out.printf("FixedHeapReclaimTest: in use before %.1f MiB, after dropping 10,000 heaps %.1f MiB,"
                + " after GC %.1f MiB%n", before / (double) MIB, afterDropping / (double) MIB, afterGc / (double) MIB);
        if (afterGc > before + TOLERANCE) {
            fail("10,000 dropped heaps of 64 KiB: " + (afterGc - before) / MIB + " MiB still in use by malloc after GC"
                    + " (before " + before + ", after " + afterGc + " bytes)");
        }
    }

    /** Makes heaps of 64 KiB, fills each with blocks (by segment, address and handle) and drops it. */
    private static void fillAndDrop(int heaps) {
        for (int i = 0; i < heaps; i++) {
            FixedHeap heap = FixedHeap.create("dropped-" + i, 64 << 10);
            int blocks = 0;
            for (MemorySegment segment; !(segment = heap.tryAllocate(1000)).equals(MemorySegment.NULL); blocks++) {
                segment.fill((byte) i);
                if (blocks == 20) {
                    break;
                }
            }
            for (long address; (address = heap.tryAllocateAddress(1000)) != 0; blocks++) {
                MemorySegment.ofAddress(address).reinterpret(1000).fill((byte) i);
                if (blocks == 40) {
                    break;
                }
            }
            for (long handle; (handle = heap.tryAllocateHandle(1000)) != FixedHeap.NO_HANDLE; blocks++) {
                heap.segment(handle).fill((byte) i);
                if (blocks % 2 == 0) {
                    heap.unpin(handle); // some are dropped pinned
                }
            }
            if (heap.statistics().freeBytes() > 1024 + 16) {
                fail("heap " + i + " was not filled: " + heap.statistics());
            }
        }
    }

    /**
     * Measured relative to the end state, not to a baseline taken before: in a JVM that ran other tests, the
     * Cleaner may still be freeing their heaps, and the JIT taking memory, while this test runs.
     */
    @Test
    void aDroppedHeapWhoseSegmentIsReachableKeepsItsRegionUntilTheSegmentIsDropped() {
        settledInUse();
        MemorySegment kept = allocateFromADroppedHeap(16 * MIB);
        long whileKept = settledInUse(); // the heap object is collectable now; its segment is not
        assertEquals(0x0123_4567_89AB_CDEFL, kept.get(ValueLayout.JAVA_LONG, 0), "the segment still works");
        assertEquals(0x0123_4567_89AB_CDEFL, kept.get(ValueLayout.JAVA_LONG, kept.byteSize() - 8));
        Reference.reachabilityFence(kept);
        kept = null;
        long afterGc = awaitInUseAtMost(whileKept - 16 * MIB + TOLERANCE);
        assertTrue(whileKept - afterGc >= 16 * MIB - TOLERANCE, "the region was kept while its segment was"
                + " reachable, and went back once it was dropped: " + whileKept + " bytes in use while kept, "
                + afterGc + " after");
    }

    private static MemorySegment allocateFromADroppedHeap(long capacity) {
        FixedHeap heap = FixedHeap.create("kept-by-a-segment", capacity);
        MemorySegment segment = heap.allocate(heap.maxAllocation() / 2);
        segment.fill((byte) 0x5A);
        segment.set(ValueLayout.JAVA_LONG, 0, 0x0123_4567_89AB_CDEFL);
        segment.set(ValueLayout.JAVA_LONG, segment.byteSize() - 8, 0x0123_4567_89AB_CDEFL);
        return segment;
    }

    @Test
    void closeGivesTheRegionBackAtOnceAndTheSegmentsStopWorking() {
        long before = settledInUse();
        FixedHeap heap = FixedHeap.create("closed", 64 * MIB);
        MemorySegment segment = heap.allocate(1 << 20);
        segment.fill((byte) 1);
        long address = heap.tryAllocateAddress(100);
        long handle = heap.allocateHandle(100);
        heap.write(handle, 0, MemorySegment.ofArray(new byte[8]), 0, 8);
        MemorySegment view = heap.segment(handle);
        long whileOpen = nativeBytesInUse();
        // other tests' blocks may be freed meanwhile (cleaners): the tolerance both ways
        assertTrue(whileOpen >= before + 64 * MIB - TOLERANCE, "the region is allocated: " + before + " -> " + whileOpen);

        heap.close();
        long afterClose = nativeBytesInUse();
        assertTrue(afterClose <= before + TOLERANCE, "close() gives the region back at once: before " + before
                + ", after close " + afterClose);

        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> segment.fill((byte) 2));
        assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 0));
        CacheInfoTest.assertState(() -> heap.allocate(8), "heap 'closed' is closed");
        CacheInfoTest.assertState(() -> heap.free(segment), "is closed");
        CacheInfoTest.assertState(() -> heap.freeAddress(address), "is closed");
        CacheInfoTest.assertState(() -> heap.pin(handle), "is closed");
        CacheInfoTest.assertState(() -> heap.unpin(handle), "is closed");
        CacheInfoTest.assertState(() -> heap.read(handle, 0, MemorySegment.ofArray(new byte[8]), 0, 8), "is closed");
        CacheInfoTest.assertState(() -> heap.write(handle, 0, MemorySegment.ofArray(new byte[8]), 0, 8), "is closed");
        CacheInfoTest.assertState(() -> heap.segment(handle), "is closed");
        CacheInfoTest.assertState(() -> heap.free(handle), "is closed");
        CacheInfoTest.assertState(() -> heap.capacityOf(handle), "is closed");
        CacheInfoTest.assertState(() -> heap.allocateHandle(8), "is closed");
        assertEquals(3, heap.statistics().allocations(), "statistics still answer");
        assertEquals(0, heap.statistics().usedBytes());
        heap.close(); // twice does nothing

        // the Cleaner must not free the region a second time once the closed heap is unreachable too
        // (a second free() of the region would abort the JVM here, with glibc's "double free" message)
        Reference.reachabilityFence(heap);
        settledInUse();
        try (FixedHeap next = FixedHeap.create("after", 64 * MIB)) { // malloc still works
            next.allocate(1 << 20).fill((byte) 3);
            next.verify();
        }
    }
}
