package io.hce.memory.internal.pool;

import io.hce.memory.internal.concurrent.StripedLongRing;
import io.hce.memory.internal.concurrent.ThreadTable;
import io.hce.memory.internal.events.NativeEvents;
import io.hce.memory.internal.platform.NativeMemory;

import java.lang.invoke.VarHandle;

/**
 * The engine of a {@code PoolAllocator}: blocks of one size and alignment, at most {@code capacity} of
 * them cached, and a hit that touches only the calling thread's memory.
 *
 * <h2>Without magazines</h2>
 * A pool too small to spare room for magazines (see {@link #magazineSize}) keeps its blocks in the ring
 * alone, whose capacity is exact both ways: a CAS on the caller's stripe per allocate, and per deallocate a
 * CAS and the fence that orders it against {@code close()}.
 *
 * <h2>Places</h2>
 * The capacity is a number of <em>places</em>, each room for one cached block. Every place is in exactly
 * one spot at any time:
 * <ul>
 *   <li>in a platform thread's {@link Magazine}, holding a block or empty;</li>
 *   <li>in the shared ring, holding a block;</li>
 *   <li>free, counted by the {@link PlaceLedger}: empty places no thread holds.</li>
 * </ul>
 * So the blocks cached never exceed the capacity, yet no shared counter is on the hot path: a hit pops a
 * block off the caller's magazine (its place stays, now empty), and a deallocation pushes onto an empty
 * place of the caller's magazine. Plain loads and stores, like a thread-cache hit.
 *
 * <h2>Slow paths, each once per half a magazine</h2>
 * <ul>
 *   <li><b>Allocate, magazine empty</b>: give its empty places back to the free ones; move up to half
 *       a magazine of blocks out of the ring, each with its place; if the ring is empty too, {@code malloc}
 *       (a miss).</li>
 *   <li><b>Deallocate, no empty place</b>: if the magazine is full, move its older half to the ring, with
 *       their places; then take up to half a magazine of free places. If there
 *       are none, every place is taken — the pool is full, but for the empty places other magazines hold —
 *       and the block is freed.</li>
 * </ul>
 * Only the first {@code maxMagazines} platform threads to use the pool at once get a magazine (twice the
 * processors), so what magazines hold, empty places included, stays within a quarter of the capacity
 * however many threads there are. Other threads, and every virtual thread (a million of them must not
 * hold a million magazines), use the ring directly, taking a free place or handing it
 * back: two atomics per call instead of none.
 *
 * <p>The price of exactness: empty places that other threads' magazines hold are not lent out, so a
 * deallocation may free a block while up to a quarter fewer than {@code capacity} blocks are cached; never
 * more than {@code capacity}.
 *
 * <h2>Closing</h2>
 * {@link #close()} frees the ring's blocks and the calling thread's magazine at once. Other threads'
 * magazines cannot be touched while their owners may be using them: each owner frees its own at its next
 * call, or it is freed when the owner ends, or when the pool becomes unreachable ({@link #dropped()}),
 * which also ends the watches on the threads that used it, so that live threads do not keep it in memory.
 *
 * <h2>Parts</h2>
 * This class is the hot path and the lifecycle. The {@link PlaceLedger} counts the free places and keeps
 * the magazines; the {@link PoolBooks} count misses and frees and derive the statistics. The fields a hit
 * reads ({@code magazines}, then the magazine; {@code closed} on a deallocation) stay here, and the ledger
 * and the books keep their counters in their own fields, so no path loads more than it did with
 * {@code AtomicLong}s here: the part's reference takes the place of the {@code AtomicLong}'s.
 */
public final class BlockPool {

    /** Empty ring slots read as this; no block is at address 0. */
    private static final long EMPTY = 0;
    /** The largest magazine: 32 addresses fill four cache lines. */
    static final int MAX_MAGAZINE_SIZE = 32;

    private final String name; // for the events of the slow paths
    private final long blockSize;
    private final long blockAlignment;
    private final int capacity;
    private final StripedLongRing ring;
    private final ThreadTable<Magazine> magazines; // null without magazines
    private final PlaceLedger ledger;
    private final PoolBooks books;
    private volatile boolean closed;

    /**
     * @param name           the pool's name, in events
     * @param blockSize      each block's size, at least 1
     * @param blockAlignment each block's alignment, a power of two of at least 16
     * @param capacity       the most blocks cached, at least 1
     */
    public BlockPool(String name, long blockSize, long blockAlignment, int capacity) {
        this(name, blockSize, blockAlignment, capacity,
                magazineSize(capacity, Runtime.getRuntime().availableProcessors()),
                2 * Runtime.getRuntime().availableProcessors());
    }

    /**
     * With magazines of the caller's choosing.
     *
     * @param magazineSize 0 for none, or an even number of at least 2
     * @param maxMagazines how many platform threads may have a magazine at once
     */
    BlockPool(String name, long blockSize, long blockAlignment, int capacity, int magazineSize, int maxMagazines) {
        if (magazineSize < 0 || magazineSize % 2 != 0 || maxMagazines < 0) {
            throw new IllegalArgumentException("magazines of " + magazineSize + " x " + maxMagazines);
        }
        this.name = name;
        this.blockSize = blockSize;
        this.blockAlignment = blockAlignment;
        this.capacity = capacity;
        this.ring = new StripedLongRing(capacity);
        this.ledger = new PlaceLedger(capacity, magazineSize, maxMagazines);
        this.books = new PoolBooks(ring, ledger);
        this.magazines = magazineSize == 0 ? null : new ThreadTable<>(this::newMagazine, this::retire);
    }

    /**
     * Magazines hold at most a quarter of the capacity between twice as many threads as processors (the most
     * that get one), so most places stay free for whichever thread needs them; below two blocks a magazine
     * is not worth having.
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
        return allocateShared();
    }

    /** From the ring directly: a pool without magazines, a virtual thread, or a thread beyond the limit. */
    private long allocateShared() {
        long address = ring.poll(EMPTY);
        if (address == EMPTY) {
            return miss();
        }
        if (magazines != null) {
            ledger.give(1); // the block leaves; its place is nobody's
        }
        return address;
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
            if (closed) {
                closedSeenByCaller(); // given back after close(): freed at once
            }
        } else {
            deallocateShared(address);
        }
    }

    private void deallocateShared(long address) {
        if (magazines == null) {
            if (!ring.offer(address)) {
                freeBlock(0, address); // the pool is full
            }
        } else if (ledger.take(1) == 0) {
            freeBlock(0, address); // the pool is full
        } else if (!ring.offer(address)) {
            freeBlock(1, address); // a ring slot still being released by a poller: rare, and safe
        }
        drainIfClosed();
    }

    /**
     * After an offer to the ring: if the pool was closed meanwhile, the block may be in the drained ring. The
     * fence orders the offer's stores before the read of {@code closed}, as {@code close()} orders its write
     * of {@code closed} before its drain, so one of the two sees the other and the block is freed.
     */
    private void drainIfClosed() {
        VarHandle.fullFence();
        if (closed) {
            closedSeenByCaller();
        }
    }

    private long refill(Magazine magazine) {
        if (magazine.blocks.length == 0) {
            return allocateShared(); // no room for a magazine: a placeholder that sends the thread to the ring
        }
        if (magazine.places > 0) {
            ledger.give(magazine.places); // all empty: give them to whoever needs room
            magazine.places = 0;
        }
        long[] blocks = magazine.blocks;
        int half = blocks.length / 2;
        books.movingToMagazine(half); // before the polls, so that hits() never counts a move as a hit
        int moved = 0;
        for (long address; moved < half && (address = ring.poll(EMPTY)) != EMPTY; ) {
            blocks[moved++] = address;
        }
        if (moved < half) {
            books.movingToMagazine(moved - half);
        }
        if (moved == 0) {
            return miss();
        }
        magazine.places = moved;
        magazine.count = moved - 1;
        magazine.hits++;
        return blocks[moved - 1];
    }

    private void makeRoomAndPush(Magazine magazine, long address) {
        long[] blocks = magazine.blocks;
        if (blocks.length == 0) {
            deallocateShared(address);
            return;
        }
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
            drainIfClosed();
            count = magazine.count; // a drain after close() has emptied the magazine
        }
        int taken = (int) ledger.take(Math.min(blocks.length / 2, blocks.length - magazine.places));
        if (taken == 0) {
            freeBlock(0, address); // the pool is full, but for empty places other magazines may hold
            return;
        }
        magazine.places += taken;
        blocks[count] = address;
        magazine.count = count + 1;
    }

    /** Frees a block that has no place, handing back the {@code placesTaken} for it; counted as a free. */
    private void freeBlock(long placesTaken, long address) {
        if (placesTaken > 0) {
            ledger.give(placesTaken);
        }
        NativeMemory.free(address, blockSize);
        books.freed();
    }

    private long miss() {
        long address = NativeMemory.allocate(blockSize, blockAlignment);
        books.missed();
        NativeEvents.poolMissed(name, blockSize);
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
        try {
            while (added < count && (magazines == null || ledger.take(1) == 1)) {
                long address;
                try {
                    address = NativeMemory.allocate(blockSize, blockAlignment);
                    NativeEvents.tookNativeMemory("pool", name, blockSize);
                } catch (OutOfMemoryError e) {
                    ledger.returnPlace();
                    throw e;
                }
                if (!ring.offer(address)) {
                    NativeMemory.free(address, blockSize);
                    ledger.returnPlace();
                    break;
                }
                added++;
            }
        } finally {
            drainIfClosed();
        }
        return added;
    }

    /** @return whether {@link #close()} or {@link #dropped()} has run */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Called by a thread that found the pool closed: frees what the ring holds and its own magazine's blocks.
     * Locked, as {@link #dropped()} is: a closed pool is off every fast path.
     */
    public synchronized void closedSeenByCaller() {
        drainRing();
        Magazine own = magazines == null ? null : magazines.peek();
        if (own != null) {
            drainMagazine(own);
        }
    }

    /**
     * Closes the pool: frees the ring's blocks and the caller's magazine; later deallocations free their
     * block, and each thread frees its magazine at its next call or its end.
     */
    public synchronized void close() {
        closed = true;
        VarHandle.fullFence(); // see drainIfClosed()
        closedSeenByCaller();
    }

    /**
     * The pool is unreachable, so no operation of it can be running: frees everything, every magazine too.
     */
    public synchronized void dropped() {
        closed = true;
        drainRing();
        // each is retired now (its blocks are freed: closed), and its thread's watch lets go of this pool; one
        // whose watch was not set yet is retired here, freed all the same
        for (Magazine magazine : ledger.magazines().endAll()) {
            retire(magazine);
        }
    }

    private void drainRing() {
        while (true) {
            books.draining(1); // before the poll, as refill() counts its moves
            long address = ring.poll(EMPTY);
            if (address == EMPTY) {
                books.draining(-1);
                return;
            }
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
        return ledger.admit(ownerId);
    }

    /** The owner has ended: its blocks go to the ring with their places (or are freed), its counts stay. */
    private synchronized void retire(Magazine magazine) {
        if (!ledger.remove(magazine)) {
            return;
        }
        books.ended(magazine);
        int moved = 0;
        while (!closed && moved < magazine.count && ring.offer(magazine.blocks[moved])) {
            moved++;
        }
        for (int i = moved; i < magazine.count; i++) {
            NativeMemory.free(magazine.blocks[i], blockSize); // closed, or a ring slot still being released
            if (!closed) {
                books.freed();
            }
        }
        ledger.give(magazine.places - moved);
        magazine.count = 0;
        magazine.places = 0;
    }

    /**
     * @return allocations served from the cache, over all threads, live and ended; never less than the
     *         last value returned, and low for a moment at most while a move races it
     */
    public synchronized long hits() {
        return books.hits();
    }

    /** @return allocations that called {@code malloc} */
    public long misses() {
        return books.misses();
    }

    /** @return deallocations that called {@code free()} */
    public long frees() {
        return books.frees();
    }

    /** @return the blocks cached now, in the ring and in magazines; approximate while threads work */
    public synchronized int cachedBlocks() {
        return books.cachedBlocks();
    }

    /** @return the most blocks cached */
    public int capacity() {
        return capacity;
    }
}
