package io.hce.memory.internal.heap;

import io.hce.memory.internal.concurrent.FieldHandles;

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
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One shard of a {@link ShardedHeap}: Cachelot's memalloc over a part of the region, with its own lock,
 * size-class index, block-start bitmap and eviction hand.
 *
 * <h2>Layout</h2>
 * {@code [border | one free block | border]} at first, blocks per {@link BlockLayout}. Offsets are relative
 * to the shard; a shard is at most {@link BlockLayout#MAX_SHARD_BYTES}, so sizes and left offsets fit their
 * 31 and 32 bits.
 *
 * <h2>Allocate</h2>
 * The request plus header, rounded to a granule, is the block size {@code b}. The head of {@code b}'s own
 * class is tried first (a cache's values of one size reuse each other's blocks: one compare, no walk);
 * otherwise {@link SizeClassIndex} finds the first non-empty class whose blocks all fit (two bit scans).
 * Only if both fail is the own class's list walked for a block that fits behind its head: the bounded
 * search that makes the heap never fail while a free block fits, paid only on the path that would
 * otherwise fail or evict. The block is split when the rest can be a block. A new block gets the next
 * stamp and is unreferenced.
 *
 * <h2>Free</h2>
 * Merged at once with a free left neighbour (through its left offset) and a free right one (through its
 * size); the absorbed headers' start bits are cleared. Two free blocks are never adjacent.
 *
 * <h2>Concurrency</h2>
 * Everything but the state word is guarded by the shard's lock, a test-and-set lock that records its
 * holder (so a callback that calls back into its own shard is refused, not deadlocked). The state word is
 * changed without the lock, by compare-and-set ({@link #pin}, {@link #unpin}, {@link #free}, {@link #read}'s
 * reference bit), and whoever makes a block {@linkplain BlockState#isReleasable releasable} takes the lock
 * and releases it. The rules are written once, in the package documentation.
 */
final class HeapShard {

    /** The first block after the left border. */
    static final long FIRST_BLOCK = BORDER_SIZE;

    private static final VarHandle STATE = JAVA_LONG.varHandle();
    private static final VarHandle WORD = JAVA_INT.varHandle();
    private static final VarHandle BITS = JAVA_LONG.varHandle();
    private static final VarHandle HOLDER = FieldHandles.of(MethodHandles.lookup(), "holder", Thread.class);
    private static final byte POISON = (byte) 0xDB;
    private static final long PARK_NANOS = 20_000;
    /**
     * The heap whose eviction callback the thread is running, if any: checked only before waiting for a lock, so
     * that a callback never waits for another shard of its own heap (two such callbacks could wait for each other).
     */
    private static final ThreadLocal<Object> IN_CALLBACK = new ThreadLocal<>();
    /** Classes that get quick lists: block sizes below 16 KiB. */
    private static final int QUICK_CLASSES = SizeClassIndex.classOf(16 << 10);
    private static final int QUICK_DEPTH = 256;

    private final int index;
    private final MemorySegment memory;
    private final MemorySegment starts;
    private final MemorySegment refs;
    private final long byteSize;
    private final long rightBorder;
    private final boolean poison;
    private final SizeClassIndex classes = new SizeClassIndex();
    private final EvictionPolicy policy = EvictionPolicy.standard();
    private final Watcher watcher; // checked mode only
    private final long regionOffset;
    private final Object heap; // the shards of one heap share it: who is in whose callback

    /**
     * Quick lists: blocks freed and kept whole for the next request of their class, without merging (glibc's
     * fast bins). A quick block stays marked used, with state 0 (no stamp, so no handle names it), and counts as
     * free. At most {@link #QUICK_DEPTH} a class (each class's list grows on demand); they are merged back
     * ({@link #flushQuick}) before any request would fail or evict, and before statistics and tryResize need them.
     */
    private final int[][] quick = new int[QUICK_CLASSES][];
    private final int[] quickCounts = new int[QUICK_CLASSES];
    private long quickBytes;
    private int quickBlocks; // read without the lock by mightFit

    @SuppressWarnings("unused") // through HOLDER
    private volatile Thread holder;

    // guarded by the lock; read by statistics under it
    private int lastStamp;
    private long usedBytes;
    private long freeBytes;
    private long usedBlocks;
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
     * @param watcher checked mode: told of every block handed out and ended, and freed memory is poisoned and
     *                checked when handed out again; null otherwise
     */
    HeapShard(Object heap, int index, long regionOffset, MemorySegment memory, MemorySegment starts,
              MemorySegment refs, Watcher watcher) {
        this.heap = heap;
        this.index = index;
        this.refs = refs;
        this.regionOffset = regionOffset;
        this.watcher = watcher;
        boolean poison = watcher != null;
        this.memory = memory;
        this.starts = starts;
        this.byteSize = memory.byteSize();
        this.rightBorder = byteSize - BORDER_SIZE;
        this.poison = poison;
        starts.fill((byte) 0);
        refs.fill((byte) 0);
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
        freeBytes = blockSize;
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

    boolean tryLock() {
        return holder == null && HOLDER.compareAndSet(this, null, Thread.currentThread());
    }

    /**
     * Takes the lock, spinning briefly and then yielding (a holder runs a bounded amount of work, but may
     * be descheduled).
     *
     * @throws IllegalStateException if the calling thread holds it: an eviction callback called back in
     */
    void lock() {
        Thread me = Thread.currentThread();
        if (HOLDER.compareAndSet(this, null, me)) {
            return;
        }
        checkNotHolder();
        if (IN_CALLBACK.get() == heap) { // waiting for one shard while holding another could deadlock
            throw new IllegalStateException("an eviction callback must not call back into its heap");
        }
        for (int spins = 0; !(holder == null && HOLDER.compareAndSet(this, null, me)); spins++) {
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
        HOLDER.setRelease(this, null);
    }

    /** @throws IllegalStateException if the calling thread holds the lock: an eviction callback called back in */
    void checkNotHolder() {
        if (holder == Thread.currentThread()) {
            throw new IllegalStateException("an eviction callback must not call back into its heap");
        }
    }

    // ---- under the lock -----------------------------------------------------------------------------------

    /**
     * @param blockSize a size from {@link #blockSizeFor}
     * @param pins      the pins the new block starts with (the caller's)
     * @return the new block's handle, or 0 when no free block fits
     */
    long allocate(long blockSize, long pins) {
        int sizeClass = SizeClassIndex.classOf(blockSize);
        if (sizeClass < QUICK_CLASSES && quickCounts[sizeClass] != 0) {
            long block = popQuick(sizeClass, blockSize);
            if (block >= 0) {
                long handle = handOut(block, pins);
                return watcher == null ? handle : watched(handle, pins);
            }
        }
        long block = findFreeOrFlush(blockSize);
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
        long block = policy.makeRoom(this, blockSize, sink, listener); // allocate has flushed the quick lists
        if (block < 0) {
            return 0;
        }
        long taken = take(block, blockSize, pins);
        policy.allocatedAt(BlockState.blockOf(taken), blockSize);
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
        usedBytes -= size;
        freeBytes += size;
        usedBlocks--;
        if (poison) {
            memory.asSlice(block + HEADER_LENGTH, size - HEADER_LENGTH).fill(POISON);
        }
        long left = block - leftOffsetAt(block);
        long right = block + size;
        boolean rightFree = !isUsed(right);
        if (!isUsed(left)) {
            long leftSize = sizeAt(left);
            long merged = leftSize + size + (rightFree ? sizeAt(right) : 0);
            if (rightFree) {
                removeFree(right, sizeAt(right));
                absorb(right);
            }
            absorb(block);
            if (SizeClassIndex.classOf(merged) != SizeClassIndex.classOf(leftSize)) {
                removeFree(left, leftSize);
                setSize(left, merged, false);
                insertFree(left, merged);
            } else {
                setSize(left, merged, false); // grows within its class: its list place holds
            }
            setLeftOffset(left + merged, merged);
            return left;
        }
        if (rightFree) {
            long rightSize = sizeAt(right);
            removeFree(right, rightSize);
            absorb(right);
            size += rightSize;
        }
        setSize(block, size, false);
        setLeftOffset(block + size, size);
        insertFree(block, size);
        return block;
    }

    /**
     * Frees an owned live block (no pins: nobody else has its stamp), counting it as a free. The state is
     * cleared with a release store before the header is reused, so a racing compare-and-set fails.
     */
    void releaseOwned(long block) {
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
        int sizeClass = SizeClassIndex.classOf(size);
        if (sizeClass < QUICK_CLASSES && quickCounts[sizeClass] < QUICK_DEPTH) {
            if (clearState) {
                STATE.setRelease(memory, block + STATE_OFFSET, 0L);
            }
            VarHandle.storeStoreFence(); // the cleared state is seen before the poison
            if (poison) {
                memory.asSlice(block + HEADER_LENGTH, size - HEADER_LENGTH).fill(POISON);
            }
            int[] list = quick[sizeClass];
            int count = quickCounts[sizeClass];
            if (list == null || list.length == count) {
                list = quick[sizeClass] = java.util.Arrays.copyOf(list == null ? new int[0] : list,
                        Math.min(QUICK_DEPTH, Math.max(8, 2 * count)));
            }
            list[count] = granuleOf(block);
            quickCounts[sizeClass] = count + 1;
            quickBytes += size;
            quickBlocks++;
            usedBytes -= size;
            freeBytes += size;
            usedBlocks--;
            return;
        }
        release(block);
    }

    /** @return a quick block of the class with room for {@code blockSize}, taken off its list, or -1 */
    private long popQuick(int sizeClass, long blockSize) {
        int[] list = quick[sizeClass];
        int count = quickCounts[sizeClass];
        for (int i = count - 1; i >= 0; i--) {
            long block = offsetOf(list[i]);
            long size = sizeAt(block);
            if (size >= blockSize) {
                list[i] = list[count - 1];
                quickCounts[sizeClass] = count - 1;
                quickBytes -= size;
                quickBlocks--;
                usedBytes += size;
                freeBytes -= size;
                usedBlocks++;
                return block;
            }
        }
        return -1;
    }

    /** Merges every quick block back into the free lists. */
    void flushQuick() {
        if (quickBlocks == 0) {
            return;
        }
        for (int sizeClass = 0; sizeClass < QUICK_CLASSES; sizeClass++) {
            int[] list = quick[sizeClass];
            for (int i = quickCounts[sizeClass] - 1; i >= 0; i--) {
                long block = offsetOf(list[i]);
                long size = sizeAt(block);
                usedBytes += size; // release counts it as used becoming free; a quick block is free already
                freeBytes -= size;
                usedBlocks++;
                release(block);
            }
            quickCounts[sizeClass] = 0;
        }
        quickBytes = 0;
        quickBlocks = 0;
    }

    private long findFreeOrFlush(long blockSize) {
        long block = findFree(blockSize);
        if (block < 0 && quickBlocks != 0) {
            flushQuick();
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
        Object outer = IN_CALLBACK.get(); // a callback of another heap, if this eviction runs inside one
        IN_CALLBACK.set(heap);
        try {
            sink.evicted(listener, handle, memory.address() + block + HEADER_LENGTH, sizeAt(block) - HEADER_LENGTH);
        } catch (Throwable t) {
            STATE.setVolatile(memory, block + STATE_OFFSET, state); // nobody else changes an evicting block
            throw t;
        } finally {
            IN_CALLBACK.set(outer);
        }
        if (watcher != null) {
            watcher.ended(handle, regionOffset + block, true);
        }
        evictions++;
        return release(block);
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
                usedBytes -= size - newBlockSize;
                freeBytes += size - newBlockSize;
                long tail = block + newBlockSize;
                writeHeader(tail, size - newBlockSize, false, newBlockSize);
                setLeftOffset(tail + size - newBlockSize, size - newBlockSize);
                markStart(tail);
                mergeWithFreeRight(tail, size - newBlockSize);
            }
            return true;
        }
        long right = block + size;
        if (isUsed(right) && quickBlocks != 0) {
            flushQuick(); // the right neighbour may be a quick block
        }
        if (isUsed(right) || size + sizeAt(right) < newBlockSize) {
            return false;
        }
        long rightSize = sizeAt(right);
        removeFree(right, rightSize);
        absorb(right);
        long total = size + rightSize;
        long rest = total - newBlockSize;
        long grown = rest >= MIN_BLOCK_SIZE ? newBlockSize : total;
        setSize(block, grown, true);
        usedBytes += grown - size;
        freeBytes -= grown - size;
        if (grown < total) {
            long tail = block + grown;
            writeHeader(tail, rest, false, grown);
            setLeftOffset(tail + rest, rest);
            markStart(tail);
            insertFree(tail, rest);
        } else {
            setLeftOffset(block + total, total);
        }
        return true;
    }

    private void mergeWithFreeRight(long block, long size) {
        long right = block + size;
        if (!isUsed(right)) {
            long rightSize = sizeAt(right);
            removeFree(right, rightSize);
            absorb(right);
            size += rightSize;
            setSize(block, size, false);
            setLeftOffset(block + size, size);
        }
        if (poison) {
            memory.asSlice(block + HEADER_LENGTH, size - HEADER_LENGTH).fill(POISON);
        }
        insertFree(block, size);
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
        return usedBytes;
    }

    long freeBytes() {
        return freeBytes;
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

    /** @return the payload of the largest free block, 0 when there is none */
    long largestFreePayload() {
        flushQuick();
        int sizeClass = classes.highestNonEmptyClass();
        if (sizeClass < 0) {
            return 0;
        }
        long largest = 0;
        for (int granule = classes.head(sizeClass); granule != NO_BLOCK; granule = nextAt(offsetOf(granule))) {
            largest = Math.max(largest, sizeAt(offsetOf(granule)));
        }
        return largest - HEADER_LENGTH;
    }

    // ---- without the lock ---------------------------------------------------------------------------------

    /**
     * A hint, read without the lock: whether some free block might hold {@code blockSize}. False means that
     * none did at some moment during the call.
     */
    boolean mightFit(long blockSize) {
        if (quickBlocks != 0) {
            return true;
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
        long granule = block >>> GRANULE_SHIFT;
        long word = (granule >>> 6) << 3;
        long bit = 1L << (granule & 63);
        long bits = (long) BITS.getOpaque(refs, word);
        if ((bits & bit) == 0) {
            BITS.setOpaque(refs, word, bits | bit);
        }
    }

    /** @return whether the block's reference bit is set */
    boolean isReferenced(long block) {
        long granule = block >>> GRANULE_SHIFT;
        return ((long) BITS.getOpaque(refs, (granule >>> 6) << 3) & (1L << (granule & 63))) != 0;
    }

    /** Clears the block's reference bit (the eviction hand, or a new block). */
    void clearReferenced(long block) {
        long granule = block >>> GRANULE_SHIFT;
        long word = (granule >>> 6) << 3;
        long bit = 1L << (granule & 63);
        long bits = (long) BITS.getOpaque(refs, word);
        if ((bits & bit) != 0) {
            BITS.setOpaque(refs, word, bits & ~bit);
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

    /** @return the first block starting at or after {@code offset} (the right border at the latest) */
    long blockAtOrAfter(long offset) {
        long granule = offset >>> GRANULE_SHIFT;
        long word = granule >>> 6;
        long bits = starts.get(JAVA_LONG, word << 3) & (-1L << (granule & 63));
        while (bits == 0) {
            bits = starts.get(JAVA_LONG, ++word << 3);
        }
        return ((word << 6) + Long.numberOfTrailingZeros(bits)) << GRANULE_SHIFT;
    }

    /** @return the start of the block that contains {@code offset} (scans the bitmap leftwards) */
    long blockContaining(long offset) {
        long granule = offset >>> GRANULE_SHIFT;
        long word = granule >>> 6;
        long bits = starts.get(JAVA_LONG, word << 3) & (-1L >>> (63 - (granule & 63)));
        while (bits == 0) {
            bits = starts.get(JAVA_LONG, --word << 3);
        }
        return ((word << 6) + 63 - Long.numberOfLeadingZeros(bits)) << GRANULE_SHIFT;
    }

    boolean isStart(long block) {
        long granule = block >>> GRANULE_SHIFT;
        return ((long) BITS.getAcquire(starts, (granule >>> 6) << 3) & (1L << (granule & 63))) != 0;
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
        java.util.Set<Long> quickListed = new java.util.HashSet<>();
        long quickListedBytes = 0;
        for (int sizeClass = 0; sizeClass < QUICK_CLASSES; sizeClass++) {
            for (int i = 0; i < quickCounts[sizeClass]; i++) {
                long block = offsetOf(quick[sizeClass][i]);
                if (!quickListed.add(block) || SizeClassIndex.classOf(sizeAt(block)) != sizeClass) {
                    return "quick list of class " + sizeClass + ": block at " + block + " listed twice or misfiled";
                }
                quickListedBytes += sizeAt(block);
            }
        }
        if (quickListed.size() != quickBlocks || quickListedBytes != quickBytes) {
            return "quick lists hold " + quickListed.size() + " blocks of " + quickListedBytes + " bytes, books say "
                    + quickBlocks + " of " + quickBytes;
        }
        long quickWalked = 0;
        long walkedUsed = 0;
        long walkedFree = 0;
        long usedCount = 0;
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
            if (leftOffsetAt(block) != previousSize) {
                return where + ": left offset " + leftOffsetAt(block) + " != left neighbour's size " + previousSize;
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
            } else if (stateAt(block) == 0) {
                if (!quickListed.remove(block)) {
                    return where + ": used block with no stamp, not in a quick list";
                }
                walkedFree += size;
                quickWalked++;
            } else {
                long state = stateAt(block);
                if ((state & BlockState.EVICTING) != 0 || BlockState.isReleasable(state)) {
                    return where + ": used block in state " + Long.toHexString(state);
                }
                walkedUsed += size;
                usedCount++;
            }
            previousSize = size;
            previousFree = free;
            block += size;
        }
        if (leftOffsetAt(rightBorder) != previousSize) {
            return "right border's left offset " + leftOffsetAt(rightBorder) + " != " + previousSize;
        }
        if (!quickListed.isEmpty()) {
            return "quick lists hold blocks that are not in the chain: " + quickListed;
        }
        if (walkedUsed != usedBytes || walkedFree != freeBytes || usedCount != usedBlocks) {
            return "accounting: walked " + walkedUsed + " used / " + walkedFree + " free bytes in " + usedCount
                    + " used blocks, books say " + usedBytes + " / " + freeBytes + " in " + usedBlocks;
        }
        return verifyFreeLists(freeCount);
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
                if (isUsed(block) || SizeClassIndex.classOf(sizeAt(block)) != sizeClass || previousAt(block) != previous) {
                    return "class " + sizeClass + ": block at " + block + " is used, misfiled or mislinked";
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
        for (int granule = head; granule != NO_BLOCK; granule = nextAt(offsetOf(granule))) {
            if (sizeAt(offsetOf(granule)) >= size) {
                return offsetOf(granule);
            }
        }
        return -1;
    }

    /**
     * Takes {@code blockSize} bytes of a free block. The new block is carved off the free block's end, so the
     * rest keeps its header and, when its class is unchanged (a large block's class spans 1/32 of its sizes),
     * its place in its list: carving a large free block touches two headers and no list neighbour.
     */
    private long take(long block, long blockSize, long pins) {
        long size = sizeAt(block);
        long rest = size - blockSize;
        if (rest < MIN_BLOCK_SIZE) {
            removeFree(block, size);
            long handle = handOut(block, pins); // the stamp before the used flag (rule 2)
            WORD.setRelease(memory, block + SIZE_AND_USED_OFFSET, (int) size | USED_FLAG);
            usedBytes += size;
            freeBytes -= size;
            usedBlocks++;
            return handle;
        }
        if (SizeClassIndex.classOf(rest) != SizeClassIndex.classOf(size)) {
            removeFree(block, size);
            setSize(block, rest, false);
            insertFree(block, rest);
        } else {
            setSize(block, rest, false);
        }
        long carved = block + rest;
        long handle = handOut(carved, pins); // the stamp, then the header, then the start bit (rule 2)
        memory.set(JAVA_INT, carved + LEFT_OFFSET_OFFSET, (int) rest);
        WORD.setRelease(memory, carved + SIZE_AND_USED_OFFSET, (int) blockSize | USED_FLAG);
        setLeftOffset(carved + blockSize, blockSize);
        markStart(carved);
        usedBytes += blockSize;
        freeBytes -= blockSize;
        usedBlocks++;
        return handle;
    }

    /** Gives a block being handed out (from the free lists or a quick list) a new stamp and its first pins. */
    private long handOut(long block, long pins) {
        clearReferenced(block);
        int stamp = nextStamp();
        STATE.setRelease(memory, block + STATE_OFFSET, BlockState.live(stamp, pins));
        VarHandle.storeStoreFence(); // the new stamp is seen before the new owner's payload (optimistic reads)
        allocations++;
        return BlockState.handle(stamp, index, block);
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
        long granule = block >>> GRANULE_SHIFT;
        long word = (granule >>> 6) << 3;
        BITS.setRelease(starts, word, starts.get(JAVA_LONG, word) | (1L << (granule & 63)));
    }

    private void clearStart(long block) {
        long granule = block >>> GRANULE_SHIFT;
        long word = (granule >>> 6) << 3;
        starts.set(JAVA_LONG, word, starts.get(JAVA_LONG, word) & ~(1L << (granule & 63)));
    }

    private static int granuleOf(long block) {
        return (int) (block >>> GRANULE_SHIFT);
    }

    private static long offsetOf(int granule) {
        return Integer.toUnsignedLong(granule) << GRANULE_SHIFT;
    }
}
