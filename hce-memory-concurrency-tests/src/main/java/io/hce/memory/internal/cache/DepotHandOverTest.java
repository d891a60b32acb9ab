package io.hce.memory.internal.cache;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJJ_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A thread cache moving a batch of two blocks into the depot while another takes one out, as a consumer
 * and a producer of a producer/consumer pair do: the taker sees the whole batch or nothing, never a torn or
 * stale one, and the arbiter finds whatever was not taken. Results: r1 = what the taker saw (its two
 * addresses summed, 0 for nothing), r2 = whether the offer succeeded, r3 = what the arbiter took.
 */
@JCStressTest
@Outcome(id = {"30, 1, 0", "0, 1, 30"}, expect = ACCEPTABLE, desc = "the whole batch, taken once")
@Outcome(expect = FORBIDDEN, desc = "a torn, stale or lost batch")
@State
public class DepotHandOverTest {

    private final TransferDepot depot = new TransferDepot(2, 2);
    private final long[] consumerCache = {10, 20};
    private final long[] producerCache = new long[2];

    @Actor
    public void consumerMovesABatch(JJJ_Result r) {
        r.r2 = depot.offer(consumerCache, 0) ? 1 : 0;
    }

    @Actor
    public void producerTakesABatch(JJJ_Result r) {
        r.r1 = depot.take(producerCache, 0) ? producerCache[0] + producerCache[1] : 0;
    }

    @Arbiter
    public void drain(JJJ_Result r) {
        long[] rest = new long[2];
        r.r3 = depot.take(rest, 0) ? rest[0] + rest[1] : 0;
    }
}
