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
 * A reader pins a value while another thread's allocation must evict it: a 4096-byte heap of one shard,
 * full, holding the value (unpinned) and a filler its creator keeps pinned, so the allocation can make room
 * only by evicting the value. Either the pin comes first, and the allocation finds nothing to evict, or the
 * eviction comes first, and the pin reports a miss; never a pinned block that is evicted (its memory handed
 * out under the reader). Results: r1 = whether the pin succeeded, r2 = whether the value was evicted,
 * r3 = whether the allocation succeeded (0: HeapExhaustedException), r4 = whether the arbiter found the heap
 * consistent and empty once it had given everything back.
 */
@JCStressTest
@Outcome(id = "1, 0, 0, 1", expect = ACCEPTABLE, desc = "pinned first: nothing could be evicted")
@Outcome(id = "0, 1, 1, 1", expect = ACCEPTABLE, desc = "evicted first: the pin is a miss")
@Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "a pinned block was evicted")
@Outcome(expect = FORBIDDEN, desc = "lost, duplicated or inconsistent")
@State
public class FixedHeapPinVersusEvictTest {

    private static final int VALUE = 1000;

    private final FixedHeap heap = FixedHeap.create("pin-vs-evict", FixedHeap.MIN_CAPACITY, 1, false);
    private final long value;
    private final long filler;
    private long allocated = FixedHeap.NO_HANDLE; // written by the evictor, read by the arbiter
    private boolean evicted;
    private boolean evictedSomethingElse;

    public FixedHeapPinVersusEvictTest() {
        value = heap.allocateHandle(VALUE);
        filler = heap.allocateHandle(heap.statistics().largestFreeBlock()); // the rest, pinned all along
        heap.unpin(value);
    }

    @Actor
    public void reader(IIII_Result r) {
        r.r1 = heap.pin(value) ? 1 : 0;
    }

    @Actor
    public void writer(IIII_Result r) {
        try {
            allocated = heap.allocateHandleOrEvict(VALUE, victim -> {
                if (victim == value) {
                    evicted = true;
                } else {
                    evictedSomethingElse = true;
                }
            });
            r.r3 = 1;
        } catch (HeapExhaustedException e) {
            r.r3 = 0;
        }
    }

    @Arbiter
    public void giveBack(IIII_Result r) {
        r.r2 = evicted ? 1 : 0;
        boolean clean = !evictedSomethingElse;
        try {
            if (r.r1 == 1) {
                clean &= heap.free(value); // pinned by the reader, so still live: released at the unpin
                heap.unpin(value);
            }
            if (allocated != FixedHeap.NO_HANDLE) {
                clean &= heap.free(allocated);
                heap.unpin(allocated);
            }
            clean &= heap.free(filler);
            heap.unpin(filler);
            clean &= !heap.free(value) && !heap.pin(value); // stale by now, whatever happened
            heap.verify();
            clean &= heap.statistics().usedBytes() == 0;
        } catch (RuntimeException e) {
            clean = false;
        } finally {
            heap.close();
        }
        r.r4 = clean ? 1 : 0;
    }
}
