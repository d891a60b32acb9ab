package io.hce.memory.internal.pool;

import io.hce.memory.internal.platform.NativeMemory;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * One thread gives a block back to the shared ring while another closes the pool: the race that
 * {@code drainIfClosed()}'s fence and {@code close()}'s fence settle between them. Either the closer's drain
 * finds the block in the ring, or the giver sees {@code closed} and drains it itself; a closed pool must
 * never keep it. A block freed twice aborts the forked VM (glibc's double-free check), which jcstress
 * reports as an error. Results: r1 = blocks the pool still caches once both are done, r2 = the pool's
 * count of blocks freed for want of room (none: the ring has room).
 */
public class BlockPoolCloseTest {

    private static final long BLOCK = 16;

    /** A pool too small for magazines: the ring alone, one CAS and one fence per deallocation. */
    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the block was freed by the close or by the giver")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "a closed pool kept the block: neither side saw the other")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class WithoutMagazines {

        private final BlockPool pool = new BlockPool("jcstress", BLOCK, BLOCK, 2, 0, 0);
        private final long block = NativeMemory.allocate(BLOCK, BLOCK);

        @Actor
        public void giveBack() {
            pool.deallocate(block);
        }

        @Actor
        public void close() {
            pool.close();
        }

        @Arbiter
        public void count(JJ_Result r) {
            r.r1 = pool.cachedBlocks();
            r.r2 = pool.frees();
        }
    }

    /**
     * A thread beyond the magazine limit: a place from {@code freePlaces}, then the ring, as for virtual
     * threads.
     */
    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the block was freed by the close or by the giver")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "a closed pool kept the block: neither side saw the other")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class BeyondTheMagazineLimit {

        private final BlockPool pool = new BlockPool("jcstress", BLOCK, BLOCK, 2, 2, 0);
        private final long block = NativeMemory.allocate(BLOCK, BLOCK);

        @Actor
        public void giveBack() {
            pool.deallocate(block);
        }

        @Actor
        public void close() {
            pool.close();
        }

        @Arbiter
        public void count(JJ_Result r) {
            r.r1 = pool.cachedBlocks();
            r.r2 = pool.frees();
            pool.dropped(); // as when the pool is collected: ends the giver's watch, or its thread would keep one per state
        }
    }
}
