package io.hce.memory;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.lang.foreign.MemorySegment;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Checked mode: two threads deallocate the same 64-byte block at once. Exactly one succeeds and the other is
 * reported as a double free, every time (the check and the removal from the live table were once two steps,
 * and both frees were accepted about 2% of the time; glibc then aborted). r1, r2: 1 = accepted, 2 = reported
 * as a double free, 3 = another exception; r3: the block is in quarantine once (1), as the arbiter counts
 * what is cached and reserved.
 */
@JCStressTest
@Outcome(id = {"1, 2, 1", "2, 1, 1"}, expect = ACCEPTABLE, desc = "one free accepted, the other reported")
@Outcome(expect = FORBIDDEN, desc = "both accepted, both refused, or a report that is not a double free")
@State
public class CheckedDoubleFreeTest {

    private static final CachingAllocator ALLOCATOR =
            CachingAllocator.create(CacheInfo.defaults(), new AllocatorOptions(true, LeakDetection.OFF));

    private final MemorySegment block = ALLOCATOR.allocate(64);

    @Actor
    public void first(III_Result r) {
        r.r1 = free();
    }

    @Actor
    public void second(III_Result r) {
        r.r2 = free();
    }

    @Arbiter
    public void count(III_Result r) {
        r.r3 = (r.r1 == 1 ? 1 : 0) + (r.r2 == 1 ? 1 : 0);
    }

    private int free() {
        try {
            ALLOCATOR.deallocate(block);
            return 1;
        } catch (IllegalStateException e) {
            return e.getMessage().startsWith("double free") ? 2 : 3;
        } catch (RuntimeException e) {
            return 3;
        }
    }
}
