package io.hce.memory.internal.pool;

import io.hce.memory.internal.concurrent.FieldHandles;
import io.hce.memory.internal.concurrent.StripedLongRing;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A {@link BlockPool}'s counters, and the statistics derived from them and from what the ring and the
 * magazines count themselves.
 *
 * <h2>Design</h2>
 * No counter is written on a hit. A hit from a magazine is counted by the magazine's single-writer
 * {@code hits}; a hit from the ring by the ring's consumer index, less the polls that were not hits, which
 * the pool counts here before it makes them (moves into magazines, drains after close): so {@link #hits}
 * can be low for a moment while a move races it, never high. Misses and frees are counted beside the
 * {@code malloc} and {@code free()} calls they stand for. The counters are fields of this object, reached
 * like the {@code AtomicLong}s they replaced with one load for the books and one for the field.
 *
 * <p>{@code endedHits} and {@code reportedHits}, and the walks over the magazines, are guarded by the pool's
 * lock, as in {@link PlaceLedger}.
 */
final class PoolBooks {

    private static final VarHandle MISSES = FieldHandles.of(MethodHandles.lookup(), "misses", long.class);
    private static final VarHandle FREES = FieldHandles.of(MethodHandles.lookup(), "frees", long.class);
    private static final VarHandle MOVED = FieldHandles.of(MethodHandles.lookup(), "movedToMagazines", long.class);
    private static final VarHandle DRAINED = FieldHandles.of(MethodHandles.lookup(), "drained", long.class);

    private final StripedLongRing ring;
    private final PlaceLedger ledger;
    private volatile long misses;
    private volatile long frees;
    private volatile long movedToMagazines; // ring polls that were not hits
    private volatile long drained;          // ring polls that were not hits either
    private long endedHits;
    private long reportedHits;

    PoolBooks(StripedLongRing ring, PlaceLedger ledger) {
        this.ring = ring;
        this.ledger = ledger;
    }

    /** An allocation called {@code malloc}. */
    void missed() {
        MISSES.getAndAdd(this, 1L);
    }

    /** A deallocation called {@code free()}. */
    void freed() {
        FREES.getAndAdd(this, 1L);
    }

    /** Before ring polls that move blocks into a magazine, or after them a correction of how many did. */
    void movingToMagazine(long blocks) {
        MOVED.getAndAdd(this, blocks);
    }

    /** Before a ring poll that drains a closed pool, or after it -1 when the ring was empty. */
    void draining(long blocks) {
        DRAINED.getAndAdd(this, blocks);
    }

    /** Under the pool's lock: a magazine whose owner ended, whose hits must outlive it. */
    void ended(Magazine magazine) {
        endedHits += magazine.hits;
    }

    /**
     * Under the pool's lock.
     *
     * @return allocations served from the cache, over all threads, live and ended; never less than the last
     *         value returned. The polls that were not hits are read after the ring's count of polls.
     */
    long hits() {
        long polled = ring.polled();
        long hits = endedHits + polled - movedToMagazines - drained;
        for (Magazine magazine : ledger.magazines()) {
            hits += magazine.hitsOpaque();
        }
        reportedHits = Math.max(reportedHits, hits);
        return reportedHits;
    }

    /** @return allocations that called {@code malloc} */
    long misses() {
        return misses;
    }

    /** @return deallocations that called {@code free()} */
    long frees() {
        return frees;
    }

    /** Under the pool's lock: the blocks cached now, in the ring and in magazines; approximate while threads work. */
    int cachedBlocks() {
        int cached = ring.size();
        for (Magazine magazine : ledger.magazines()) {
            cached += magazine.countOpaque();
        }
        return cached;
    }
}
