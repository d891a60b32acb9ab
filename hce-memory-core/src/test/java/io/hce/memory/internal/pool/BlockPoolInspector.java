package io.hce.memory.internal.pool;

import io.hce.memory.internal.concurrent.StripedLongRing;
import io.hce.memory.testing.PrivateFields;

/**
 * What tests see of a {@link BlockPool}'s ledger, and the invariants they check: test code, so that the pool
 * keeps only what it uses itself. The magazines are read through the ledger's set (which the pool walks for
 * its statistics too), the counters no production code reads back by reflection.
 *
 * <p>Every method takes the pool's lock, as the pool does to walk its magazines, and reads their plain
 * fields: call it with no thread using the pool, after the threads that did have been joined.
 */
public final class BlockPoolInspector {

    private BlockPoolInspector() {
    }

    /** @return the places no thread holds */
    public static long freePlaces(BlockPool pool) {
        return PrivateFields.read(ledger(pool), "free", Long.class);
    }

    /** @return the places magazines hold, with a block or empty */
    public static long placesInMagazines(BlockPool pool) {
        synchronized (pool) {
            long places = 0;
            for (Magazine magazine : ledger(pool).magazines()) {
                places += magazine.places;
            }
            return places;
        }
    }

    /** @return the live magazines that have room: those of the first threads, not the placeholders */
    public static int magazinesWithRoom(BlockPool pool) {
        synchronized (pool) {
            return (int) java.util.stream.StreamSupport.stream(ledger(pool).magazines().spliterator(), false)
                    .filter(magazine -> magazine.blocks.length > 0).count();
        }
    }

    /** @return the platform threads that have an entry: a magazine, or the placeholder of one that uses the ring */
    public static int liveMagazines(BlockPool pool) {
        synchronized (pool) {
            return ledger(pool).magazines().size();
        }
    }

    /**
     * @return the places in every spot, which add up to the capacity while the pool is open: free, with a
     *         block in the ring, or held by a magazine. Without magazines the ring's capacity is exact and
     *         the free count must stay untouched: this is that count.
     */
    public static long placesAccountedFor(BlockPool pool) {
        synchronized (pool) {
            long free = freePlaces(pool);
            if (magazineSize(pool) == 0) {
                return free;
            }
            return free + blocksInRing(pool) + placesInMagazines(pool);
        }
    }

    /**
     * Checks what holds whenever no thread is inside the pool.
     *
     * @throws AssertionError naming the first broken invariant
     */
    public static void checkInvariants(BlockPool pool) {
        synchronized (pool) {
            for (Magazine magazine : ledger(pool).magazines()) {
                check(0 <= magazine.count && magazine.count <= magazine.places
                                && magazine.places <= magazine.blocks.length,
                        pool, "a magazine holds " + magazine.count + " blocks in " + magazine.places + " of its "
                                + magazine.blocks.length + " places");
            }
            int counted = PrivateFields.read(ledger(pool), "magazinesWithRoom", Integer.class);
            int maxMagazines = PrivateFields.read(ledger(pool), "maxMagazines", Integer.class);
            check(counted == magazinesWithRoom(pool) && counted <= maxMagazines, pool, "the ledger counts "
                    + counted + " magazines with room (at most " + maxMagazines + "), there are "
                    + magazinesWithRoom(pool));
            if (pool.isClosed()) {
                check(blocksInRing(pool) == 0, pool, "closed, yet " + blocksInRing(pool) + " blocks in the ring");
                return;
            }
            check(pool.cachedBlocks() <= pool.capacity(), pool, pool.cachedBlocks() + " blocks cached");
            check(placesAccountedFor(pool) == pool.capacity(), pool, "the places add up to "
                    + placesAccountedFor(pool) + " (" + freePlaces(pool) + " free, " + blocksInRing(pool)
                    + " with a block in the ring, " + placesInMagazines(pool) + " in magazines)");
        }
    }

    /**
     * Checks that no block the pool handed out is still out: every block {@code malloc}'d is cached or freed.
     * Only while the pool is open: draining a closed pool frees blocks without counting them as frees.
     *
     * @throws AssertionError if some block is out
     */
    public static void checkNothingLive(BlockPool pool) {
        synchronized (pool) {
            long out = pool.misses() - pool.frees() - pool.cachedBlocks();
            check(pool.isClosed() || out == 0, pool, out + " blocks still out");
        }
    }

    /**
     * Drops the pool, as its owner's cleaner does when the owner is unreachable, and checks that every
     * block it caches, in magazines too, is freed and every magazine retired.
     *
     * @throws AssertionError if a block or a magazine is left
     */
    public static void checkDroppingFreesEverything(BlockPool pool) {
        pool.dropped();
        check(pool.cachedBlocks() == 0, pool, "dropped, yet " + pool.cachedBlocks() + " blocks cached");
        check(liveMagazines(pool) == 0, pool, "dropped, yet " + liveMagazines(pool) + " magazines not retired");
    }

    private static int blocksInRing(BlockPool pool) {
        return PrivateFields.read(pool, "ring", StripedLongRing.class).size();
    }

    private static int magazineSize(BlockPool pool) {
        return PrivateFields.read(ledger(pool), "magazineSize", Integer.class);
    }

    private static PlaceLedger ledger(BlockPool pool) {
        return PrivateFields.read(pool, "ledger", PlaceLedger.class);
    }

    private static void check(boolean holds, BlockPool pool, String broken) {
        if (!holds) {
            throw new AssertionError("pool of capacity " + pool.capacity() + ": " + broken);
        }
    }
}
