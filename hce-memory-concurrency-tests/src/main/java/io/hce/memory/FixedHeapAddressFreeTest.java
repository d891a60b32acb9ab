package io.hce.memory;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Blocks handed out by address are freed, kept for reuse and evicted without their headers being read: the
 * owned bitmap alone says which are live. These races check that it says so exactly once. A 4096-byte heap of
 * one shard holds, in address order, a free block {@code F} of 1520 bytes, the block {@code a} (1000 bytes)
 * and a block {@code t} (1500 bytes) up to the end.
 */
public class FixedHeapAddressFreeTest {

    /** Two threads free the same address: one is accepted, the other refused, and the block is reused once. */
    @JCStressTest
    @Outcome(id = {"1, 0, 1", "0, 1, 1"}, expect = ACCEPTABLE, desc = "one free accepted, the block reused once")
    @Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "both frees accepted")
    @Outcome(expect = FORBIDDEN, desc = "no free accepted, or the heap was left inconsistent")
    @State
    public static class TwoFrees {

        private final FixedHeap heap = FixedHeap.create("address-frees", FixedHeap.MIN_CAPACITY, 1, false);
        private final long top = heap.allocateAddress(1500);
        private final long block = heap.allocateAddress(1000);

        @Actor
        public void one(III_Result r) {
            r.r1 = freed(heap, block);
        }

        @Actor
        public void other(III_Result r) {
            r.r2 = freed(heap, block);
        }

        @Arbiter
        public void giveBack(III_Result r) {
            r.r3 = settled(heap, () -> {
                long again = heap.allocateAddress(1000); // the block, kept for reuse
                long other = heap.allocateAddress(1000); // from F: the block is not handed out twice
                heap.freeAddress(again);
                heap.freeAddress(other);
                heap.freeAddress(top);
                return again == block && other != block && freed(heap, block) == 0;
            });
        }
    }

    /**
     * A free of {@code a} races an allocation of 2400 bytes that only {@code F} and {@code a} together can hold:
     * either the free wins (and the allocation merges {@code a} and evicts nothing) or the eviction does (and
     * the free is refused). Never both, never neither.
     */
    @JCStressTest
    @Outcome(id = {"1, 0, 1", "0, 1, 1"}, expect = ACCEPTABLE, desc = "the free or the eviction took the block")
    @Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "freed and evicted: the block was given back twice")
    @Outcome(expect = FORBIDDEN, desc = "neither took it, or the heap was left inconsistent")
    @State
    public static class FreeVersusEviction {

        private final FixedHeap heap = FixedHeap.create("address-evict", FixedHeap.MIN_CAPACITY, 1, false);
        private final long top = heap.allocateAddress(1500);
        private final long block = heap.allocateAddress(1000);
        private long evicted;
        private long taken;

        @Actor
        public void free(III_Result r) {
            r.r1 = freed(heap, block);
        }

        @Actor
        public void evict() {
            taken = heap.allocateAddressOrEvict(2400, victim -> evicted = victim);
        }

        @Arbiter
        public void giveBack(III_Result r) {
            r.r2 = evicted == block ? 1 : 0;
            r.r3 = settled(heap, () -> {
                heap.freeAddress(taken);
                heap.freeAddress(top);
                return evicted == 0 || evicted == block;
            });
        }
    }

    /**
     * Checks the heap, gives back what is left with {@code giveBack}, checks it again and closes it.
     *
     * @return 1 if the heap was consistent before and empty after, and {@code giveBack} found what it expected
     */
    static int settled(FixedHeap heap, java.util.function.BooleanSupplier giveBack) {
        try {
            heap.verify();
            boolean expected = giveBack.getAsBoolean();
            heap.verify();
            return expected && heap.statistics().usedBytes() == 0 ? 1 : 0;
        } catch (RuntimeException e) {
            return 0;
        } finally {
            heap.close();
        }
    }

    /** @return 1 if the free was accepted, 0 if it was refused as a double free */
    static int freed(FixedHeap heap, long address) {
        try {
            heap.freeAddress(address);
            return 1;
        } catch (IllegalStateException | IllegalArgumentException refused) {
            return 0;
        }
    }
}
