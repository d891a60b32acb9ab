package io.hce.memory.internal.pool;

import io.hce.memory.internal.concurrent.StripedLongRing;
import io.hce.memory.internal.concurrent.ThreadTable;
import io.hce.memory.internal.platform.NativeMemory;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine of a {@code PoolAllocator}: blocks of one size and alignment, at most {@code capacity} of
 * them cached, and a hit that touches only the calling thread's memory.
 *
 * <h2>Places</h2>
 * The capacity is a number of <em>places</em>, each room for one cached block. Every place is in exactly
 * one spot at any time:
 * <ul>
 *   <li>in a platform thread's {@link Magazine}, holding a block or empty;</li>
 *   <li>in the shared ring, holding a block;</li>
 *   <li>in {@code freePlaces}, a count of empty places no thread holds.</li>
 * </ul>
 * So the blocks cached never exceed the capacity, yet no shared counter is on the hot path: a hit pops a
 * block off the caller's magazine (its place stays, now empty), and a deallocation pushes onto an empty
 * place of the caller's magazine. Plain loads and stores, like a thread-cache hit.
 *
 * <h2>Slow paths, each once per half a magazine</h2>
 * <ul>
 *   <li><b>Allocate, magazine empty</b>: give its empty places back to {@code freePlaces}; move up to half
 *       a magazine of blocks out of the ring, each with its place; if the ring is empty too, {@code malloc}
 *       (a miss).</li>
 *   <li><b>Deallocate, no empty place</b>: if the magazine is full, move its older half to the ring, with
 *       their places; then take empty places from {@code freePlaces}. If there are none, every place is
 *       taken — the pool is full — and the block is freed.</li>
 * </ul>
 * A virtual thread has no magazine (a million of them must not hold a million): it polls and offers the
 * ring directly, handing the place back to {@code freePlaces} or taking one from it.
 *
 * <p>The price of exactness: empty places that other threads' magazines hold (half a magazine each, or a
 * whole one at most) are not available to a thread that finds {@code freePlaces} at zero, so a deallocation
 * may free a block while fewer than {@code capacity} blocks are cached; never the other way. Pools too
 * small to spare that have no magazines: every thread uses the ring, which is exact both ways.
 *
 * <h2>Closing</h2>
 * {@link #close()} frees the ring's blocks and the calling thread's magazine at once. Other threads'
 * magazines cannot be touched while their owners may be using them: each owner frees its own at its next
 * call, or it is freed when the owner ends, or when the pool becomes unreachable ({@link #dropped()}).
 */
public final class BlockPool {

    /** Empty ring slots read as this; no block is at address 0. */
    private static final long EMPTY = 0;
    /** The largest magazine: 32 addresses fill four cache lines. */
    static final int MAX_MAGAZINE_SIZE = 32;

    private final long blockSize;
    private final long blockAlignment;
    private final int capacity;
    private final int magazineSize; // 0: no magazines
    private final StripedLongRing ring;
    private final AtomicLong freePlaces;
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong frees = new AtomicLong();
    private final AtomicLong movedToMagazines = new AtomicLong(); // ring polls that were not hits
    private final AtomicLong drained = new AtomicLong();          // ring polls that were not hits either
    private final ThreadTable<Magazine> magazines;                // null without magazines
    private final Set<Magazine> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private long endedHits;
    private volatile boolean closed;

    /**
     * @param blockSize      each block's size, at least 1
     * @param blockAlignment each block's alignment, a power of two of at least 16
     * @param capacity       the most blocks cached, at least 1
     */
    public BlockPool(long blockSize, long blockAlignment, int capacity) {
        this(blockSize, blockAlignment, capacity, magazineSize(capacity, Runtime.getRuntime().availableProcessors()));
    }

    /** With a magazine size of the caller's choosing: 0, or an even number of at least 2. */
    BlockPool(long blockSize, long blockAlignment, int capacity, int magazineSize) {
        this.blockSize = blockSize;
        this.blockAlignment = blockAlignment;
        this.capacity = capacity;
        this.ring = new StripedLongRing(capacity);
        this.freePlaces = new AtomicLong(capacity);
        this.magazineSize = magazineSize;
        this.magazines = magazineSize == 0 ? null : new ThreadTable<>(this::newMagazine, this::retire);
    }

    /**
     * Magazines hold at most a quarter of the capacity between twice as many threads as processors, so most
     * places stay free for whichever thread needs them; below two blocks a magazine is not worth having.
     */
    static int magazineSize(int capacity, int processors) {
        int size = Math.min(MAX_MAGAZINE_SIZE, capacity / (8 * processors)) & ~1; // even: two halves
        return size < 2 ? 0 : size;
    }

    /**
     * @return the address of a cached block, or of a new one from {@code malloc}
     * @throws OutOfMemoryError if {@code malloc} fails
     */
    public long allocate() {
        Magazine magazine = magazines == null ? null : magazines.get();
        if (magazine != null) {
            int count = magazine.count - 1;
            if (count >= 0) {
                magazine.count = count;
                magazine.hits++;
                return magazine.blocks[count];
            }
            return refill(magazine);
        }
        long address = ring.poll(EMPTY);
        if (address != EMPTY) {
            freePlaces.incrementAndGet(); // the block leaves; its place is nobody's
            return address;
        }
        return miss();
    }

    /**
     * Caches a block, or frees it when the pool is full or closed.
     *
     * @param address a block of this pool's size and alignment
     */
    public void deallocate(long address) {
        Magazine magazine = magazines == null ? null : magazines.get();
        if (magazine != null) {
            int count = magazine.count;
            if (count < magazine.places) {
                magazine.blocks[count] = address;
                magazine.count = count + 1;
            } else {
                makeRoomAndPush(magazine, address);
            }
        } else if (takePlaces(1) == 0) {
            freeBlock(0, address); // the pool is full
        } else if (!ring.offer(address)) {
            freeBlock(1, address); // a ring slot still being released by a poller: rare, and safe
        }
        if (closed) {
            drainAfterClose(magazine);
        }
    }

    private long refill(Magazine magazine) {
        if (magazine.places > 0) {
            freePlaces.addAndGet(magazine.places); // all empty: give them to whoever needs room
            magazine.places = 0;
        }
        int moved = 0;
        long[] blocks = magazine.blocks;
        for (long address; moved < blocks.length / 2 && (address = ring.poll(EMPTY)) != EMPTY; ) {
            blocks[moved++] = address;
        }
        if (moved == 0) {
            return miss();
        }
        movedToMagazines.addAndGet(moved);
        magazine.places = moved;
        magazine.count = moved - 1;
        magazine.hits++;
        return blocks[moved - 1];
    }

    private void makeRoomAndPush(Magazine magazine, long address) {
        long[] blocks = magazine.blocks;
        int count = magazine.count;
        if (count == blocks.length) {
            // Full: the older half goes to the ring with its places, for other threads to take.
            int half = blocks.length / 2;
            int moved = 0;
            while (moved < half && ring.offer(blocks[moved])) {
                moved++;
            }
            System.arraycopy(blocks, moved, blocks, 0, count - moved);
            count -= moved;
            magazine.count = count;
            magazine.places -= moved;
        }
        int taken = (int) takePlaces(blocks.length - magazine.places);
        if (taken == 0) {
            freeBlock(0, address); // the pool is full
            return;
        }
        magazine.places += taken;
        blocks[count] = address;
        magazine.count = count + 1;
    }

    /** Takes up to {@code wanted} places from {@code freePlaces}; returns how many it took. */
    private long takePlaces(long wanted) {
        while (true) {
            long free = freePlaces.get();
            if (free == 0 || wanted == 0) {
                return 0;
            }
            long taken = Math.min(free, wanted);
            if (freePlaces.compareAndSet(free, free - taken)) {
                return taken;
            }
        }
    }

    /** Frees a block that has no place, handing {@code places} back; counted as a free. */
    private void freeBlock(long places, long address) {
        if (places > 0) {
            freePlaces.addAndGet(places);
        }
        NativeMemory.free(address, blockSize);
        frees.incrementAndGet();
    }

    private long miss() {
        long address = NativeMemory.allocate(blockSize, blockAlignment);
        misses.incrementAndGet();
        return address;
    }

    /**
     * Fills the ring with new blocks, as far as there are free places.
     *
     * @param count the most blocks to add
     * @return how many were added
     * @throws OutOfMemoryError if {@code malloc} fails; the blocks added so far stay
     */
    public int preallocate(int count) {
        int added = 0;
        while (added < count && takePlaces(1) == 1) {
            long address;
            try {
                address = NativeMemory.allocate(blockSize, blockAlignment);
            } catch (OutOfMemoryError e) {
                freePlaces.incrementAndGet();
                throw e;
            }
            if (!ring.offer(address)) {
                NativeMemory.free(address, blockSize);
                freePlaces.incrementAndGet();
                break;
            }
            added++;
        }
        if (closed) {
            drainRing();
        }
        return added;
    }

    /** @return whether {@link #close()} or {@link #dropped()} has run */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Called by an owner that found the pool closed: frees the blocks its magazine holds.
     */
    public void closedSeenByCaller() {
        drainAfterClose(magazines == null ? null : magazines.peek());
    }

    /**
     * Closes the pool: frees the ring's blocks and the caller's magazine; later deallocations free their
     * block, and each thread frees its magazine at its next call or its end.
     */
    public synchronized void close() {
        closed = true;
        drainRing();
        if (magazines != null) {
            Magazine own = magazines.peek();
            if (own != null) {
                drainMagazine(own);
            }
        }
    }

    /**
     * The pool is unreachable, so no operation of it can be running: frees everything, every magazine too.
     */
    public synchronized void dropped() {
        closed = true;
        drainRing();
        for (Magazine magazine : live) {
            drainMagazine(magazine);
        }
    }

    private void drainAfterClose(Magazine magazine) {
        drainRing();
        if (magazine != null) {
            drainMagazine(magazine);
        }
    }

    private void drainRing() {
        for (long address; (address = ring.poll(EMPTY)) != EMPTY; ) {
            drained.incrementAndGet();
            NativeMemory.free(address, blockSize);
        }
    }

    /** Frees a magazine's blocks; by its owner, or by the pool when the owner cannot be running. */
    private void drainMagazine(Magazine magazine) {
        for (int i = magazine.count - 1; i >= 0; i--) {
            NativeMemory.free(magazine.blocks[i], blockSize);
            magazine.count = i;
        }
    }

    private synchronized Magazine newMagazine(long ownerId) {
        Magazine magazine = new Magazine(ownerId, magazineSize);
        live.add(magazine);
        return magazine;
    }

    /** The owner has ended: its blocks go to the ring with their places (or are freed), its counts stay. */
    private synchronized void retire(Magazine magazine) {
        if (!live.remove(magazine)) {
            return;
        }
        endedHits += magazine.hits;
        int moved = 0;
        while (!closed && moved < magazine.count && ring.offer(magazine.blocks[moved])) {
            moved++;
        }
        for (int i = moved; i < magazine.count; i++) {
            NativeMemory.free(magazine.blocks[i], blockSize); // closed, or a ring slot still being released
        }
        freePlaces.addAndGet(magazine.places - moved);
        magazine.count = 0;
        magazine.places = 0;
    }

    /** @return allocations served from the cache, over all threads, live and ended */
    public synchronized long hits() {
        long hits = endedHits + ring.polled() - movedToMagazines.get() - drained.get();
        for (Magazine magazine : live) {
            hits += magazine.hitsOpaque();
        }
        return hits;
    }

    /** @return allocations that called {@code malloc} */
    public long misses() {
        return misses.get();
    }

    /** @return deallocations that called {@code free()} */
    public long frees() {
        return frees.get();
    }

    /** @return the blocks cached now, in the ring and in magazines; approximate while threads work */
    public synchronized int cachedBlocks() {
        int cached = ring.size();
        for (Magazine magazine : live) {
            cached += magazine.countOpaque();
        }
        return cached;
    }

    /**
     * For tests, with no thread working: the places in every spot, which must add up to the capacity.
     */
    synchronized long placesAccountedFor() {
        long places = freePlaces.get() + ring.size();
        for (Magazine magazine : live) {
            places += magazine.places;
        }
        return places;
    }

    /** @return how many threads have a magazine now; threads that ended leave once they are collected */
    public synchronized int liveMagazines() {
        return live.size();
    }

    /** @return the most blocks cached */
    public int capacity() {
        return capacity;
    }

    /** @return the size of the magazine each platform thread keeps; 0 when threads use the ring alone */
    public int magazineSize() {
        return magazineSize;
    }
}
