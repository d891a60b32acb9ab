package io.hce.memory.internal.concurrent;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJJJ_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A pool of capacity one holding block 5: one thread gives block 1 back while another takes a block, as a
 * pool's request threads do. The taker always gets 5 (the ring is first-in first-out and never empty when
 * it polls); the giver succeeds only if the slot was freed first, and then the arbiter finds 1. One slot
 * is the case a plain Vyukov ring gets wrong (it would accept a second value). Results: r1 = whether the
 * offer succeeded, r2 = what the taker got, r3 and r4 = what the arbiter drained.
 */
@JCStressTest
@Outcome(id = {"1, 5, 1, 0", "0, 5, 0, 0"}, expect = ACCEPTABLE, desc = "one slot, first in first out")
@Outcome(expect = FORBIDDEN, desc = "a block lost, duplicated, or two in one slot")
@State
public class LongRingHandOverTest {

    private final LongRing ring = new LongRing(1);

    public LongRingHandOverTest() {
        ring.offer(5);
    }

    @Actor
    public void giveBack(JJJJ_Result r) {
        r.r1 = ring.offer(1) ? 1 : 0;
    }

    @Actor
    public void take(JJJJ_Result r) {
        r.r2 = ring.poll(0);
    }

    @Arbiter
    public void drain(JJJJ_Result r) {
        r.r3 = ring.poll(0);
        r.r4 = ring.poll(0);
    }
}
