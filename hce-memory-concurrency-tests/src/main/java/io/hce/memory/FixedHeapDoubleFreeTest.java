package io.hce.memory;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Two threads free the same handle at once (two requests removing the same value, say): exactly one
 * {@code free} returns true, and the block is released exactly once. A 4096-byte heap of one shard, with a
 * neighbour on each side of the block, so that a second release would corrupt the neighbours' merge.
 * Results: r1 and r2 = what each free returned, r3 = the heap's count of frees once the arbiter has given
 * the neighbours back (3: the block and its two neighbours), r4 = whether the heap was then consistent
 * and empty.
 */
public class FixedHeapDoubleFreeTest {

    private static final int SIZE = 1000;

    /** The block is unpinned: the winning free releases it at once. */
    @JCStressTest
    @Outcome(id = {"1, 0, 3, 1", "0, 1, 3, 1"}, expect = ACCEPTABLE, desc = "one free won, the block was released once")
    @Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "both frees succeeded")
    @Outcome(expect = FORBIDDEN, desc = "no free succeeded, or the block was released twice or never")
    @State
    public static class Unpinned {

        private final FixedHeap heap = FixedHeap.create("double-free", FixedHeap.MIN_CAPACITY, 1, false);
        private final long left = heap.allocateHandle(SIZE);
        private final long block = heap.allocateHandle(SIZE);
        private final long right = heap.allocateHandle(SIZE);

        public Unpinned() {
            heap.unpin(left);
            heap.unpin(block);
            heap.unpin(right);
        }

        @Actor
        public void one(IIII_Result r) {
            r.r1 = heap.free(block) ? 1 : 0;
        }

        @Actor
        public void other(IIII_Result r) {
            r.r2 = heap.free(block) ? 1 : 0;
        }

        @Arbiter
        public void giveBack(IIII_Result r) {
            settle(heap, block, left, right, false, r);
        }
    }

    /** The block is pinned by its creator: the winning free marks it, the arbiter's unpin releases it. */
    @JCStressTest
    @Outcome(id = {"1, 0, 3, 1", "0, 1, 3, 1"}, expect = ACCEPTABLE, desc = "one free won, the unpin released the block once")
    @Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "both frees succeeded")
    @Outcome(expect = FORBIDDEN, desc = "no free succeeded, or the block was released twice or never")
    @State
    public static class Pinned {

        private final FixedHeap heap = FixedHeap.create("double-free-pinned", FixedHeap.MIN_CAPACITY, 1, false);
        private final long left = heap.allocateHandle(SIZE);
        private final long block = heap.allocateHandle(SIZE); // the creator's pin is held until the arbiter
        private final long right = heap.allocateHandle(SIZE);

        public Pinned() {
            heap.unpin(left);
            heap.unpin(right);
        }

        @Actor
        public void one(IIII_Result r) {
            r.r1 = heap.free(block) ? 1 : 0;
        }

        @Actor
        public void other(IIII_Result r) {
            r.r2 = heap.free(block) ? 1 : 0;
        }

        @Arbiter
        public void giveBack(IIII_Result r) {
            settle(heap, block, left, right, true, r);
        }
    }

    static void settle(FixedHeap heap, long block, long left, long right, boolean unpin, IIII_Result r) {
        boolean clean = true;
        try {
            if (unpin) {
                heap.unpin(block);
            }
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
