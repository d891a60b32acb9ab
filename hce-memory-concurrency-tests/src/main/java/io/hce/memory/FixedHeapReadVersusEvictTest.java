package io.hce.memory;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * An optimistic {@code read} of a value while another thread evicts it, takes its memory and writes a new
 * value over it: the read returns true only with the exact bytes the value was written with; else it reports
 * a miss. A 4096-byte heap of one shard, full: the values to evict and a filler its creator keeps pinned.
 * Two ways the memory comes back: as a block at the same place with a new stamp ({@link SamePlace}), and as a
 * larger block that swallows the read value's header, which the block-start bitmap must then disown
 * ({@link Merged}). Results: r1 = what the reader saw (1: the exact bytes, 0: a miss, 2: true with other
 * bytes), r2 = how many values were evicted, r3 = whether the arbiter found the heap consistent and empty.
 */
public class FixedHeapReadVersusEvictTest {

    private static final byte OLD = 0x5A;
    private static final byte NEW = (byte) 0xA5;

    /** The read value is evicted and a block of its size takes its place: a new stamp in the same header. */
    @JCStressTest
    @Outcome(id = {"1, 1, 1", "0, 1, 1"}, expect = ACCEPTABLE, desc = "the exact bytes, or a miss")
    @Outcome(id = "2, .*", expect = FORBIDDEN, desc = "a hit with bytes that are not the value's")
    @Outcome(expect = FORBIDDEN, desc = "not evicted, or the heap inconsistent")
    @State
    public static class SamePlace {

        private static final int VALUE = 1000;

        private final FixedHeap heap = FixedHeap.create("read-vs-evict", FixedHeap.MIN_CAPACITY, 1, false);
        private final long value;
        private final long filler;
        private final byte[] seen = new byte[VALUE];
        private long allocated = FixedHeap.NO_HANDLE;
        private int evicted;

        public SamePlace() {
            value = written(heap, VALUE, OLD);
            filler = heap.allocateHandle(heap.statistics().largestFreeBlock());
            heap.unpin(value);
        }

        @Actor
        public void reader(III_Result r) {
            r.r1 = heap.read(value, 0, MemorySegment.ofArray(seen), 0, VALUE) ? (all(seen, OLD) ? 1 : 2) : 0;
        }

        @Actor
        public void writer() {
            long handle = heap.allocateHandleOrEvict(VALUE, victim -> evicted++);
            heap.write(handle, 0, MemorySegment.ofArray(filled(VALUE, NEW)), 0, VALUE);
            heap.unpin(handle);
            allocated = handle;
        }

        @Arbiter
        public void giveBack(III_Result r) {
            r.r2 = evicted;
            r.r3 = giveBackAll(heap, allocated, filler) ? 1 : 0;
        }
    }

    /**
     * Two values of 512-byte blocks side by side; the writer needs 1024 bytes, so it evicts both and its block
     * swallows the header of the one that is read (the right one), then fills it with other bytes.
     */
    @JCStressTest
    @Outcome(id = {"1, 2, 1", "0, 2, 1"}, expect = ACCEPTABLE, desc = "the exact bytes, or a miss")
    @Outcome(id = "2, .*", expect = FORBIDDEN, desc = "a hit with bytes that are not the value's")
    @Outcome(expect = FORBIDDEN, desc = "not both evicted, or the heap inconsistent")
    @State
    public static class Merged {

        private static final int SMALL = 496;  // a 512-byte block
        private static final int LARGE = 1008; // a 1024-byte block: both small ones

        private final FixedHeap heap = FixedHeap.create("read-vs-evict-merged", FixedHeap.MIN_CAPACITY, 1, false);
        private final long read;
        private final long filler;
        private final byte[] seen = new byte[SMALL];
        private long allocated = FixedHeap.NO_HANDLE;
        private int evicted;

        public Merged() {
            long one = written(heap, SMALL, OLD);
            long two = written(heap, SMALL, OLD);
            filler = heap.allocateHandle(heap.statistics().largestFreeBlock());
            // The one on the right is read: its header ends up inside the writer's block.
            boolean oneIsRight = heap.segment(one).address() > heap.segment(two).address();
            read = oneIsRight ? one : two;
            heap.unpin(one);
            heap.unpin(two);
        }

        @Actor
        public void reader(III_Result r) {
            r.r1 = heap.read(read, 0, MemorySegment.ofArray(seen), 0, SMALL) ? (all(seen, OLD) ? 1 : 2) : 0;
        }

        @Actor
        public void writer() {
            long handle = heap.allocateHandleOrEvict(LARGE, victim -> evicted++);
            heap.write(handle, 0, MemorySegment.ofArray(filled(LARGE, NEW)), 0, LARGE);
            heap.unpin(handle);
            allocated = handle;
        }

        @Arbiter
        public void giveBack(III_Result r) {
            r.r2 = evicted;
            r.r3 = giveBackAll(heap, allocated, filler) ? 1 : 0;
        }
    }

    /** @return a new block's handle, still pinned by its creation, holding {@code size} bytes of {@code b} */
    static long written(FixedHeap heap, int size, byte b) {
        long handle = heap.allocateHandle(size);
        heap.write(handle, 0, MemorySegment.ofArray(filled(size, b)), 0, size);
        return handle;
    }

    static byte[] filled(int size, byte b) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, b);
        return bytes;
    }

    static boolean all(byte[] bytes, byte b) {
        for (byte x : bytes) {
            if (x != b) {
                return false;
            }
        }
        return true;
    }

    /** Frees the writer's block and the filler, checks the heap is consistent and empty, and closes it. */
    static boolean giveBackAll(FixedHeap heap, long allocated, long filler) {
        try {
            boolean clean = allocated != FixedHeap.NO_HANDLE && heap.free(allocated);
            clean &= heap.free(filler);
            heap.unpin(filler);
            heap.verify();
            return clean && heap.statistics().usedBytes() == 0;
        } catch (RuntimeException e) {
            return false;
        } finally {
            heap.close();
        }
    }
}
