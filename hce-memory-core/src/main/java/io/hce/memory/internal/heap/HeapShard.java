package io.hce.memory.internal.heap;

import io.hce.memory.internal.concurrent.FieldHandles;
import io.hce.memory.internal.platform.NativeMemory;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

import static io.hce.memory.internal.heap.BlockLayout.BORDER_SIZE;
import static io.hce.memory.internal.heap.BlockLayout.GRANULE;
import static io.hce.memory.internal.heap.BlockLayout.GRANULE_SHIFT;
import static io.hce.memory.internal.heap.BlockLayout.HEADER_LENGTH;
import static io.hce.memory.internal.heap.BlockLayout.LEFT_OFFSET_OFFSET;
import static io.hce.memory.internal.heap.BlockLayout.MIN_BLOCK_SIZE;
import static io.hce.memory.internal.heap.BlockLayout.NEXT_OFFSET;
import static io.hce.memory.internal.heap.BlockLayout.NO_BLOCK;
import static io.hce.memory.internal.heap.BlockLayout.PREVIOUS_OFFSET;
import static io.hce.memory.internal.heap.BlockLayout.SIZE_AND_USED_OFFSET;
import static io.hce.memory.internal.heap.BlockLayout.SIZE_MASK;
import static io.hce.memory.internal.heap.BlockLayout.STATE_OFFSET;
import static io.hce.memory.internal.heap.BlockLayout.USED_FLAG;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * One shard of a {@link ShardedHeap}: Cachelot's memalloc over a part of the region, with its own lock,
 * size-class index, quick lists, bitmaps and eviction hand.
 *
 * <h2>Layout</h2>
 * {@code [border | one free block | border]} at first, blocks per {@link BlockLayout}. Offsets are relative
 * to the shard; a shard is at most {@link BlockLayout#MAX_SHARD_BYTES}, so sizes and left offsets fit their
 * 31 and 32 bits.
 *
 * <h2>Allocate</h2>
 * The request plus header, rounded to a granule, is the block size {@code b}. A kept block of {@code b}'s
 * class that fits is taken first ({@link QuickLists}: one bitmap scan). Then the head of {@code b}'s own
 * class is tried first (a cache's values of one size reuse each other's blocks: one compare, no walk);
 * otherwise {@link SizeClassIndex} finds the first non-empty class whose blocks all fit (two bit scans).
 * Only if both fail is the own class's list walked for a block that fits behind its head: the bounded
 * search that makes the heap never fail while a free block fits, paid only on the path that would
 * otherwise fail or evict; the frontier (below) is tried before that walk. The block is split when the rest
 * can be a block. A new block gets the next stamp and is unreferenced.
 *
 * <h2>Free</h2>
 * A freed block below 16 KiB is kept whole on a quick list (deferred coalescing, as glibc's fast bins), where
 * the next request that fits takes it back; a shard keeps one per 2 KiB (at least 4096). Kept blocks are
 * merged a step of {@value #FLUSH_STEP} at a time when a request finds no free block in any shard of the heap
 * (so its pause is bounded by what it needs merged), all of them before an eviction sweep and for statistics,
 * and one when a resize grows into it. Any other block is merged at once with a free left neighbour
 * (through its left offset) and a free right one (through its size); the absorbed headers' start bits are
 * cleared. Two free blocks are never adjacent.
 *
 * <h2>The frontier</h2>
 * The free block that an eviction sweep's victims merge into is the frontier, kept out of the free lists after
 * the sweep too; a request that neither a quick list, its class's head nor a larger class serves is carved off
 * the frontier's start (before its own class is walked) and goes behind the hand. So in a full cache the hand,
 * the free space and the new blocks stay together: each put takes the free space the last one left, and the
 * next victims lie right of it and merge into it, touching lines in address order. In a list, the frontier
 * would move to another class's list with almost every victim (a class spans 1/32 of its sizes), writing list
 * neighbours' headers anywhere in the shard, and each sweep's leftover would be carved later, at random, by
 * requests it happened to fit. The left offset right of the frontier is written when the frontier ends, not
 * with each victim and carve ({@link #leftOf}). A block merged next to the frontier (freed and not kept, or
 * flushed from a quick list) merges into it.
 *
 * <h2>Owned blocks touch no header</h2>
 * In a heap larger than the CPU caches, a block's header is a cache miss (glibc's chunk header is too). A
 * block handed out as an address or a segment (owned) is therefore freed and handed out again without its
 * header: the owned bitmap says that a live owned block starts there (the double-free check), the
 * block-start bitmap gives its size (where the next block starts), and its quick list says its size. Its
 * header keeps the owned state it had, which no handle can name. Only the dense bitmaps and a Java array are
 * touched: at 1 GiB the common free and allocation of an address miss nowhere, where glibc's free misses on
 * the chunk's header and its malloc on the tcache entry's link. A shard of a heap of at most 4 MiB
 * ({@link #CACHED_HEADERS_BYTES}) reads a freed block's size from its header all the same: the whole heap's
 * headers are cache hits, and one read is cheaper than a scan of the block-start bitmap (BENCHMARKS.md,
 * round 8). The heap's size decides, not the shard's: the shards of a larger heap are as cold as it is.
 *
 * <h2>Concurrency</h2>
 * Everything but the state word is guarded by the shard's lock, a test-and-set lock that records its
 * holder (so a callback that calls back into its own shard is refused, not deadlocked). The state word is
 * changed without the lock, by compare-and-set ({@link #pin}, {@link #unpin}, {@link #free}, {@link #read}'s
 * reference bit), and whoever makes a block {@linkplain BlockState#isReleasable releasable} takes the lock
 * and releases it. The rules are written once, in the package documentation.
 *
 * <h2>Raw bitmap accesses</h2>
 * Under the lock, the bitmaps (and, in a small heap, an owned block's size) are read and written by address
 * through {@link #RAW}, the whole address space as a constant segment: no scope to check, and no bounds either
 * at an address passed through {@code NativeMemory.inAddressSpace}, so each access is a single load or store.
 * Through the shard's own segments each access also checked the region's scope and the segment's bounds and
 * alignment; each check compiles to a branch and a deoptimisation stub, and the fast paths grew too large for
 * HotSpot to inline them into their callers (BENCHMARKS.md, rounds 5, 7 and 8). The region is live while a
 * lock granted by {@link #lock} or {@link #tryLock} is held: {@code close} takes every lock and marks every
 * shard closed before it frees the region, and a lock taken after that is given back at once with an
 * {@code IllegalStateException}. A request that its hints pass by every shard takes no lock and touches no
 * memory of the region. The holder's {@link #unlock} keeps the shard, and so the region's scope, reachable
 * until its last access. Accesses without the lock (reference bits set by readers, the start and owned bits
 * that a block's owner reads) go through the scoped segments, which refuse them once the region is closed.
 */
final class HeapShard {

    /** The first block after the left border. */
    static final long FIRST_BLOCK = BORDER_SIZE;

    private static final VarHandle STATE = JAVA_LONG.varHandle();
    private static final VarHandle WORD = JAVA_INT.varHandle();
    private static final VarHandle BITS = JAVA_LONG.varHandle();
    private static final VarHandle HOLDER = FieldHandles.of(MethodHandles.lookup(), "holder", long.class);
    /** {@link #holder}'s value when no thread holds the lock (thread ids are positive, and never reused). */
    private static final long FREE = 0;
    private static final VarHandle SWEEPING = FieldHandles.of(MethodHandles.lookup(), "sweeping", boolean.class);
    private static final VarHandle FRONTIER_BYTES = FieldHandles.of(MethodHandles.lookup(), "frontierBytes", long.class);
    private static final byte POISON = (byte) 0xDB;
    private static final long PARK_NANOS = 20_000;
    /**
     * The heap whose eviction callback the thread is running, if any: checked only before waiting for a lock, so
     * that a callback never waits for another shard of its own heap (two such callbacks could wait for each other).
     */
    private static final ThreadLocal<Object> IN_CALLBACK = new ThreadLocal<>();
    /** What the holder of the lock reads and writes the bitmaps through, by address (see "Raw bitmap accesses"). */
    private static final MemorySegment RAW = NativeMemory.addressSpace();
    /** Quick blocks a shard keeps at least (its limit is otherwise one per 2 KiB of shard). */
    private static final int QUICK_FLOOR = 4096;
    /** Quick blocks merged back per step when a request finds no free block. */
    private static final int FLUSH_STEP = 512;
    /** A quick entry's flag: the block's header still holds an owned block's state, so it can be handed out as one. */
    private static final long HEADER_OWNED = QuickLists.FLAG;
    /**
     * The shards of heaps up to this size read an owned block's size from its header when freeing it: the heap's
     * headers stay in the CPU caches, and one read there is cheaper than a scan of the block-start bitmap.
     */
    private static final long CACHED_HEADERS_BYTES = 4 << 20;
    /** Bitmap words scanned for the next block start before the size is read from the header instead. */
    private static final int SIZE_SCAN_WORDS = 16;

    private final int index;
    private final MemorySegment memory;
    private final MemorySegment starts;
    private final MemorySegment refs;
    private final MemorySegment owned;
    /** The shard's and its bitmaps' addresses, for {@link #RAW} accesses under the lock. */
    private final long memoryAddress;
    private final long startsAddress;
    private final long refsAddress;
    private final long ownedAddress;
    /** Whether an owned block's size is read from its header, not the block-start bitmap (see {@link #ownedSize}). */
    private final boolean headersCached;
    /** The words of each bitmap: what a scan by address must stay within. */
    private final long bitmapWords;
    private final long byteSize;
    private final long rightBorder;
    private final boolean poison;
    private final SizeClassIndex classes = new SizeClassIndex();
    private final EvictionPolicy policy = EvictionPolicy.standard();
    private final Watcher watcher; // checked mode only
    private final long regionOffset;
    private final ShardedHeap heap; // the shards of one heap share it: who is in whose callback, the closed refusal

    /**
     * Blocks freed and kept whole for the next request that fits (deferred coalescing). A quick block stays
     * marked used and counts as free. A block freed by handle has state 0 (no stamp, so no handle names it); an
     * owned block keeps its stale owned state, which no handle can name either ({@link #HEADER_OWNED} in its
     * entry), and its owned bit is clear. No request fails or evicts while a quick block is left (see the class
     * documentation for when they are merged).
     */
    private final QuickLists quick;

    /** {@link #frontier}'s value when there is none. */
    private static final long NO_FRONTIER = -1;
    /** Whether an eviction sweep runs ({@link #beginSweep}); read without the lock by {@link #mightFit}, a hint. */
    private boolean sweeping;
    /**
     * The free block the last eviction sweep left the hand in, kept out of the free lists; or {@link #NO_FRONTIER}.
     * Victims merge into it and requests are carved off its start (see the class documentation). A sweep that
     * fails leaves the hand elsewhere; the next carve off the frontier brings it back.
     */
    private long frontier = NO_FRONTIER;
    /** The frontier's size, 0 without one; read without the lock by {@link #mightFit}, a hint. */
    private long frontierBytes;

    /**
     * The holder's {@linkplain Thread#threadId() thread id}, or {@link #FREE}: a {@code long}, not the
     * {@code Thread}, so that taking and giving back the lock store no reference (no GC write barriers).
     */
    @SuppressWarnings("unused") // through HOLDER
    private volatile long holder;

    /** Set under the lock before the region is freed: no lock is granted afterwards ({@link #lock}, {@link #tryLock}). */
    private boolean closed;

    // guarded by the lock; read by statistics under it
    private int lastStamp;
    /**
     * The bytes and the number of the blocks marked used: live blocks and kept ones, which a push onto or a pop
     * off a quick list leaves as they are (the quick lists count their own, and {@link #usedBytes} subtracts them).
     */
    private long heldBytes;
    private long heldBlocks;
    private long allocations;
    private long frees;
    private long evictions;

    /**
     * Lays the shard out in {@code memory}.
     *
     * @param heap   what the shards of one heap share, to tell its callbacks from other heaps
     * @param index  the shard's number in its heap, as handles carry it
     * @param regionOffset where the shard starts in the region
     * @param memory the shard's bytes, 16-byte aligned, at most {@link BlockLayout#MAX_SHARD_BYTES}
     * @param starts its block-start bitmap, {@link BlockLayout#bitmapBytesFor} bytes, zeroed here
     * @param refs   its reference bitmap (CLOCK's bits, by block start), as large, zeroed here
     * @param owned  its owned bitmap (set at the start of each live owned block), as large, zeroed here
     * @param watcher checked mode: told of every block handed out and ended, and freed memory is poisoned and
     *                checked when handed out again; null otherwise
     * @param heapBytes the bytes of all the heap's shards: whether a freed block's size is read from its header
     *                  ({@link #CACHED_HEADERS_BYTES})
     * @throws IllegalArgumentException if the memory or a bitmap is not native, or not below 2<sup>56</sup>
     *                                  (where accesses by address are masked, see {@code NativeMemory.inAddressSpace})
     */
    HeapShard(ShardedHeap heap, int index, long regionOffset, MemorySegment memory, MemorySegment starts,
              MemorySegment refs, MemorySegment owned, Watcher watcher, long heapBytes) {
        this.heap = heap;
        this.index = index;
        this.refs = refs;
        this.owned = owned;
        for (MemorySegment part : new MemorySegment[] {memory, starts, refs, owned}) {
            if (!part.isNative() || !NativeMemory.isInAddressSpace(part)) {
                throw new IllegalArgumentException("a shard's memory and bitmaps must be native, below 2^56 (pointers"
                        + " tagged in the top byte, as AArch64's memory tagging does, are not): " + part);
            }
        }
        this.memoryAddress = memory.address();
        this.startsAddress = starts.address();
        this.refsAddress = refs.address();
        this.ownedAddress = owned.address();
        this.bitmapWords = starts.byteSize() >>> 3;
        this.regionOffset = regionOffset;
        this.watcher = watcher;
        boolean poison = watcher != null;
        this.memory = memory;
        this.starts = starts;
        this.byteSize = memory.byteSize();
        this.headersCached = heapBytes <= CACHED_HEADERS_BYTES;
        this.rightBorder = byteSize - BORDER_SIZE;
        this.poison = poison;
        this.quick = new QuickLists((int) Math.max(QUICK_FLOOR, byteSize >>> 11));
        starts.fill((byte) 0);
        refs.fill((byte) 0);
        owned.fill((byte) 0);
        if (poison) {
            memory.fill(POISON);
        }
        long blockSize = byteSize - 2L * BORDER_SIZE;
        writeBorder(0, 0);
        writeHeader(FIRST_BLOCK, blockSize, false, BORDER_SIZE);
        writeBorder(rightBorder, blockSize);
        markStart(0);
        markStart(FIRST_BLOCK);
        markStart(rightBorder);
        insertFree(FIRST_BLOCK, blockSize);
    }

    /** @return the largest payload a shard of {@code shardBytes} can ever hand out */
    static long maxPayloadFor(long shardBytes) {
        return (shardBytes & -GRANULE) - 2L * BORDER_SIZE - HEADER_LENGTH;
    }

    /** @return the block size that holds {@code byteSize} bytes of payload */
    static long blockSizeFor(long byteSize) {
        return Math.max(MIN_BLOCK_SIZE, (byteSize + HEADER_LENGTH + GRANULE - 1) & -GRANULE);
    }

    int index() {
        return index;
    }

    long byteSize() {
        return byteSize;
    }

    // ---- the lock -----------------------------------------------------------------------------------------

    /**
     * Takes the lock if no thread holds it.
     *
     * @throws IllegalStateException if the heap is closed
     */
    boolean tryLock() {
        if (holder == FREE && HOLDER.compareAndSet(this, FREE, Thread.currentThread().threadId())) {
            checkNotClosed();
            return true;
        }
        return false;
    }

    /**
     * Takes the lock, spinning briefly and then yielding (a holder runs a bounded amount of work, but may
     * be descheduled).
     *
     * @throws IllegalStateException if the calling thread holds it (an eviction callback called back in), or the
     *                               heap is closed
     */
    void lock() {
        lockEvenIfClosed();
        checkNotClosed();
    }

    /** As {@link #lock}, also when the heap is closed: for {@code ShardedHeap.lockAll} (close, verify). */
    void lockEvenIfClosed() {
        long me = Thread.currentThread().threadId();
        if (HOLDER.compareAndSet(this, FREE, me)) {
            return;
        }
        checkNotHolder();
        if (IN_CALLBACK.get() == heap) { // waiting for one shard while holding another could deadlock
            throw new IllegalStateException("an eviction callback must not call back into its heap");
        }
        for (int spins = 0; !(holder == FREE && HOLDER.compareAndSet(this, FREE, me)); spins++) {
            if (spins < 64) {
                Thread.onSpinWait();
            } else if (spins < 128) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(PARK_NANOS); // a holder that is descheduled, or in a slow callback
            }
        }
    }

    void unlock() {
        HOLDER.setRelease(this, FREE);
    }

    /** Under the lock, before the region is freed: no lock is granted afterwards, so no raw access follows. */
    void markClosed() {
        closed = true;
    }

    /** Just after the lock is taken: a closed shard's lock is given back at once, and the request refused. */
    private void checkNotClosed() {
        if (closed) {
            unlock();
            throw heap.closedException();
        }
    }

    /** @throws IllegalStateException if the calling thread holds the lock: an eviction callback called back in */
    void checkNotHolder() {
        if (holder == Thread.currentThread().threadId()) {
            throw new IllegalStateException("an eviction callback must not call back into its heap");
        }
    }

    // ---- under the lock -----------------------------------------------------------------------------------

    /**
     * @param blockSize a size from {@link #blockSizeFor}
     * @param pins      the pins the new block starts with (the caller's)
     * @return the new block's handle, or 0 when no free block fits, kept blocks merged
     */
    long allocate(long blockSize, long pins) {
        return allocate(blockSize, pins, true);
    }

    /**
     * As {@link #allocate(long, long)}; without {@code merge}, no kept block is merged, so 0 may mean only that
     * none fits as it is (see {@code ShardedHeap}'s good fit).
     */
    long allocate(long blockSize, long pins, boolean merge) {
        long entry = quick.pop(blockSize); // empty lists find nothing in a word or two of their bitmap
        if (entry >= 0) {
            long block = QuickLists.block(entry);
            if (pins == 0 && (entry & HEADER_OWNED) != 0 && watcher == null) {
                return handOutOwnedAgain(block);
            }
            long handle = handOut(block, pins);
            return watcher == null ? handle : watched(handle, pins);
        }
        long block = merge ? findFreeOrFlush(blockSize) : findFree(blockSize);
        if (block < 0) {
            return 0;
        }
        long handle = take(block, blockSize, pins);
        return watcher == null ? handle : watched(handle, pins);
    }

    /**
     * Checked mode, under the lock: the memory of a block just handed out must hold the poison, else it was
     * written after it was freed; then the block is undone and the write reported.
     */
    private long watched(long handle, long pins) {
        long block = BlockState.blockOf(handle);
        long end = block + sizeAt(block);
        long damaged = firstUnpoisoned(block + HEADER_LENGTH, end);
        if (damaged >= 0) {
            repoison(block + HEADER_LENGTH, end);
            allocations--;
            clearOwned(block);
            release(block);
            throw watcher.writeAfterFree(regionOffset + damaged);
        }
        watcher.handedOut(handle, regionOffset + block, end - block - HEADER_LENGTH, pins == 0);
        return handle;
    }

    /** As {@link #allocate}, evicting what the policy chooses when nothing fits. */
    long allocateOrEvict(long blockSize, long pins, VictimSink sink, Object listener) {
        long handle = allocate(blockSize, pins);
        if (handle != 0) {
            return handle;
        }
        long taken;
        flushQuick(); // the sweep must meet no kept block (one may read as a live owned block): none are left here
        beginSweep();
        try {
            long block = policy.makeRoom(this, blockSize, sink, listener); // allocate has flushed the quick lists
            if (block < 0) {
                return 0;
            }
            taken = take(block, blockSize, pins);
        } finally {
            endSweep();
        }
        return watcher == null ? taken : watched(taken, pins);
    }

    /**
     * Gives a releasable block back to the free lists, merging it with its free neighbours.
     *
     * @return the header offset of the free block it became part of
     */
    long release(long block) {
        STATE.setRelease(memory, block + STATE_OFFSET, 0L); // readers fail from here on, before any byte changes
        VarHandle.storeStoreFence(); // ...on weakly ordered processors too: the poison and links come after
        long size = sizeAt(block);
        heldBytes -= size;
        heldBlocks--;
        if (poison) {
            memory.asSlice(block + HEADER_LENGTH, size - HEADER_LENGTH).fill(POISON);
        }
        return coalesce(block, size, leftOf(block), true);
    }

    /**
     * Merges a block being freed (state and books done) with its free neighbours and files the result. An owned
     * neighbour is used, so its header is not read.
     *
     * @param left       the block's left neighbour
     * @param clearState whether a header merged away gets state 0 (and the poison); an owned victim's need not
     * @return the free block it became part of
     */
    private long coalesce(long block, long size, long left, boolean clearState) {
        long right = block + size;
        long start = block;
        long total = size;
        boolean atFrontier = false;
        if (!isOwned(right) && !isUsed(right)) {
            long rightSize = sizeAt(right);
            atFrontier = unlist(right, rightSize);
            absorb(right);
            total += rightSize;
        }
        if (!isOwned(left) && !isUsed(left)) {
            long leftSize = sizeAt(left);
            if (clearState) {
                absorb(block);
            } else {
                clearStart(block);
            }
            if (!sweeping && !atFrontier && left != frontier
                    && SizeClassIndex.classOf(leftSize + total) == SizeClassIndex.classOf(leftSize)) {
                setSize(left, leftSize + total, false); // grows within its class: its list place holds
                setLeftOffset(left + leftSize + total, leftSize + total);
                return left;
            }
            atFrontier |= unlist(left, leftSize);
            start = left;
            total += leftSize;
        }
        setSize(start, total, false);
        file(start, total, atFrontier);
        return start;
    }

    /** Starts an eviction sweep: from here on, the free block that a victim merges into becomes the frontier. */
    private void beginSweep() {
        SWEEPING.setOpaque(this, true);
    }

    private void endSweep() {
        SWEEPING.setOpaque(this, false);
    }

    /**
     * Takes a free block out of its list, or out of the frontier. A frontier taken out keeps its size published
     * to {@link #mightFit} until it is filed again, grown ({@link #file}), or ended ({@link #endFrontier}), so
     * that a shard is not passed by for want of its frontier while that merges with a neighbour.
     *
     * @return whether it was the frontier
     */
    private boolean unlist(long block, long size) {
        if (block == frontier) {
            frontier = NO_FRONTIER;
            return true;
        }
        removeFree(block, size);
        return false;
    }

    /**
     * Files a free block just merged or split off, whose size is written: as the frontier if it took in the
     * frontier or a sweep made it (the frontier before it, if any, going into its list), else in its list. Writes
     * the left offset of the block right of it, unless it is the frontier (see {@link #leftOf}).
     */
    private void file(long block, long size, boolean tookInFrontier) {
        if (!tookInFrontier && !sweeping) {
            setLeftOffset(block + size, size);
            insertFree(block, size);
            return;
        }
        if (frontier != NO_FRONTIER) {
            setLeftOffset(frontier + frontierBytes, frontierBytes);
            insertFree(frontier, frontierBytes);
        }
        setFrontier(block, size);
    }

    private void setFrontier(long block, long size) {
        frontier = block;
        FRONTIER_BYTES.setOpaque(this, size);
    }

    /** The frontier, taken out by {@link #unlist}, is handed out whole: the left offset right of it is written. */
    private void endFrontier(long block, long size) {
        setLeftOffset(block + size, size);
        setFrontier(NO_FRONTIER, 0);
    }

    /**
     * Frees an owned live block (no pins: nobody else has its stamp), counting it as a free. The state is
     * cleared with a release store before the header is reused, so a racing compare-and-set fails.
     */
    void releaseOwned(long block) {
        clearOwned(block);
        if (watcher != null) {
            watcher.ended(BlockState.handle(BlockState.stamp(stateAt(block)), index, block), regionOffset + block, false);
        }
        STATE.setRelease(memory, block + STATE_OFFSET, 0L);
        releaseFreed(block, false);
    }

    /**
     * Releases a block freed through {@link #free}, {@link #unpin} or {@link #releaseOwned}, counting it as a
     * free: onto its quick list when there is room, else merged at once.
     */
    void releaseFreed(long block) {
        releaseFreed(block, true);
    }

    private void releaseFreed(long block, boolean clearState) {
        frees++;
        long size = sizeAt(block);
        if (keeps(size)) {
            if (clearState) {
                STATE.setRelease(memory, block + STATE_OFFSET, 0L);
            }
            VarHandle.storeStoreFence(); // the cleared state is seen before the poison
            if (poison) {
                memory.asSlice(block + HEADER_LENGTH, size - HEADER_LENGTH).fill(POISON);
            }
            keep(block, size, 0);
            return;
        }
        release(block);
    }

    /**
     * Frees a live owned block, if the owned bitmap says one starts at {@code block}, without writing its header:
     * its size comes from the block-start bitmap (or, in a heap whose headers stay cached, from its header; see
     * {@link #ownedSize}), and it goes onto its quick list as it is (or is merged when the lists are full). Exact
     * under the lock: owned bits change only under it.
     *
     * @param byteSize the bytes the caller says it holds (a segment's size), which must fit
     * @return false, with nothing changed, if no live owned block of that size starts there, or in checked mode
     *         (whose books need the header): the caller then takes the path that checks and explains
     */
    boolean freeOwned(long block, long byteSize) {
        long word = wordOf(block);
        long bit = bitOf(block);
        long bits = bitsAt(ownedAddress + word); // exact: owned bits change only under the lock
        if (watcher != null || (bits & bit) == 0) {
            return false;
        }
        long size = ownedSize(block);
        if (byteSize > size - HEADER_LENGTH) {
            return false;
        }
        setBitsAt(ownedAddress + word, bits & ~bit); // isOwned and clearOwned in one load
        frees++;
        if (keeps(size)) {
            keep(block, size, HEADER_OWNED);
        } else {
            release(block);
        }
        return true;
    }

    /** Whether a freed block of {@code size} is kept whole: below 16 KiB, while the lists have room. */
    private boolean keeps(long size) {
        return QuickLists.holds(size) && quick.hasRoom();
    }

    /** Puts a freed block on its quick list: it counts as free from here on (the lists count it). */
    private void keep(long block, long size, long flag) {
        quick.push(block, size, flag);
    }

    /** Merges every quick block back into the free lists. */
    void flushQuick() {
        flushQuick(Integer.MAX_VALUE);
    }

    /** Merges up to {@code atMost} quick blocks back into the free lists, the largest first. */
    private void flushQuick(int atMost) {
        if (quick.blocks() == 0) {
            return; // a full cache's puts, every one
        }
        for (long entry; atMost > 0 && (entry = quick.popLargest()) >= 0; atMost--) {
            release(QuickLists.block(entry)); // held, as kept blocks are, until released
        }
    }

    /** Takes the block at {@code block} off its quick list and merges it, if it is a quick block. */
    private void mergeIfQuick(long block) {
        if (block >= rightBorder || isOwned(block)) {
            return;
        }
        long state = stateAt(block);
        if (state != 0 && (state & BlockState.OWNED) == 0) {
            return; // a handle's block, live or waiting for its pins: only kept blocks have state 0 or a stale owned one
        }
        long size = sizeAt(block);
        if (quick.remove(block, size)) {
            release(block);
        }
    }

    /**
     * Finds a free block, merging quick blocks back a step at a time while none fits: the pause of a request
     * that finds nothing is bounded by what it needs merged, not by how many blocks wait on quick lists.
     */
    private long findFreeOrFlush(long blockSize) {
        long block = findFree(blockSize);
        while (block < 0 && quick.blocks() != 0) {
            flushQuick(FLUSH_STEP);
            block = findFree(blockSize);
        }
        return block;
    }

    /**
     * Evicts a live unpinned block: claims it, tells the sink, and releases it.
     *
     * @param state the state the caller read, live with no pins
     * @return the free block it merged into, or -1 if the state has changed since (pinned, touched, freed)
     */
    long evict(long block, long state, VictimSink sink, Object listener) {
        STATE.setRelease(memory, block + STATE_OFFSET, (state & ~BlockState.LIVE) | BlockState.EVICTING);
        long handle = BlockState.handle(BlockState.stamp(state), index, block);
        try {
            tell(sink, listener, handle, block, sizeAt(block));
        } catch (Throwable t) {
            STATE.setVolatile(memory, block + STATE_OFFSET, state); // nobody else changes an evicting block
            throw t;
        }
        clearOwned(block);
        if (watcher != null) {
            watcher.ended(handle, regionOffset + block, true);
        }
        evictions++;
        return release(block);
    }

    /**
     * Evicts a live owned block that the owned bitmap found, reading no header: its size comes from the
     * block-start bitmap, and whether its neighbours are free from the owned bitmap (an owned block is used)
     * or from the frontier. An eviction sweep walks the shard in address order, so each header it
     * read would be the next cache miss, waited for in turn; stores to headers are not waited for. Its state
     * is not marked evicting: no handle names an owned block, and its owner, to free it, waits for the lock.
     * In checked mode the watched path is taken ({@link #evict}).
     *
     * @param size its size, {@link #sizeByStarts}
     * @return the free block it merged into
     */
    long evictOwned(long block, long size, VictimSink sink, Object listener) {
        if (watcher != null) {
            return evict(block, stateAt(block), sink, listener);
        }
        tell(sink, listener, BlockState.handle(0, index, block), block, size); // nothing changed if it throws
        clearOwned(block);
        evictions++;
        // The victim's state is left as it is: no handle names an owned block, and its header, once merged away,
        // loses its start bit, or, kept as the free block's header, its used flag; either makes handles refuse it.
        // So a victim merged into the frontier costs no store to its header at all.
        heldBytes -= size;
        heldBlocks--;
        return coalesce(block, size, leftNeighbour(block), false);
    }

    /** Runs an eviction callback, marking the thread as inside one of this heap's. */
    private void tell(VictimSink sink, Object listener, long handle, long block, long size) {
        Object outer = IN_CALLBACK.get(); // a callback of another heap, if this eviction runs inside one
        IN_CALLBACK.set(heap);
        try {
            sink.evicted(listener, handle, memory.address() + block + HEADER_LENGTH, size - HEADER_LENGTH);
        } finally {
            IN_CALLBACK.set(outer);
        }
    }

    /**
     * @return the block left of {@code block}, without reading its header if it can: the frontier, or from the
     *         block-start bitmap within {@link #SIZE_SCAN_WORDS} words, else from the left offset
     */
    private long leftNeighbour(long block) {
        if (isRightOfFrontier(block)) {
            return frontier;
        }
        long left = startAtOrBefore(block - GRANULE, SIZE_SCAN_WORDS);
        return left >= 0 ? left : block - leftOffsetAt(block);
    }

    /**
     * @return the block left of {@code block}, from its left offset. The one exception to "a block's left offset
     *         is its left neighbour's size": right of the frontier it is written only when the frontier ends (it
     *         would be a store to a line the sweep does not otherwise touch, with every victim and every carve),
     *         so there the frontier is the answer.
     */
    private long leftOf(long block) {
        return isRightOfFrontier(block) ? frontier : block - leftOffsetAt(block);
    }

    private boolean isRightOfFrontier(long block) {
        return frontier != NO_FRONTIER && frontier + frontierBytes == block;
    }

    /**
     * Resizes a used block in place: shrinks it by splitting, or grows it into a free right neighbour.
     *
     * @return whether the block now has room for {@code newBlockSize}; unchanged when false
     */
    boolean tryResize(long block, long newBlockSize) {
        long size = sizeAt(block);
        if (newBlockSize <= size) {
            if (size - newBlockSize >= MIN_BLOCK_SIZE) {
                setSize(block, newBlockSize, true);
                heldBytes -= size - newBlockSize;
                long tail = block + newBlockSize;
                writeHeader(tail, size - newBlockSize, false, newBlockSize);
                markStart(tail);
                mergeWithFreeRight(tail, size - newBlockSize); // writes the left offset right of the tail
            }
            return true;
        }
        long right = block + size;
        if (isUsed(right) && quick.blocks() != 0) {
            mergeIfQuick(right); // the right neighbour may be a quick block
        }
        if (isUsed(right) || size + sizeAt(right) < newBlockSize) {
            return false;
        }
        long rightSize = sizeAt(right);
        boolean atFrontier = unlist(right, rightSize);
        absorb(right);
        long total = size + rightSize;
        long rest = total - newBlockSize;
        long grown = rest >= MIN_BLOCK_SIZE ? newBlockSize : total;
        setSize(block, grown, true);
        heldBytes += grown - size;
        if (grown < total) {
            long tail = block + grown;
            writeHeader(tail, rest, false, grown);
            markStart(tail);
            file(tail, rest, atFrontier);
        } else if (atFrontier) {
            endFrontier(block, total);
        } else {
            setLeftOffset(block + total, total);
        }
        return true;
    }

    private void mergeWithFreeRight(long block, long size) {
        long right = block + size;
        boolean atFrontier = false;
        if (!isUsed(right)) {
            long rightSize = sizeAt(right);
            atFrontier = unlist(right, rightSize);
            absorb(right);
            size += rightSize;
            setSize(block, size, false);
        }
        if (poison) {
            memory.asSlice(block + HEADER_LENGTH, size - HEADER_LENGTH).fill(POISON);
        }
        file(block, size, atFrontier);
    }

    /** @return the first byte offset in {@code [from, to)} of the shard that does not hold the poison, or -1 */
    long firstUnpoisoned(long from, long to) {
        for (long offset = from; offset < to; offset++) {
            if (memory.get(JAVA_BYTE, offset) != POISON) {
                return offset;
            }
        }
        return -1;
    }

    /** Fills {@code [from, to)} with the poison again, after a damaged range was reported. */
    void repoison(long from, long to) {
        memory.asSlice(from, to - from).fill(POISON);
    }

    long usedBytes() {
        return heldBytes - quick.bytes();
    }

    long freeBytes() {
        return rightBorder - FIRST_BLOCK - usedBytes();
    }

    long allocations() {
        return allocations;
    }

    long frees() {
        return frees;
    }

    long evictions() {
        return evictions;
    }

    /**
     * @return the payload of the largest free block, 0 when there is none: the largest request that fits without
     *         eviction, so the quick blocks are merged first (at most one per 2 KiB of shard, or 4096)
     */
    long largestFreePayload() {
        flushQuick();
        long largest = frontier == NO_FRONTIER ? 0 : frontierBytes;
        int sizeClass = classes.highestNonEmptyClass();
        for (int granule = sizeClass < 0 ? NO_BLOCK : classes.head(sizeClass); granule != NO_BLOCK;
             granule = nextAt(offsetOf(granule))) {
            largest = Math.max(largest, sizeAt(offsetOf(granule)));
        }
        return largest == 0 ? 0 : largest - HEADER_LENGTH;
    }

    // ---- without the lock ---------------------------------------------------------------------------------

    /**
     * A hint, read without the lock: whether some free block might hold {@code blockSize}. False means that
     * none did at some moment during the call.
     */
    boolean mightFit(long blockSize) {
        return quick.blocks() != 0 || mightFitAsIs(blockSize); // kept blocks may merge into room
    }

    /**
     * A hint, read without the lock, as {@link #mightFit}: whether a free block, or a kept block of the
     * request's class, might hold {@code blockSize} with no kept block merged.
     */
    boolean mightFitAsIs(long blockSize) {
        if (quick.mightPop(blockSize) // first: a kept block of the request's size is the common hit
                || (boolean) SWEEPING.getOpaque(this) || (long) FRONTIER_BYTES.getOpaque(this) >= blockSize) {
            return true; // the frontier is in no list, and a sweep changes it
        }
        int sizeClass = classes.highestNonEmptyClass();
        return sizeClass >= 0 && SizeClassIndex.largestSizeIn(sizeClass) >= blockSize
                || sizeClass < -1; // a torn read of the two bitmap levels: do not rule the shard out
    }

    /**
     * @return the state of the block at {@code block} if it is the allocation {@code stamp} names, else 0
     */
    long validState(long block, int stamp) {
        if (block < FIRST_BLOCK || block >= rightBorder || !isStart(block)
                || ((int) WORD.getAcquire(memory, block + SIZE_AND_USED_OFFSET) & USED_FLAG) == 0) {
            return 0;
        }
        long state = (long) STATE.getVolatile(memory, block + STATE_OFFSET);
        return BlockState.stamp(state) == stamp ? state : 0;
    }

    /**
     * Under the lock: @return the state of the block at {@code block} if it is the allocation {@code stamp}
     * names and was handed out as a handle, else 0. Exact: nothing changes a header without the lock.
     */
    private long handleState(long block, int stamp) {
        long state = validState(block, stamp);
        return (state & BlockState.OWNED) == 0 ? state : 0;
    }

    /** @return true if the block was live and is now pinned once more */
    boolean pin(long block, int stamp) {
        lock();
        try {
            long state = handleState(block, stamp);
            if (!BlockState.isLive(state)) {
                return false;
            }
            if (BlockState.pins(state) == BlockState.MAX_PINS) {
                throw new IllegalStateException("a block can be pinned at most " + BlockState.MAX_PINS + " times at once");
            }
            STATE.setRelease(memory, block + STATE_OFFSET, state + BlockState.ONE_PIN);
            markReferenced(block);
            return true;
        } finally {
            unlock();
        }
    }

    /**
     * Drops a pin; the last pin of a freed block releases it.
     *
     * @return false if the block has no pins or is not the allocation {@code stamp} names (nothing changed)
     */
    boolean unpin(long block, int stamp) {
        lock();
        try {
            long state = handleState(block, stamp);
            if (state == 0 || BlockState.pins(state) == 0) {
                return false;
            }
            long next = state - BlockState.ONE_PIN;
            STATE.setRelease(memory, block + STATE_OFFSET, next);
            if (BlockState.isReleasable(next)) {
                releaseFreed(block);
            }
            return true;
        } finally {
            unlock();
        }
    }

    /**
     * Frees a live block: at once if it has no pins, else when its last pin is dropped.
     *
     * @return false if the block is not live under that stamp (freed or evicted already): nothing changed
     */
    boolean free(long block, int stamp) {
        lock();
        try {
            long state = handleState(block, stamp);
            if (!BlockState.isLive(state)) {
                return false;
            }
            long next = state & ~BlockState.LIVE;
            STATE.setRelease(memory, block + STATE_OFFSET, next);
            if (watcher != null) {
                watcher.ended(BlockState.handle(stamp, index, block), regionOffset + block, false);
            }
            if (BlockState.isReleasable(next)) {
                releaseFreed(block);
            }
            return true;
        } finally {
            unlock();
        }
    }

    /** Sets the block's referenced bit, if it is live. Lock-free. @return whether it is live */
    boolean touch(long block, int stamp) {
        if (!BlockState.isLive(validState(block, stamp))) {
            return false;
        }
        markReferenced(block);
        return true;
    }

    /**
     * Sets the reference bit of the block starting at {@code block}, without the lock, and only if it is clear
     * (a hot block's bit stays set, and its bitmap line shared). A racing update of the same bitmap word may
     * lose a bit or keep one the hand just cleared: either costs CLOCK a little accuracy, never memory safety,
     * since the bitmap holds nothing else.
     */
    void markReferenced(long block) {
        long word = wordOf(block);
        long bit = bitOf(block);
        long bits = (long) BITS.getOpaque(refs, word);
        if ((bits & bit) == 0) {
            BITS.setOpaque(refs, word, bits | bit);
        }
    }

    /** @return whether the block's reference bit is set */
    boolean isReferenced(long block) {
        return ((long) BITS.getOpaque(refs, wordOf(block)) & bitOf(block)) != 0;
    }

    /** Clears the block's reference bit (the eviction hand, or a new block). */
    void clearReferenced(long block) {
        long address = NativeMemory.inAddressSpace(refsAddress + wordOf(block));
        long bit = bitOf(block);
        long bits = (long) BITS.getOpaque(RAW, address); // opaque: readers set bits in this word without the lock
        if ((bits & bit) != 0) {
            BITS.setOpaque(RAW, address, bits & ~bit);
        }
    }

    /**
     * Copies bytes out of a block without a lock or a pin, and checks afterwards that the block was that
     * allocation all along: an optimistic read, as {@code StampedLock.tryOptimisticRead} and
     * {@code validate}. Marks the block referenced.
     *
     * @return false if the block is not (or stopped being, during the copy) the allocation {@code stamp}
     *         names; {@code dst} may then hold anything in the copied range
     * @throws IndexOutOfBoundsException if the range is not inside the block's payload
     */
    boolean read(long block, int stamp, long offset, MemorySegment dst, long dstOffset, long length) {
        long state = validState(block, stamp);
        if (!BlockState.isReadable(state)) {
            return false;
        }
        long capacity = Math.min(sizeAt(block), rightBorder - block) - HEADER_LENGTH; // bounded even if torn
        if (offset < 0 || length < 0 || offset > capacity - length) {
            if (!BlockState.isReadable(validState(block, stamp))) {
                return false;
            }
            throw new IndexOutOfBoundsException("bytes " + offset + " to " + (offset + length)
                    + " are not inside the block's " + capacity + "-byte payload");
        }
        MemorySegment.copy(memory, block + HEADER_LENGTH + offset, dst, dstOffset, length);
        VarHandle.loadLoadFence();
        if (!BlockState.isReadable(validState(block, stamp))) {
            return false;
        }
        markReferenced(block);
        return true;
    }

    /** @return the payload capacity of the block, which the caller knows to be live */
    long payloadCapacity(long block) {
        return sizeAt(block) - HEADER_LENGTH;
    }

    // ---- for eviction policies (under the lock) -----------------------------------------------------------

    long rightBorder() {
        return rightBorder;
    }

    long sizeAt(long block) {
        return memory.get(JAVA_INT, block + SIZE_AND_USED_OFFSET) & SIZE_MASK;
    }

    /** @return the block's first word: its size, and the used flag as the sign bit */
    int sizeAndUsedAt(long block) {
        return memory.get(JAVA_INT, block + SIZE_AND_USED_OFFSET);
    }

    boolean isUsed(long block) {
        return (memory.get(JAVA_INT, block + SIZE_AND_USED_OFFSET) & USED_FLAG) != 0;
    }

    long stateAt(long block) {
        return (long) STATE.getVolatile(memory, block + STATE_OFFSET);
    }

    /**
     * @return the first block starting at or after {@code offset} (the right border at the latest)
     * @throws IllegalStateException if the bitmap has no start there up to its end: the right border's bit, which
     *                               ends every scan, was overwritten (a write past a block's end, say)
     */
    long blockAtOrAfter(long offset) {
        long wordsLeft = Math.max(0, bitmapWords - 1 - (offset >>> GRANULE_SHIFT >>> 6)); // past offset's own word
        long block = startAtOrAfter(offset, (int) wordsLeft);
        if (block < 0) {
            throw new IllegalStateException("no block starts at or after offset " + offset
                    + ": the block-start bitmap was overwritten");
        }
        return block;
    }

    /** @return the start of the block that contains {@code offset} (scans the bitmap leftwards) */
    long blockContaining(long offset) {
        return startAtOrBefore(offset, Integer.MAX_VALUE); // the left border's bit ends the scan
    }

    /**
     * @return the first block start at or after {@code offset}, looking at most {@code words} bitmap words past
     *         {@code offset}'s own; -1 if there is none that near
     */
    private long startAtOrAfter(long offset, int words) {
        long granule = offset >>> GRANULE_SHIFT;
        long word = granule >>> 6;
        long bits = bitsAt(startsAddress + (word << 3)) & (-1L << (granule & 63));
        for (int scanned = 0; bits == 0; scanned++) {
            if (scanned == words) {
                return -1;
            }
            bits = bitsAt(startsAddress + (++word << 3));
        }
        return ((word << 6) + Long.numberOfTrailingZeros(bits)) << GRANULE_SHIFT;
    }

    /** @return as {@link #startAtOrAfter}, leftwards: the last block start at or before {@code offset} */
    private long startAtOrBefore(long offset, int words) {
        long granule = offset >>> GRANULE_SHIFT;
        long word = granule >>> 6;
        long bits = starts.get(JAVA_LONG, word << 3) & (-1L >>> (63 - (granule & 63)));
        for (int scanned = 0; bits == 0; scanned++) {
            if (scanned == words) {
                return -1;
            }
            bits = starts.get(JAVA_LONG, --word << 3);
        }
        return ((word << 6) + 63 - Long.numberOfLeadingZeros(bits)) << GRANULE_SHIFT;
    }

    boolean isStart(long block) {
        return ((long) BITS.getAcquire(starts, wordOf(block)) & bitOf(block)) != 0;
    }

    // ---- verification -------------------------------------------------------------------------------------

    /**
     * Walks the shard and every list, checking every invariant. Under the lock.
     *
     * @return null when all hold, else the first broken one
     */
    String verify() {
        if (sizeAt(0) != BORDER_SIZE || !isUsed(0) || sizeAt(rightBorder) != BORDER_SIZE || !isUsed(rightBorder)
                || !isStart(0) || !isStart(rightBorder)) {
            return "border blocks damaged";
        }
        if (sweeping) {
            return "an eviction sweep's state was left behind";
        }
        boolean frontierIsFree = frontier == NO_FRONTIER ? frontierBytes == 0
                : isStart(frontier) && !isUsed(frontier) && sizeAt(frontier) == frontierBytes;
        if (!frontierIsFree) {
            return "frontier at " + frontier + " (" + frontierBytes + " bytes) is not that free block";
        }
        String quickLists = quick.check();
        if (quickLists != null) {
            return quickLists;
        }
        java.util.Set<Long> quickListed = new java.util.HashSet<>();
        String[] broken = new String[1];
        quick.forEach(entry -> {
            long block = QuickLists.block(entry);
            long state = stateAt(block);
            boolean ownedHeader = (entry & HEADER_OWNED) != 0;
            if (broken[0] != null) {
                return;
            }
            if (!quickListed.add(block) || QuickLists.size(entry) != sizeAt(block) || !isStart(block) || !isUsed(block)) {
                broken[0] = "quick block at " + block + ": listed twice, not a used block, or listed with the wrong size";
            } else if (isOwned(block) || (ownedHeader ? !BlockState.isLive(state) || (state & BlockState.OWNED) == 0
                    || BlockState.pins(state) != 0 || (state & BlockState.EVICTING) != 0 : state != 0)) {
                broken[0] = "quick block at " + block + ": owned bit set, or state " + Long.toHexString(state)
                        + " does not match its entry";
            }
        });
        if (broken[0] != null) {
            return broken[0];
        }
        long quickWalked = 0;
        long walkedUsed = 0;
        long walkedFree = 0;
        long usedCount = 0;
        long ownedCount = 0;
        long freeCount = 0;
        long previousSize = BORDER_SIZE;
        boolean previousFree = false;
        long block = FIRST_BLOCK;
        while (block < rightBorder) {
            long size = sizeAt(block);
            String where = "block at " + block + " (size " + size + ")";
            if (size < MIN_BLOCK_SIZE || (size & (GRANULE - 1)) != 0 || block + size > rightBorder) {
                return where + ": bad size";
            }
            if (block - leftOf(block) != previousSize) {
                return where + ": left offset " + (block - leftOf(block)) + " != left neighbour's size " + previousSize;
            }
            if (!isStart(block) || blockAtOrAfter(block + GRANULE) != block + size) {
                return where + ": block-start bitmap disagrees with the chain of blocks";
            }
            boolean free = !isUsed(block);
            if (free && previousFree) {
                return where + ": two adjacent free blocks";
            }
            if (free) {
                walkedFree += size;
                freeCount++;
            } else if (quickListed.remove(block)) {
                walkedFree += size;
                quickWalked++;
            } else {
                long state = stateAt(block);
                if (state == 0) {
                    return where + ": used block with no stamp, not in a quick list";
                }
                if ((state & BlockState.EVICTING) != 0 || BlockState.isReleasable(state)) {
                    return where + ": used block in state " + Long.toHexString(state);
                }
                boolean ownedState = (state & BlockState.OWNED) != 0;
                if (isOwned(block) != ownedState) {
                    return where + ": owned bit " + isOwned(block) + " for a block in state " + Long.toHexString(state);
                }
                ownedCount += ownedState ? 1 : 0;
                walkedUsed += size;
                usedCount++;
            }
            previousSize = size;
            previousFree = free;
            block += size;
        }
        if (rightBorder - leftOf(rightBorder) != previousSize) {
            return "right border's left offset " + (rightBorder - leftOf(rightBorder)) + " != " + previousSize;
        }
        if (!quickListed.isEmpty()) {
            return "quick lists hold blocks that are not in the chain: " + quickListed;
        }
        long ownedBits = 0;
        for (long word = 0; word < owned.byteSize(); word += 8) {
            ownedBits += Long.bitCount(owned.get(JAVA_LONG, word));
        }
        if (ownedBits != ownedCount) {
            return "owned bitmap has " + ownedBits + " bits for " + ownedCount + " owned blocks";
        }
        if (walkedUsed != usedBytes() || walkedFree != freeBytes() || usedCount != heldBlocks - quick.blocks()) {
            return "accounting: walked " + walkedUsed + " used / " + walkedFree + " free bytes in " + usedCount
                    + " used blocks, books say " + usedBytes() + " / " + freeBytes() + " in " + (heldBlocks - quick.blocks());
        }
        return verifyFreeLists(frontier == NO_FRONTIER ? freeCount : freeCount - 1);
    }

    private String verifyFreeLists(long freeCount) {
        long listed = 0;
        for (int sizeClass = 0; sizeClass < SizeClassIndex.classCount(); sizeClass++) {
            int head = classes.head(sizeClass);
            if ((head != NO_BLOCK) != classes.isMarkedNonEmpty(sizeClass)) {
                return "class " + sizeClass + ": bitmap says " + classes.isMarkedNonEmpty(sizeClass) + ", list head " + head;
            }
            int previous = NO_BLOCK;
            for (int granule = head; granule != NO_BLOCK; granule = nextAt(offsetOf(granule))) {
                long block = offsetOf(granule);
                if (isUsed(block) || block == frontier || SizeClassIndex.classOf(sizeAt(block)) != sizeClass
                        || previousAt(block) != previous) {
                    return "class " + sizeClass + ": block at " + block + " is used, the frontier, misfiled or mislinked";
                }
                if (++listed > freeCount) {
                    return "free lists hold more blocks than the shard (a cycle?)";
                }
                previous = granule;
            }
        }
        if (classes.hasStrayFirstLevelBit()) {
            return "first-level bitmap disagrees with the second-level bitmaps";
        }
        return listed == freeCount ? null : "free lists hold " + listed + " blocks, the shard " + freeCount;
    }

    // ---- allocation internals -----------------------------------------------------------------------------

    private long findFree(long size) {
        int head = classes.head(SizeClassIndex.classOf(size));
        if (head != NO_BLOCK && sizeAt(offsetOf(head)) >= size) {
            return offsetOf(head);
        }
        int sizeClass = classes.findClassAtLeast(size);
        if (sizeClass >= 0) {
            return offsetOf(classes.head(sizeClass));
        }
        if (frontier != NO_FRONTIER && frontierBytes >= size) {
            return frontier;
        }
        for (int granule = head; granule != NO_BLOCK; granule = nextAt(offsetOf(granule))) {
            if (sizeAt(offsetOf(granule)) >= size) {
                return offsetOf(granule);
            }
        }
        return -1;
    }

    /**
     * Takes {@code blockSize} bytes of a free block. A block taken at the eviction hand (off the frontier, or
     * where a sweep made room) goes behind the hand, so that it gets a whole turn.
     */
    private long take(long block, long blockSize, long pins) {
        boolean atHand = sweeping || block == frontier;
        long handle = carve(block, blockSize, pins);
        if (atHand) {
            policy.allocatedAt(BlockState.blockOf(handle), blockSize);
        }
        return handle;
    }

    /**
     * Carves {@code blockSize} bytes off a free block. Off a listed free block's end, so the rest keeps its header
     * and, when its class is unchanged (a large block's class spans 1/32 of its sizes), its place in its list:
     * carving a large free block touches two headers and no list neighbour. Off the frontier's start: see
     * {@link #carveFrontier}.
     */
    private long carve(long block, long blockSize, long pins) {
        long size = sizeAt(block);
        long rest = size - blockSize;
        if (rest < MIN_BLOCK_SIZE) {
            if (unlist(block, size)) {
                endFrontier(block, size);
            }
            return handOutUsed(block, size, pins);
        }
        if (block == frontier) {
            return carveFrontier(block, size, blockSize, pins);
        }
        if (SizeClassIndex.classOf(rest) != SizeClassIndex.classOf(size)) {
            removeFree(block, size);
            setSize(block, rest, false);
            insertFree(block, rest);
        } else {
            setSize(block, rest, false);
        }
        long carved = block + rest;
        setLeftOffset(carved, rest);
        long handle = handOutUsed(carved, blockSize, pins);
        setLeftOffset(carved + blockSize, blockSize);
        markStart(carved); // the stamp, then the header, then the start bit (rule 2)
        return handle;
    }

    /**
     * Takes {@code blockSize} bytes off the frontier's start: the rest stays the frontier, where the eviction
     * hand goes on (the new block behind it gets a whole turn), and its next victims merge into it. The new
     * block's header is the frontier's, a line the sweep has just touched.
     */
    private long carveFrontier(long block, long size, long blockSize, long pins) {
        long rest = size - blockSize;
        long tail = block + blockSize;
        writeHeader(tail, rest, false, blockSize); // the header, then the start bit (rule 2)
        markStart(tail); // the left offset right of the frontier can wait (see leftOf)
        setFrontier(tail, rest);
        return handOutUsed(block, blockSize, pins);
    }

    /** Hands out the block at {@code block}, of {@code size}: its stamp, then its used flag (rule 2), and the books. */
    private long handOutUsed(long block, long size, long pins) {
        long handle = handOut(block, pins);
        WORD.setRelease(memory, block + SIZE_AND_USED_OFFSET, (int) size | USED_FLAG);
        heldBytes += size;
        heldBlocks++;
        return handle;
    }

    /**
     * Gives a block being handed out (from the free lists or a quick list) a new stamp and its first pins; with
     * none, it is owned, and its owned bit is set.
     */
    private long handOut(long block, long pins) {
        clearReferenced(block);
        int stamp = nextStamp();
        STATE.setRelease(memory, block + STATE_OFFSET, BlockState.live(stamp, pins));
        VarHandle.storeStoreFence(); // the new stamp is seen before the new owner's payload (optimistic reads)
        if (pins == 0) {
            markOwned(block);
        }
        allocations++;
        return BlockState.handle(stamp, index, block);
    }

    /**
     * Hands a quick block whose header still holds an owned state out as an owned block again, without
     * touching the header: that state names nothing a caller's handle could (an owned block's stamp reaches a
     * caller only as an eviction victim's, and the victim's state is cleared before any reuse).
     *
     * @return its handle, with stamp 0: an owned block's handle says only where it is
     */
    private long handOutOwnedAgain(long block) {
        clearReferenced(block);
        markOwned(block);
        allocations++;
        return BlockState.handle(0, index, block);
    }

    private int nextStamp() {
        int stamp = ++lastStamp;
        if (stamp == 0) {
            stamp = ++lastStamp;
        }
        return stamp;
    }

    /** A header swallowed by a merge: no longer a block start, and poisoned like the rest of a free block. */
    private void absorb(long block) {
        clearStart(block);
        STATE.setRelease(memory, block + STATE_OFFSET, 0L); // no stamp may linger in a header that is gone
        VarHandle.storeStoreFence();
        if (poison) {
            memory.asSlice(block, HEADER_LENGTH).fill(POISON);
        }
    }

    private void insertFree(long block, long size) {
        int sizeClass = SizeClassIndex.classOf(size);
        int head = classes.head(sizeClass);
        setPrevious(block, NO_BLOCK);
        setNext(block, head);
        if (head != NO_BLOCK) {
            setPrevious(offsetOf(head), granuleOf(block));
        }
        classes.setHead(sizeClass, granuleOf(block));
    }

    private void removeFree(long block, long size) {
        int previous = previousAt(block);
        int next = nextAt(block);
        if (previous != NO_BLOCK) {
            setNext(offsetOf(previous), next);
        } else {
            classes.setHead(SizeClassIndex.classOf(size), next);
        }
        if (next != NO_BLOCK) {
            setPrevious(offsetOf(next), previous);
        }
    }

    // ---- header and bitmap access -------------------------------------------------------------------------

    private void writeHeader(long block, long size, boolean used, long leftOffset) {
        setSize(block, size, used);
        memory.set(JAVA_INT, block + LEFT_OFFSET_OFFSET, (int) leftOffset);
    }

    private void writeBorder(long block, long leftOffset) {
        writeHeader(block, BORDER_SIZE, true, leftOffset);
        memory.set(JAVA_LONG, block + STATE_OFFSET, 0L);
    }

    private void setSize(long block, long size, boolean used) {
        memory.set(JAVA_INT, block + SIZE_AND_USED_OFFSET, (int) size | (used ? USED_FLAG : 0));
    }

    private long leftOffsetAt(long block) {
        return Integer.toUnsignedLong(memory.get(JAVA_INT, block + LEFT_OFFSET_OFFSET));
    }

    private void setLeftOffset(long block, long leftOffset) {
        memory.set(JAVA_INT, block + LEFT_OFFSET_OFFSET, (int) leftOffset);
    }

    /**
     * The previous link is kept shifted left by 4 with the {@link BlockState#OWNED} bit set: read as a state, a free
     * block's links are never live, readable or pinned, and handles refuse owned blocks (see {@code BlockLayout}).
     */
    private int previousAt(long block) {
        return memory.get(JAVA_INT, block + PREVIOUS_OFFSET) >>> 4;
    }

    private int nextAt(long block) {
        return memory.get(JAVA_INT, block + NEXT_OFFSET);
    }

    private void setPrevious(long block, int granule) {
        memory.set(JAVA_INT, block + PREVIOUS_OFFSET, granule << 4 | (int) BlockState.OWNED);
    }

    private void setNext(long block, int granule) {
        memory.set(JAVA_INT, block + NEXT_OFFSET, granule);
    }

    /** Sets a start bit, after the header is written (release): a reader that sees the bit sees the header. */
    private void markStart(long block) {
        long word = wordOf(block);
        setBitsReleased(startsAddress + word, bitsAt(startsAddress + word) | bitOf(block));
    }

    /**
     * @return whether a live owned block starts at {@code block}, any granule of the shard; exact under the lock,
     *         and for the block's owner
     */
    boolean isOwned(long block) {
        return ((long) BITS.getAcquire(owned, wordOf(block)) & bitOf(block)) != 0;
    }

    private void markOwned(long block) {
        long word = wordOf(block);
        setBitsReleased(ownedAddress + word, bitsAt(ownedAddress + word) | bitOf(block));
    }

    private void clearOwned(long block) {
        long word = wordOf(block);
        setBitsAt(ownedAddress + word, bitsAt(ownedAddress + word) & ~bitOf(block));
    }

    /**
     * @return the size of the block at {@code block}, from where the next block starts in the block-start bitmap
     *         (a dense line, where the header may be a cache miss); from the header past {@link #SIZE_SCAN_WORDS}
     */
    long sizeByStarts(long block) {
        long next = startAtOrAfter(block + GRANULE, SIZE_SCAN_WORDS);
        return next >= 0 ? next - block : sizeAt(block);
    }

    /**
     * @return the size of the live owned block at {@code block}, under the lock: from its header in a heap whose
     *         headers stay in the CPU caches, else from the block-start bitmap (see "Owned blocks touch no header")
     */
    private long ownedSize(long block) {
        return headersCached ? sizeAtByAddress(block) : sizeByStarts(block);
    }

    private void clearStart(long block) {
        long word = wordOf(block);
        setBitsAt(startsAddress + word, bitsAt(startsAddress + word) & ~bitOf(block));
    }

    /** @return the byte offset, in a bitmap, of the word that holds the bit of the block starting at {@code block} */
    private static long wordOf(long block) {
        return (block >>> GRANULE_SHIFT >>> 6) << 3;
    }

    /** @return the bit, in its word ({@link #wordOf}), of the block starting at {@code block} */
    private static long bitOf(long block) {
        return 1L << ((block >>> GRANULE_SHIFT) & 63);
    }

    /** @return the bitmap word at {@code address}, read by the holder of the lock ({@link #RAW}) */
    private static long bitsAt(long address) {
        // aligned all the same: the layout only spares the check
        return RAW.get(JAVA_LONG_UNALIGNED, NativeMemory.inAddressSpace(address));
    }

    /** Writes the bitmap word at {@code address}, as the holder of the lock ({@link #RAW}). */
    private static void setBitsAt(long address, long bits) {
        RAW.set(JAVA_LONG_UNALIGNED, NativeMemory.inAddressSpace(address), bits);
    }

    /** As {@link #setBitsAt}, with a release store: for the bits that threads without the lock read. */
    private static void setBitsReleased(long address, long bits) {
        BITS.setRelease(RAW, NativeMemory.inAddressSpace(address), bits);
    }

    /**
     * @return the size in the header of the block at {@code block}, read by the holder of the lock ({@link #RAW}):
     *         as {@link #sizeAt}, with no scope or bounds check
     */
    private long sizeAtByAddress(long block) {
        long address = NativeMemory.inAddressSpace(memoryAddress + block + SIZE_AND_USED_OFFSET);
        return RAW.get(JAVA_INT_UNALIGNED, address) & SIZE_MASK;
    }

    private static int granuleOf(long block) {
        return (int) (block >>> GRANULE_SHIFT);
    }

    private static long offsetOf(int granule) {
        return Integer.toUnsignedLong(granule) << GRANULE_SHIFT;
    }
}
