package io.hce.memory;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A free of a pinned block racing with an unpin: the block is released exactly once, by whichever of them
 * comes last, and never while a pin is held. A 4096-byte heap of one shard, with a neighbour on each
 * side of the block. Results: r1 = what {@code free} returned (the block is live when it is called, so
 * always 1), r2 = whether the unpin completed, r3 = the heap's count of frees once the arbiter has given the
 * neighbours back (3), r4 = whether the heap was then consistent and empty and the handle stale.
 */
public class FixedHeapFreeVersusUnpinTest {

    private static final int SIZE = 1000;

    /** The creator's pin against a free. */
    @JCStressTest
    @Outcome(id = "1, 1, 3, 1", expect = ACCEPTABLE, desc = "released once, by the free or by the unpin")
    @Outcome(expect = FORBIDDEN, desc = "released twice or never, or a call refused")
    @State
    public static class OnePin {

        private final FixedHeap heap = FixedHeap.create("free-vs-unpin", FixedHeap.MIN_CAPACITY, 1, false);
        private final long left = heap.allocateHandle(SIZE);
        private final long block = heap.allocateHandle(SIZE); // pinned by its creation
        private final long right = heap.allocateHandle(SIZE);

        public OnePin() {
            heap.unpin(left);
            heap.unpin(right);
        }

        @Actor
        public void free(IIII_Result r) {
            r.r1 = heap.free(block) ? 1 : 0;
        }

        @Actor
        public void unpin(IIII_Result r) {
            heap.unpin(block);
            r.r2 = 1;
        }

        @Arbiter
        public void giveBack(IIII_Result r) {
            settle(heap, block, left, right, r);
        }
    }

    /**
     * The creator's pin and a reader's pin: the reader unpins while another thread frees. The creator's pin is
     * still held when the actors are done, so the block must still hold its bytes (nothing released it, nothing
     * took its memory); the arbiter's unpin, the last, releases it.
     */
    @JCStressTest
    @Outcome(id = "1, 1, 3, 1", expect = ACCEPTABLE, desc = "kept while pinned, released once by the last unpin")
    @Outcome(expect = FORBIDDEN, desc = "released while pinned, twice or never, or a call refused")
    @State
    public static class TwoPins {

        private static final byte CONTENT = 0x3C;

        private final FixedHeap heap = FixedHeap.create("free-vs-unpins", FixedHeap.MIN_CAPACITY, 1, false);
        private final long left = heap.allocateHandle(SIZE);
        private final long block = heap.allocateHandle(SIZE); // pinned by its creation
        private final long right = heap.allocateHandle(SIZE);

        public TwoPins() {
            heap.unpin(left);
            heap.unpin(right);
            byte[] content = new byte[SIZE];
            Arrays.fill(content, CONTENT);
            heap.write(block, 0, MemorySegment.ofArray(content), 0, SIZE);
            if (!heap.pin(block)) { // the reader's pin
                throw new IllegalStateException("a new block could not be pinned");
            }
        }

        @Actor
        public void free(IIII_Result r) {
            r.r1 = heap.free(block) ? 1 : 0;
        }

        @Actor
        public void readerUnpins(IIII_Result r) {
            heap.unpin(block);
            r.r2 = 1;
        }

        @Arbiter
        public void giveBack(IIII_Result r) {
            boolean intact;
            try {
                // Freed, but the creator's pin holds it: its memory is still the block's, with its bytes.
                MemorySegment view = heap.segment(block);
                intact = heap.statistics().frees() == 0;
                for (int i = 0; i < SIZE; i++) {
                    intact &= view.get(ValueLayout.JAVA_BYTE, i) == CONTENT;
                }
                heap.unpin(block);
            } catch (RuntimeException e) {
                intact = false;
            }
            settle(heap, block, left, right, r);
            if (!intact) {
                r.r4 = 0;
            }
        }
    }

    static void settle(FixedHeap heap, long block, long left, long right, IIII_Result r) {
        boolean clean = true;
        try {
            clean &= !heap.free(block) && !heap.pin(block) && heap.capacityOf(block) == -1;
            clean &= heap.free(left) & heap.free(right);
            heap.verify();
            HeapStatistics statistics = heap.statistics();
            r.r3 = (int) statistics.frees();
            clean &= statistics.usedBytes() == 0;
        } catch (RuntimeException e) {
            clean = false;
        } finally {
            heap.close();
        }
        r.r4 = clean ? 1 : 0;
    }
}
