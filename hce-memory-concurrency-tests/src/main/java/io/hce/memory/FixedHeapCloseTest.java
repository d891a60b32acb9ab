package io.hce.memory;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A request races {@code close()}. A shard's bitmaps are read and written by address under its lock, with no
 * scope to refuse an access once the region is freed, so the close marks every shard closed under its lock
 * before it frees the region, and a lock taken afterwards refuses the request. So the request either runs
 * wholly before the close, and the figures of the closed heap count it, or is refused; a request accepted that
 * the figures do not count ran on freed memory. Results: r1 = 1 if the request was accepted, r2 = the figures'
 * count of it (frees or allocations) at the close.
 */
public class FixedHeapCloseTest {

    /** A free by address races the close. */
    @JCStressTest
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the free ran before the close")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the free was refused: the heap was closed")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "a free accepted after the close: it ran on freed memory")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class FreeVersusClose {

        private final FixedHeap heap = FixedHeap.create("free-versus-close", FixedHeap.MIN_CAPACITY, 1, false);
        private final long block = heap.allocateAddress(1000);

        @Actor
        public void free(JJ_Result r) {
            r.r1 = accepted(() -> heap.freeAddress(block));
        }

        @Actor
        public void close() {
            heap.close();
        }

        @Arbiter
        public void count(JJ_Result r) {
            r.r2 = heap.statistics().frees();
        }
    }

    /** An allocation by address races the close. */
    @JCStressTest
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the allocation ran before the close")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the allocation was refused: the heap was closed")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "an allocation accepted after the close: it ran on freed memory")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class AllocationVersusClose {

        private final FixedHeap heap = FixedHeap.create("allocation-versus-close", FixedHeap.MIN_CAPACITY, 1, false);

        @Actor
        public void allocate(JJ_Result r) {
            r.r1 = accepted(() -> heap.allocateAddress(1000)); // the heap is empty: it fits
        }

        @Actor
        public void close() {
            heap.close();
        }

        @Arbiter
        public void count(JJ_Result r) {
            r.r2 = heap.statistics().allocations();
        }
    }

    /** @return 1 if {@code request} ran, 0 if it was refused because the heap was closed */
    static long accepted(Runnable request) {
        try {
            request.run();
            return 1;
        } catch (IllegalStateException closed) {
            return 0;
        }
    }
}
