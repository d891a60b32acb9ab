package io.hce.memory.internal.pool;

import io.hce.memory.internal.concurrent.FieldHandles;
import io.hce.memory.internal.concurrent.LiveStates;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Where a {@link BlockPool}'s places are, but for those that travel with the blocks in its ring: the free
 * places no thread holds, and the magazines that hold the others.
 *
 * <h2>Design</h2>
 * The pool's capacity is a number of places, each in exactly one spot: a live magazine (its
 * {@link Magazine#places}, with a block or empty), the ring (one with each block there), or {@code free}
 * here. {@code free} is a counter in this object itself, not an {@code AtomicLong}, so that the pool reaches
 * it with the one load the {@code AtomicLong} it replaced took: the ledger's reference, then its field.
 * Places leave it by CAS ({@link #take}) and come back by atomic add ({@link #give}); never on a magazine
 * hit, once per half a magazine on the slow paths, once per call for a thread that uses the ring directly.
 *
 * <p>The magazines are registered here as their threads first use the pool ({@link #admit}); only the first
 * {@code maxMagazines} at once get room, so that what magazines hold stays within a quarter of the capacity.
 * The set and {@code magazinesWithRoom} are guarded by the pool's lock: every method of the pool that
 * admits, removes or walks magazines is synchronized on it.
 *
 * <p>Without magazines nothing touches {@code free}: the ring's capacity alone bounds the blocks.
 */
final class PlaceLedger {

    private static final VarHandle FREE = FieldHandles.of(MethodHandles.lookup(), "free", long.class);

    private final int magazineSize; // 0: no magazines
    private final int maxMagazines;
    private final LiveStates<Magazine> magazines = new LiveStates<>();
    private int magazinesWithRoom;
    private volatile long free;

    /**
     * @param capacity     the pool's places, all free at first
     * @param magazineSize 0 for none, or an even number of at least 2
     * @param maxMagazines how many platform threads may have a magazine with room at once
     */
    PlaceLedger(int capacity, int magazineSize, int maxMagazines) {
        this.free = capacity;
        this.magazineSize = magazineSize;
        this.maxMagazines = maxMagazines;
    }

    /** Takes up to {@code wanted} free places; returns how many it took. */
    long take(long wanted) {
        while (true) {
            long places = free;
            if (places == 0 || wanted == 0) {
                return 0;
            }
            long taken = Math.min(places, wanted);
            if (FREE.compareAndSet(this, places, places - taken)) {
                return taken;
            }
        }
    }

    /** Gives back places that no longer hold a block, or that a magazine no longer holds. */
    void give(long places) {
        FREE.getAndAdd(this, places);
    }

    /** Gives back the place taken for a block that was not cached after all; none was taken without magazines. */
    void returnPlace() {
        if (magazineSize != 0) {
            give(1);
        }
    }

    /** Under the pool's lock: a magazine for a thread's first call, with room if fewer than the most have it. */
    Magazine admit(long ownerId) {
        boolean room = magazinesWithRoom < maxMagazines;
        Magazine magazine = new Magazine(ownerId, room ? magazineSize : 0);
        if (room) {
            magazinesWithRoom++;
        }
        magazines.add(magazine);
        return magazine;
    }

    /**
     * Under the pool's lock: unregisters a magazine, leaving its places for the caller to move.
     *
     * @return whether it was live; false if it had been removed already
     */
    boolean remove(Magazine magazine) {
        if (!magazines.remove(magazine)) {
            return false;
        }
        if (magazine.blocks.length > 0) {
            magazinesWithRoom--;
        }
        return true;
    }

    /** Under the pool's lock: the live magazines, with room or the placeholders of threads that use the ring. */
    LiveStates<Magazine> magazines() {
        return magazines;
    }
}
