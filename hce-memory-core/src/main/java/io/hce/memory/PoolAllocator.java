package io.hce.memory;

import io.hce.memory.internal.platform.NativeMemory;
import io.hce.memory.internal.platform.Reclaimer;
import io.hce.memory.internal.pool.BlockPool;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.ref.Reference;
import java.util.List;
import java.util.Objects;

/**
 * A private cache of fixed-size native blocks for one use case, with a set capacity: hce's
 * {@code pool_allocator<T>}. Blocks that have been cached are there for this use case alone, whatever the
 * rest of the process allocates.
 *
 * <pre>{@code
 * PoolAllocator entries = PoolAllocator.create("entries", ENTRY_LAYOUT, 1024);
 * MemorySegment entry = entries.allocate();
 * // ...
 * entries.deallocate(entry);   // kept for the next allocate(), up to 1024 blocks
 * }</pre>
 *
 * <h2>Design</h2>
 * Each of the first platform threads to use the pool (up to twice the processors at once) keeps a small
 * magazine of blocks at hand, so its allocations and deallocations are a pop and a push on its own memory,
 * as in a thread cache, with no atomics. Behind the magazines, lock-free rings of addresses (Vyukov's MPMC
 * queue, striped by thread) hold the blocks threads pass on to each other; other threads, and virtual
 * threads, use the rings directly. The capacity is exact: the pool never caches more than
 * {@code capacity} blocks, magazines included, because every magazine slot that may hold a block has been
 * taken from the capacity first (half a magazine at a time). Empty slots held by other threads' magazines
 * are not lent out, so a deallocation may free a block while the pool holds up to a quarter less than its
 * capacity. Small pools (fewer than 16 blocks per processor) have no magazines, and then the capacity is
 * exact both ways. A miss calls {@code malloc}; a deallocation that finds the pool full calls
 * {@code free()}. Blocks come from the C allocator
 * directly, not from a {@link CachingAllocator}: they have the pool's exact size and alignment, and
 * keeping them apart from the thread caches is the point of a pool.
 *
 * <p>Hits from magazines are counted by single-writer counters in them, hits from the rings by the rings'
 * consumer indices; misses and frees beside the {@code malloc} and {@code free()} calls they stand for.
 *
 * <h2>Lifecycle</h2>
 * {@link #close()} frees the blocks in the rings and in the calling thread's magazine at once; another
 * thread frees its magazine's blocks at its next call to the pool, or they are freed when it ends or when
 * the pool becomes unreachable. Blocks deallocated after {@code close()} are freed at once, so a pool
 * that is replaced leaks nothing. A pool that becomes unreachable is drained entirely.
 */
public final class PoolAllocator implements SegmentAllocator, AutoCloseable {

    private final String name;
    private final long blockSize;
    private final long blockAlignment;
    private final BlockPool blocks;
    private final AllocationGuard guard; // null unless checked mode or leak detection is on

    private PoolAllocator(String name, long blockSize, long blockAlignment, int capacity, AllocatorOptions options) {
        this.name = name;
        this.blockSize = blockSize;
        this.blockAlignment = blockAlignment;
        this.blocks = new BlockPool(name, blockSize, blockAlignment, capacity);
        Reclaimer.CLEANER.register(this, blocks::dropped);
        this.guard = options.anyEnabled()
                ? new AllocationGuard("pool '" + name + "'", options, (address, byteSize) -> release(address))
                : null;
    }

    /**
     * Makes a pool of blocks shaped like {@code blockLayout}.
     *
     * @param name        the pool's name, for statistics, meters and messages
     * @param blockLayout the layout every block has room for: its size is the block size, its alignment
     *                    (at least 16) the blocks' alignment
     * @param capacity    the most blocks kept for reuse, at least 1
     * @return a new, empty pool
     * @throws InvalidArgumentException naming the parameter ({@code blockSize} for an empty layout), if the
     *                                  name is blank, the layout empty or the capacity below 1
     * @throws IllegalArgumentException  if one of the system properties of {@link AllocatorOptions#fromSystemProperties()}
     *                                  is invalid
     * @throws NullPointerException     if the name or the layout is {@code null}
     */
    public static PoolAllocator create(String name, MemoryLayout blockLayout, int capacity) {
        return create(name, blockLayout, capacity, AllocatorOptions.fromSystemProperties());
    }

    /**
     * Makes a pool with the given debugging aids; {@link #create(String, MemoryLayout, int)} takes them from
     * the system properties.
     *
     * @param name        the pool's name
     * @param blockLayout the layout every block has room for
     * @param capacity    the most blocks kept for reuse, at least 1
     * @param options     checked mode and leak detection
     * @return a new, empty pool
     * @throws InvalidArgumentException naming the parameter ({@code blockSize} for an empty layout), if the
     *                                  name is blank, the layout empty or the capacity below 1
     * @throws NullPointerException     if an argument is {@code null}
     */
    public static PoolAllocator create(String name, MemoryLayout blockLayout, int capacity, AllocatorOptions options) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(blockLayout, "blockLayout");
        checkArguments(name, blockLayout.byteSize(), blockLayout.byteAlignment(), capacity);
        return new PoolAllocator(name, blockLayout.byteSize(),
                Math.max(blockLayout.byteAlignment(), NativeMemory.MALLOC_ALIGNMENT), capacity, options);
    }

    /**
     * The checks of {@link #create}, without making a pool: for a configuration that is to be known valid
     * before any pool is made. A layout's size and alignment are checked as {@code blockSize} and
     * {@code blockAlignment}.
     *
     * @param name           the pool's name
     * @param blockSize      the size of every block in bytes, at least 1
     * @param blockAlignment the alignment of every block, a power of two
     * @param capacity       the most blocks kept for reuse, at least 1
     * @throws InvalidArgumentException naming the parameter, if the name is blank or a value out of range
     * @throws NullPointerException     if the name is {@code null}
     */
    public static void checkArguments(String name, long blockSize, long blockAlignment, int capacity) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new InvalidArgumentException("name", null, "must not be blank");
        }
        String owner = "pool '" + name + "'";
        if (blockSize < 1) {
            throw new InvalidArgumentException("blockSize", owner, blockSize, "must be at least 1 byte");
        }
        if (blockAlignment < 1 || Long.bitCount(blockAlignment) != 1) {
            throw new InvalidArgumentException("blockAlignment", owner, blockAlignment, "must be a power of two");
        }
        if (capacity < 1) {
            throw new InvalidArgumentException("capacity", owner, capacity, "must be at least 1");
        }
    }

    /**
     * Fills the pool with new blocks, so that the next allocations are hits.
     *
     * @param count how many blocks to add at most; the pool stops at its capacity
     * @return how many blocks were added
     * @throws IllegalArgumentException if {@code count} is negative
     * @throws IllegalStateException    if the pool is closed
     * @throws OutOfMemoryError         if {@code malloc} fails; the blocks added so far stay
     */
    public int preallocate(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must not be negative, was " + count);
        }
        checkOpen();
        int added = blocks.preallocate(count);
        Reference.reachabilityFence(this);
        return added;
    }

    /**
     * Allocates one block.
     *
     * @return a native segment of {@link #blockSize()} bytes, aligned to the block alignment
     * @throws IllegalStateException if the pool is closed
     * @throws OutOfMemoryError      if the pool is empty and {@code malloc} fails
     */
    public MemorySegment allocate() {
        return handOut(NativeMemory.segment(allocateBlock(), blockSize));
    }

    /**
     * Allocates one block, if the request fits in it.
     *
     * @param byteSize      the segment's size, at most {@link #blockSize()}
     * @param byteAlignment a power of two, at most the block alignment
     * @return a native segment of {@code byteSize} bytes at the start of a block
     * @throws IllegalArgumentException naming both sizes (or alignments) if the request does not fit a
     *                                  block, or if the arguments are malformed
     * @throws IllegalStateException    if the pool is closed
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        Arguments.checkSize(byteSize);
        Arguments.checkAlignment(byteAlignment);
        if (byteSize > blockSize) {
            throw new IllegalArgumentException("pool '" + name + "' has blocks of " + blockSize
                    + " bytes; a request of " + byteSize + " bytes does not fit");
        }
        if (byteAlignment > blockAlignment) {
            throw new IllegalArgumentException("pool '" + name + "' has blocks aligned to " + blockAlignment
                    + " bytes; a request aligned to " + byteAlignment + " bytes does not fit");
        }
        return handOut(NativeMemory.segment(allocateBlock(), byteSize));
    }

    private MemorySegment handOut(MemorySegment segment) {
        if (guard != null) {
            guard.allocated(segment);
        }
        return segment;
    }

    private long allocateBlock() {
        checkOpen();
        long address = blocks.allocate();
        Reference.reachabilityFence(this);
        return address;
    }

    /**
     * Gives a block back: it is kept for reuse while the pool has room (see the class documentation), else
     * freed. Blocks given back after {@link #close()} are freed.
     *
     * @param block a segment this pool handed out, not used afterwards
     * @throws IllegalArgumentException if the segment cannot be a block of this pool: on the Java heap, of an
     *                                  arena or buffer, larger than a block, or not aligned as blocks are
     * @throws NullPointerException     if {@code block} is {@code null}
     */
    public void deallocate(MemorySegment block) {
        Objects.requireNonNull(block, "block");
        long address = block.address();
        if (!block.isNative() || !NativeMemory.isGlobal(block) || block.byteSize() > blockSize
                || address == 0 || (address & (blockAlignment - 1)) != 0) {
            throw new IllegalArgumentException("not a block of pool '" + name + "' (blocks of " + blockSize
                    + " bytes aligned to " + blockAlignment + "): " + block);
        }
        if (guard == null || guard.deallocating(block)) {
            release(address);
        }
        Reference.reachabilityFence(block); // as CachingAllocator.deallocate: not collected while given back
    }

    private void release(long address) {
        blocks.deallocate(address);
        Reference.reachabilityFence(this);
    }

    /**
     * A heap profile of this pool's live blocks, from what leak detection (or checked mode) watches: the
     * allocation sites holding the most live bytes, most first. Empty when neither is on. Each call walks the
     * watched blocks; it is for an operator's view, not for a hot path.
     *
     * @return the sites, with their sampled and estimated bytes
     * @see AllocationSite
     */
    public List<AllocationSite> profile() {
        return guard == null ? List.of() : guard.profile();
    }

    /**
     * @return how many leaked blocks leak detection has reported; 0 when it is off
     */
    public long leaks() {
        return guard == null ? 0 : guard.leaks();
    }

    /**
     * @return the pool's counters now
     */
    public PoolStatistics statistics() {
        return new PoolStatistics(name, blockSize, blocks.capacity(), blocks.hits(), blocks.misses(),
                blocks.frees(), blocks.cachedBlocks());
    }

    /** @return the pool's name */
    public String name() {
        return name;
    }

    /** @return the size of every block, in bytes */
    public long blockSize() {
        return blockSize;
    }

    /** @return the alignment of every block: the layout's, at least 16 */
    public long blockAlignment() {
        return blockAlignment;
    }

    /** @return the most blocks kept for reuse */
    public int capacity() {
        return blocks.capacity();
    }

    /**
     * Frees the cached blocks (other threads' magazines as the class documentation says); later allocations
     * throw, and blocks given back later are freed at once. Closing twice does nothing.
     *
     * @throws WriteAfterFreeException in checked mode, once the pool is closed, if a quarantined block was
     *                                 written to after it was freed
     */
    @Override
    public void close() {
        try {
            if (guard != null) {
                guard.drainQuarantine();
            }
        } finally { // a write after free is reported once the pool is closed
            blocks.close();
        }
    }

    @Override
    public String toString() {
        return "PoolAllocator[" + name + ", " + blockSize + " B x " + capacity() + "]";
    }

    private void checkOpen() {
        if (blocks.isClosed()) {
            blocks.closedSeenByCaller();
            throw new IllegalStateException("pool '" + name + "' is closed");
        }
    }
}
