package io.hce.memory.internal.cache;

import io.hce.memory.CacheInfo;
import io.hce.memory.internal.platform.NativeMemory;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Two virtual threads' calls on the one stripe they share (a single stripe, so that they always meet): the
 * lock must let one at a time write the stripe's stack, each seeing the other's push or pop. Blocks are
 * named 1 (a) and 2 (b); 0 is any other address, a {@code malloc} after a block was lost. The arbiter takes
 * what the stripe holds and frees it.
 */
public class StripedCachesTest {

    private static final long SIZE = 64;

    /** Common to both tests: one stripe of one 64-byte bucket, no depot, and the blocks a and b. */
    abstract static class OneStripe {

        final SizeClasses sizes = new SizeClasses(CacheInfo.of(7, 4096));
        final int bucket = sizes.bucketOf(SIZE);
        final StripedCaches caches =
                new StripedCaches(new ThreadCache[] {new ThreadCache(-1, sizes, new TransferDepot[sizes.bucketCount()], "jcstress")});
        final long a = NativeMemory.allocate(sizes.nativeSize(bucket), sizes.alignment(bucket));
        final long b = NativeMemory.allocate(sizes.nativeSize(bucket), sizes.alignment(bucket));

        /** @return 1 for a, 2 for b, 0 for a new block (freed here) */
        int take() {
            long address = caches.allocate(bucket, SIZE, 16);
            if (address == a) {
                return 1;
            }
            if (address == b) {
                return 2;
            }
            NativeMemory.free(address, sizes.nativeSize(bucket));
            return 0;
        }

        void free(int... names) {
            for (int name : names) {
                if (name != 0) {
                    NativeMemory.free(name == 1 ? a : b, sizes.nativeSize(bucket));
                }
            }
        }
    }

    /** Both free a block at once: both pushes land. */
    @JCStressTest
    @Outcome(id = {"1, 2", "2, 1"}, expect = ACCEPTABLE, desc = "both blocks cached, last in first out")
    @Outcome(id = {"0, .*", ".*, 0"}, expect = FORBIDDEN, desc = "a push was lost: two holders at once")
    @Outcome(expect = FORBIDDEN, desc = "a block cached twice")
    @State
    public static class TwoFrees extends OneStripe {

        @Actor
        public void freeA() {
            caches.deallocate(bucket, a, SIZE);
        }

        @Actor
        public void freeB() {
            caches.deallocate(bucket, b, SIZE);
        }

        @Arbiter
        public void takeBoth(II_Result r) {
            r.r1 = take();
            r.r2 = take();
            free(r.r1, r.r1 == r.r2 ? 0 : r.r2);
        }
    }

    /** The stripe holds a; one thread allocates while another frees b. */
    @JCStressTest
    @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "took a, then b was cached")
    @Outcome(id = "2, 1", expect = ACCEPTABLE, desc = "b was cached, then taken; a stays")
    @Outcome(id = {"0, .*", ".*, 0"}, expect = FORBIDDEN, desc = "a block was lost: two holders at once")
    @Outcome(expect = FORBIDDEN, desc = "a block handed out twice")
    @State
    public static class TakeAndGive extends OneStripe {

        public TakeAndGive() {
            caches.deallocate(bucket, a, SIZE);
        }

        @Actor
        public void allocate(II_Result r) {
            r.r1 = take();
        }

        @Actor
        public void freeB() {
            caches.deallocate(bucket, b, SIZE);
        }

        @Arbiter
        public void takeTheOther(II_Result r) {
            r.r2 = take();
            free(r.r1, r.r1 == r.r2 ? 0 : r.r2);
        }
    }
}
