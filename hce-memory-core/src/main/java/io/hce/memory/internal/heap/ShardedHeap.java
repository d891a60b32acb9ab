package io.hce.memory.internal.heap;

import java.lang.foreign.MemorySegment;

/**
 * The engine behind {@code FixedHeap}: one region cut into equal {@link HeapShard}s, each with its own lock,
 * and the protocol that lets many threads share them.
 *
 * <h2>Sharing protocol: pins, stamps and optimistic reads</h2>
 * A block is named by a <em>handle</em>: its shard, its position and the <em>stamp</em> of this allocation of
 * it ({@link BlockState}). Whatever happens to the block, a handle never names a later allocation of the same
 * memory: the block-start bitmap says whether a header is there at all, and the stamp in the header says
 * whether it is the same allocation. So a stale handle (its block freed or evicted since) is recognised,
 * never read through.
 * <ul>
 *   <li><b>Reads without a pin</b> copy out and validate afterwards ({@link HeapShard#read}): no atomic and
 *       no write to any header; at most one plain store to the reference bitmap, when the block's bit is not
 *       set yet. A block evicted or freed during the copy makes the read report a miss; its bytes are never
 *       returned.</li>
 *   <li><b>Pins</b> are for holding a block: its memory is not reused while a pin is held; eviction passes
 *       pinned blocks by, and {@code free} of a pinned block is completed by its last unpin (memcached's and
 *       OHC's reference counts). A pin and an unpin each take the block's shard lock for a few stores (one
 *       atomic each, as a compare-and-set on the header would be): a header is never written by a thread
 *       that does not hold its shard's lock, so no stale handle can write into memory that has become another
 *       value's. A block handed out by the handle API starts pinned by its creator, so it cannot be taken
 *       while it is being written, before its owner has published it.</li>
 * </ul>
 * Epoch-based reclamation was the other candidate: one fence per read section and no write to the block.
 * It was not chosen because one slow reader (a request that holds a value across a pause) would hold back
 * every eviction of the heap, where a pin holds back only its block; and because an epoch per thread needs
 * a registry of every reader thread, virtual threads included. Optimistic reads take from it what matters:
 * the common read writes nothing shared.
 *
 * <h2>Scaling</h2>
 * There is no lock of the whole heap. A thread allocates in its home shard (its thread id, hashed) and moves
 * on to the next shard when that one is busy ({@code tryLock}) or full, so threads that collide spread out
 * instead of queueing; a block is freed in its own shard. With {@code s} shards and {@code t} threads, a
 * thread waits only when every shard it tries is busy, and the chance that its home shard is busy is about
 * {@code t/s} times the fraction of time a holder spends in it. The default shard count is 4 per processor
 * (at most 64, at least 4 MiB each), so on 16 cores 64 shards see on average one thread in four, and on 64
 * cores 64 shards one thread each; reads take no lock at all, so a read-mostly cache scales with the cores
 * whatever the shard count. Eviction is per shard (as memcached's per-class LRUs and OHC's segments), so a
 * thread that evicts holds up only the threads that need its shard, and they move to another.
 *
 * <h2>Good fit</h2>
 * A request fails or evicts only when no shard has a free block that fits: shards whose size-class bitmaps,
 * quick lists and frontier say nothing fits are passed without their lock (a hint read without it), the others
 * are asked under it. They are asked twice: first, without waiting for a busy shard, for a block that fits as it
 * is (a free block, or a kept block of the request's class); then, only if none had one, with their kept
 * blocks merged, waiting for busy ones. So a home shard that is full but for kept blocks of other sizes (a
 * thread that frees blocks all over the heap and allocates in its home) does not merge them, one request after
 * another, while another shard has room: with one thread at 80 % of a 1 GiB heap of 8 shards, the steady mix
 * took 646 ns per operation that way, and 306 with the two passes (one shard: 212). A request that may evict
 * skips the first pass: its heap is full. The first pass locks only shards whose hints say a block fits as it
 * is, so a shard that could serve only by merging costs it two bitmap reads. On the path that would otherwise
 * fail, that is about four bitmap reads per shard, plus the bounded search of {@link HeapShard}'s own class,
 * under its lock, in the shards that might fit.
 */
public final class ShardedHeap {

    /** Shards are at least this large when a heap is cut for concurrency (not when cut for size). */
    static final long MIN_SHARD_BYTES = 4L << 20;
    /** Each shard's bitmaps beside the region: block starts, reference bits, owned blocks ({@link BlockLayout}). */
    private static final long BITMAPS_PER_SHARD = 3;

    private final String name;
    private final HeapShard[] shards;
    private final int mask;
    private final long shardBytes;
    /** {@code shards[0]}: a heap of one shard reaches it with no bounds check. */
    private final HeapShard firstShard;
    /** The shards' bytes together: the offsets of blocks are below it. */
    private final long shardedBytes;
    private final long maxPayload;
    /** Where the next eviction starts: round robin, so that every shard churns, not only the evictors' home shards. */
    private int evictionCursor;

    /**
     * Lays the shards out in {@code memory}: the region's {@code capacity} bytes, then the bitmaps.
     *
     * @param name     the heap's name, for the refusal of a request once it is closed
     * @param memory   at least {@link #bytesFor}{@code (capacity, shardCount)} bytes of native memory, 16-byte
     *                 aligned, that stays live until every shard is marked closed ({@link #closeHeld}) or this
     *                 heap is unreachable: the bitmaps are accessed by address under the shards' locks
     * @param capacity the region's size
     * @param shardCount a power of two from {@link #shardCountFor}, or any power of two the region can hold
     * @param watcher  checked mode's books, or null: with one, freed memory is poisoned and checked
     * @throws IllegalArgumentException if {@code memory} is not native
     */
    public ShardedHeap(String name, MemorySegment memory, long capacity, int shardCount, Watcher watcher) {
        this.name = name;
        if (!memory.isNative()) {
            throw new IllegalArgumentException("a heap's memory must be native, was " + memory);
        }
        this.shardBytes = shardBytesFor(capacity, shardCount);
        this.shards = new HeapShard[shardCount];
        this.mask = shardCount - 1;
        this.shardedBytes = shardCount * shardBytes;
        long bitmapBytes = BlockLayout.bitmapBytesFor(shardBytes);
        long bitmaps = regionBytesRounded(capacity);
        for (int i = 0; i < shardCount; i++) {
            long shardBitmaps = bitmaps + BITMAPS_PER_SHARD * i * bitmapBytes;
            shards[i] = new HeapShard(this, i, i * shardBytes, memory.asSlice(i * shardBytes, shardBytes),
                    memory.asSlice(shardBitmaps, bitmapBytes), memory.asSlice(shardBitmaps + bitmapBytes, bitmapBytes),
                    memory.asSlice(shardBitmaps + 2 * bitmapBytes, bitmapBytes), watcher, shardedBytes);
        }
        this.maxPayload = HeapShard.maxPayloadFor(shardBytes);
        this.firstShard = shards[0];
    }

    /**
     * @param capacity   a region's size
     * @param processors the processors to serve
     * @return the default shard count: enough shards of at most 1 GiB to cover the region, and for
     *         concurrency up to 4 per processor of at least {@value #MIN_SHARD_BYTES} bytes; a power of two
     */
    public static int shardCountFor(long capacity, int processors) {
        int needed = ceilingPowerOfTwo((capacity + BlockLayout.MAX_SHARD_BYTES - 1) / BlockLayout.MAX_SHARD_BYTES);
        long bySize = Math.max(1, capacity / MIN_SHARD_BYTES);
        int wanted = Integer.highestOneBit((int) Math.min(Math.min(bySize, 4L * processors), BlockState.MAX_SHARDS));
        return Math.max(needed, wanted);
    }

    /** @return the fewest shards a region of {@code capacity} can have (shards are at most 1 GiB) */
    public static int minShardCountFor(long capacity) {
        return ceilingPowerOfTwo((capacity + BlockLayout.MAX_SHARD_BYTES - 1) / BlockLayout.MAX_SHARD_BYTES);
    }

    /** @return the bytes of native memory a heap of {@code capacity} in {@code shardCount} shards takes */
    public static long bytesFor(long capacity, int shardCount) {
        return regionBytesRounded(capacity)
                + BITMAPS_PER_SHARD * shardCount * BlockLayout.bitmapBytesFor(shardBytesFor(capacity, shardCount));
    }

    /** @return the largest payload a heap of {@code capacity} in {@code shardCount} shards can hand out */
    public static long maxPayloadFor(long capacity, int shardCount) {
        return HeapShard.maxPayloadFor(shardBytesFor(capacity, shardCount));
    }

    private static long shardBytesFor(long capacity, int shardCount) {
        return Math.min(BlockLayout.MAX_SHARD_BYTES, capacity / shardCount & -BlockLayout.GRANULE);
    }

    private static long regionBytesRounded(long capacity) {
        return (capacity + BlockLayout.GRANULE - 1) & -BlockLayout.GRANULE;
    }

    private static int ceilingPowerOfTwo(long n) {
        return n <= 1 ? 1 : Integer.highestOneBit((int) (n - 1)) << 1;
    }

    /** @return the largest payload any request can get: a wholly free shard's */
    public long maxPayload() {
        return maxPayload;
    }

    public int shardCount() {
        return shards.length;
    }

    // ---- allocation ---------------------------------------------------------------------------------------

    /**
     * @param byteSize 1 … {@link #maxPayload()}
     * @param pins     the pins the block starts with
     * @return the new block's handle, or 0 when no free block of any shard fits; also 0, not a refusal, on a
     *         closed heap whose shards' hints all said nothing fits (no lock taken): the caller checks for a close
     * @throws IllegalStateException if a shard it locks is closed
     */
    public long allocate(long byteSize, long pins) {
        long blockSize = HeapShard.blockSizeFor(byteSize);
        if (mask == 0) {
            HeapShard shard = firstShard;
            shard.lock();
            try {
                return shard.allocate(blockSize, pins);
            } finally {
                shard.unlock();
            }
        }
        int home = home();
        long handle = allocateAsIs(blockSize, pins, home);
        return handle != 0 ? handle : allocateMerging(blockSize, pins, home);
    }

    /** The first pass of the good fit: a block that fits as it is, in any shard not busy; no kept block merged. */
    private long allocateAsIs(long blockSize, long pins, int home) {
        for (int i = 0; i <= mask; i++) {
            HeapShard shard = shards[(home + i) & mask];
            if (!shard.mightFitAsIs(blockSize) || !shard.tryLock()) {
                continue;
            }
            try {
                long handle = shard.allocate(blockSize, pins, false);
                if (handle != 0) {
                    return handle;
                }
            } finally {
                shard.unlock();
            }
        }
        return 0;
    }

    /** The second pass: kept blocks merged as needed, waiting for the shards that were busy. */
    private long allocateMerging(long blockSize, long pins, int home) {
        boolean skipped = false;
        for (int i = 0; i <= mask; i++) {
            HeapShard shard = shards[(home + i) & mask];
            if (!shard.mightFit(blockSize)) {
                continue;
            }
            if (!shard.tryLock()) {
                skipped = true;
                continue;
            }
            try {
                long handle = shard.allocate(blockSize, pins);
                if (handle != 0) {
                    return handle;
                }
            } finally {
                shard.unlock();
            }
        }
        return skipped ? allocateWaiting(blockSize, pins, home) : 0;
    }

    private long allocateWaiting(long blockSize, long pins, int home) {
        for (int i = 0; i <= mask; i++) {
            HeapShard shard = shards[(home + i) & mask];
            if (!shard.mightFit(blockSize)) {
                continue;
            }
            shard.lock();
            try {
                long handle = shard.allocate(blockSize, pins);
                if (handle != 0) {
                    return handle;
                }
            } finally {
                shard.unlock();
            }
        }
        return 0;
    }

    /**
     * Allocates, evicting only when no shard has a free block that fits: in the shard a round-robin cursor
     * names, then the next ones.
     *
     * @return the new block's handle, or 0 when every shard's evictable blocks were not enough (the rest is pinned)
     */
    public long allocateOrEvict(long byteSize, long pins, VictimSink sink, Object listener) {
        long blockSize = HeapShard.blockSizeFor(byteSize);
        if (mask == 0) {
            HeapShard shard = firstShard;
            shard.lock();
            try {
                return shard.allocateOrEvict(blockSize, pins, sink, listener);
            } finally {
                shard.unlock();
            }
        }
        // A cache that evicts is full: a first pass for a block that fits as it is seldom finds one there, and
        // cost each put a lock per shard (a full 64 MiB heap of 8 shards: 390 ns a put, 510 with it).
        long handle = allocateMerging(blockSize, pins, home());
        if (handle != 0) {
            return handle;
        }
        int first = evictionCursor++; // racy on purpose: it only spreads evictions over the shards
        for (int i = 0; i <= mask; i++) {
            HeapShard shard = shards[(first + i) & mask];
            shard.lock();
            try {
                handle = shard.allocateOrEvict(blockSize, pins, sink, listener);
                if (handle != 0) {
                    return handle;
                }
            } finally {
                shard.unlock();
            }
        }
        return 0;
    }

    private int home() {
        return (int) ((Thread.currentThread().threadId() * 0x9E37_79B9_7F4A_7C15L) >>> 40) & mask;
    }

    // ---- handles ------------------------------------------------------------------------------------------

    /** @return the shard a handle names, or null if this heap has no such shard */
    private HeapShard shardOf(long handle) {
        int shard = BlockState.shardOf(handle);
        return shard <= mask ? shards[shard] : null;
    }

    public boolean pin(long handle) {
        HeapShard shard = shardOf(handle);
        return shard != null && shard.pin(BlockState.blockOf(handle), BlockState.stampOf(handle));
    }

    public boolean unpin(long handle) {
        HeapShard shard = shardOf(handle);
        return shard != null && shard.unpin(BlockState.blockOf(handle), BlockState.stampOf(handle));
    }

    public boolean free(long handle) {
        HeapShard shard = shardOf(handle);
        return shard != null && shard.free(BlockState.blockOf(handle), BlockState.stampOf(handle));
    }

    public boolean touch(long handle) {
        HeapShard shard = shardOf(handle);
        return shard != null && shard.touch(BlockState.blockOf(handle), BlockState.stampOf(handle));
    }

    public boolean read(long handle, long offset, MemorySegment dst, long dstOffset, long length) {
        HeapShard shard = shardOf(handle);
        return shard != null && shard.read(BlockState.blockOf(handle), BlockState.stampOf(handle), offset, dst,
                dstOffset, length);
    }

    /** @return the handle's state if it names a block of this heap as allocated then, else 0 */
    public long validState(long handle) {
        HeapShard shard = shardOf(handle);
        return shard == null ? 0 : shard.validState(BlockState.blockOf(handle), BlockState.stampOf(handle));
    }

    /** @return whether the state is of a live block (see {@link BlockState}) */
    public static boolean isLive(long state) {
        return BlockState.isLive(state);
    }

    /** @return whether the state is of a block that can be read: live, or being evicted */
    public static boolean isReadable(long state) {
        return BlockState.isReadable(state);
    }

    /** @return the pins in a state */
    public static long pins(long state) {
        return BlockState.pins(state);
    }

    /** @return the offset in the region of the payload of the block a handle names */
    public long payloadOffset(long handle) {
        return BlockState.shardOf(handle) * shardBytes + BlockState.blockOf(handle) + BlockLayout.HEADER_LENGTH;
    }

    /** @return the payload capacity of the live block a handle names */
    public long payloadCapacity(long handle) {
        return shards[BlockState.shardOf(handle)].payloadCapacity(BlockState.blockOf(handle));
    }

    /**
     * Finds the live block whose payload starts at {@code payloadOffset} (a segment's or an address's place in
     * the region), without its shard's lock: exact when the caller owns the block.
     *
     * @param byteSize the segment's size, which must fit the block
     * @return the block's handle
     * @throws IllegalArgumentException if no block of this heap starts there, or it is too small
     * @throws IllegalStateException    if the block there is free, or freed and waiting for its pins (a double
     *                                  free), or the calling thread is in an eviction callback of its shard
     */
    public long liveHandleAt(long payloadOffset, long byteSize) {
        HeapShard shard = shardAt(payloadOffset);
        shard.checkNotHolder();
        return locate(shard, payloadOffset, byteSize, false);
    }

    /**
     * Frees an owned block (one handed out as a segment or an address, whose stamp nobody else has), under its
     * shard's lock: no compare-and-set, the lock orders it. A live owned block of that size is found by the
     * owned bitmap; anything else gets the checks of {@link #liveHandleAt}, which say what is wrong.
     *
     * @throws IllegalStateException also if the block was handed out as a handle
     */
    public void freeOwned(long payloadOffset, long byteSize) {
        HeapShard shard = shardAt(payloadOffset);
        long block = payloadOffset - BlockLayout.HEADER_LENGTH - (long) shard.index() * shardBytes;
        shard.lock();
        try {
            if (!shard.freeOwned(block, byteSize)) {
                shard.releaseOwned(BlockState.blockOf(locate(shard, payloadOffset, byteSize, true)));
            }
        } finally {
            shard.unlock();
        }
    }

    private HeapShard shardAt(long payloadOffset) {
        long header = payloadOffset - BlockLayout.HEADER_LENGTH;
        // one branch for both: each is one more stub in the compiled fast path (BENCHMARKS.md, round 8)
        if (Long.compareUnsigned(header, shardedBytes) >= 0 | (header & (BlockLayout.GRANULE - 1)) != 0) {
            throw new IllegalArgumentException("not a block of this heap: offset " + header
                    + " is not on a block boundary inside the heap");
        }
        return mask == 0 ? firstShard : shards[(int) (header / shardBytes)];
    }

    private long locate(HeapShard shard, long payloadOffset, long byteSize, boolean ownedOnly) {
        long header = payloadOffset - BlockLayout.HEADER_LENGTH;
        long block = header - (long) shard.index() * shardBytes;
        if (block < HeapShard.FIRST_BLOCK || block >= shard.rightBorder()) {
            throw new IllegalArgumentException("not a block of this heap: offset " + header + " is a border");
        }
        if (!shard.isStart(block)) {
            long container = shard.blockContaining(block);
            if (!shard.isUsed(container)) {
                throw new IllegalStateException("double free: the block at offset " + header
                        + " was freed already (and merged into a neighbour)");
            }
            throw new IllegalArgumentException("not a block of this heap: no block starts at offset " + header
                    + ", it is inside the block at " + (header - block + container));
        }
        int word = shard.sizeAndUsedAt(block);
        if (word >= 0) { // the used flag is the sign bit
            throw new IllegalStateException("double free: the block at offset " + header + " is free already");
        }
        long state = shard.stateAt(block);
        if (!BlockState.isLive(state)) {
            throw new IllegalStateException("double free: the block at offset " + header + (state == 0 ? " is free already"
                    : (state & BlockState.EVICTING) != 0 ? " is being evicted" : " was freed already and waits for its pins"));
        }
        if ((state & BlockState.OWNED) != 0 && !shard.isOwned(block)) { // kept for reuse, or evicted: its state left
            throw new IllegalStateException((ownedOnly ? "double free: " : "") + "the block at offset " + header
                    + " is free already (freed, or evicted)");
        }
        long capacity = (word & BlockLayout.SIZE_MASK) - BlockLayout.HEADER_LENGTH;
        if (byteSize > capacity) {
            throw new IllegalArgumentException("not a block of this heap: " + byteSize + " bytes do not fit the "
                    + capacity + "-byte block at offset " + header);
        }
        if (ownedOnly && (state & BlockState.OWNED) == 0) {
            throw new IllegalStateException("the block at offset " + header
                    + " was handed out as a handle: free it by its handle");
        }
        return BlockState.handle(BlockState.stamp(state), shard.index(), block);
    }

    /**
     * Resizes a block in place. The caller owns the block (no other thread reads past its new end).
     *
     * @return whether the block now holds {@code newByteSize} bytes; unchanged when false
     */
    public boolean tryResize(long handle, long newByteSize) {
        HeapShard shard = shards[BlockState.shardOf(handle)];
        shard.lock();
        try {
            long block = BlockState.blockOf(handle);
            long state = shard.validState(block, BlockState.stampOf(handle));
            // the owned bit, not the state, says whether it is still live: a block kept for reuse keeps its state
            if (state == 0 || (state & BlockState.OWNED) != 0 && !shard.isOwned(block)) {
                throw new IllegalStateException("the block at offset " + (payloadOffset(handle) - BlockLayout.HEADER_LENGTH)
                        + " was freed or evicted by another thread before it could be resized");
            }
            if ((state & BlockState.OWNED) == 0) {
                throw new IllegalStateException("only a block handed out as a segment can be resized: readers of a"
                        + " handle's block may be reading past a new end");
            }
            return BlockState.isLive(state) && shard.tryResize(block, HeapShard.blockSizeFor(newByteSize));
        } finally {
            shard.unlock();
        }
    }

    // ---- whole-heap operations ----------------------------------------------------------------------------

    /**
     * Takes every shard's lock, in order (close, verify), or none; also when the heap is closed, so the caller
     * checks whether it is.
     *
     * @throws IllegalStateException with no lock taken, if the calling thread holds one (an eviction callback)
     */
    public void lockAll() {
        for (HeapShard shard : shards) {
            shard.checkNotHolder();
        }
        int locked = 0;
        try {
            for (HeapShard shard : shards) {
                shard.lockEvenIfClosed();
                locked++;
            }
        } catch (RuntimeException | Error e) {
            for (int i = 0; i < locked; i++) {
                shards[i].unlock();
            }
            throw e;
        }
    }

    public void unlockAll() {
        for (HeapShard shard : shards) {
            shard.unlock();
        }
    }

    /** @return what a request to a closed heap is refused with: the one message for it, public API included */
    public IllegalStateException closedException() {
        return new IllegalStateException("heap '" + name + "' is closed");
    }

    /**
     * Under {@link #lockAll()}, before the region is freed: every request from here on is refused with an
     * {@code IllegalStateException}, since the shards' bitmaps are read and written by address under their locks.
     */
    public void closeHeld() {
        for (HeapShard shard : shards) {
            shard.markClosed();
        }
    }

    /** Under {@link #lockAll()}: @return null if every shard is consistent, else the first broken invariant */
    public String verify() {
        for (HeapShard shard : shards) {
            String broken = shard.verify();
            if (broken != null) {
                return (shards.length > 1 ? "shard " + shard.index() + ": " : "") + broken;
            }
        }
        return null;
    }

    /** The figures of all shards, each exact when read, under its lock. */
    public record Figures(long usedBytes, long freeBytes, long largestFreePayload, long allocations, long frees,
                          long evictions) {
    }

    /** @return the figures, each shard read under its own lock */
    public Figures figures() {
        return figures(true);
    }

    /** Under {@link #lockAll()}: @return the figures, all of one moment */
    public Figures figuresHeld() {
        return figures(false);
    }

    private Figures figures(boolean lock) {
        long used = 0;
        long free = 0;
        long largest = 0;
        long allocations = 0;
        long frees = 0;
        long evictions = 0;
        for (HeapShard shard : shards) {
            if (lock) {
                shard.lock();
            }
            try {
                used += shard.usedBytes();
                free += shard.freeBytes();
                largest = Math.max(largest, shard.largestFreePayload());
                allocations += shard.allocations();
                frees += shard.frees();
                evictions += shard.evictions();
            } finally {
                if (lock) {
                    shard.unlock();
                }
            }
        }
        return new Figures(used, free, largest, allocations, frees, evictions);
    }
}
