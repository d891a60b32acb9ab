package io.hce.memory;

import io.hce.memory.internal.cache.SizeClasses;
import io.hce.memory.internal.cache.ThreadCaches;
import io.hce.memory.internal.platform.NativeMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.ref.Reference;
import java.util.List;
import java.util.Objects;

/**
 * A thread-caching native allocator: hce's {@code hce::memory::cache} per thread, behind the JDK's
 * {@link SegmentAllocator}.
 *
 * <p>Each platform thread keeps freed blocks in power-of-two (or {@linkplain CacheInfo custom}) buckets
 * and hands them out again, so most allocations never reach {@code malloc}. A bucket keeps blocks up to
 * its byte limit; past it, blocks move to a depot shared by the allocator's threads, and past that they
 * are freed. Blocks freed on another thread than the one that allocated them come back through the depot,
 * so a producer/consumer pair runs on cached blocks too. Virtual threads share a few caches instead of
 * each getting one. Requests larger than the largest bucket go to {@code malloc} and {@code free} directly.
 *
 * <pre>{@code
 * CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults());
 * MemorySegment block = allocator.allocate(ValueLayout.JAVA_LONG, 16); // SegmentAllocator's methods work
 * block.setAtIndex(ValueLayout.JAVA_LONG, 0, 42);
 * allocator.deallocate(block);                                        // back to this thread's cache
 * }</pre>
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Segments are native, in the global scope, of exactly the requested size, aligned as requested
 *       (any power of two) and at least to 16 bytes. A zero size gives an empty segment that takes no
 *       memory.</li>
 *   <li>Every segment must be given back with {@link #deallocate}, once, to this allocator, from any thread
 *       (and every address of {@link #allocateAddress} with {@link #deallocateAddress}). Using a block after
 *       giving it back is undefined: its memory may belong to someone else.</li>
 *   <li>All methods are thread-safe. Memory cached by a platform thread goes back to the system when the
 *       thread ends (once it is collected), or on {@link #trim()}; everything cached goes back when the
 *       allocator itself becomes unreachable.</li>
 * </ul>
 */
public final class CachingAllocator implements SegmentAllocator {

    private final CacheInfo info;
    private final AllocatorOptions options;
    private final SizeClasses sizes;
    private final ThreadCaches caches;
    private final AllocationGuard guard; // null unless checked mode or leak detection is on

    private CachingAllocator(CacheInfo info, AllocatorOptions options) {
        this.info = info;
        this.options = options;
        this.caches = ThreadCaches.create(info, this, toString()); // toString() needs only info and options
        this.sizes = caches.sizes();
        this.guard = options.anyEnabled()
                ? new AllocationGuard(toString(), options, (address, byteSize) -> deallocateBlock(address, byteSize))
                : null;
    }

    /**
     * Makes an allocator with its own caches, with checked mode and leak detection as the system properties
     * {@value AllocatorOptions#CHECKED_PROPERTY} and {@value AllocatorOptions#LEAK_DETECTION_PROPERTY} say
     * (off by default).
     *
     * @param info the buckets; {@link CacheInfo#defaults()} for hce's
     * @return a new allocator
     * @throws NullPointerException     if {@code info} is {@code null}
     * @throws IllegalArgumentException if one of the system properties is invalid
     */
    public static CachingAllocator create(CacheInfo info) {
        return create(info, AllocatorOptions.fromSystemProperties());
    }

    /**
     * Makes an allocator with its own caches and the given debugging aids.
     *
     * @param info    the buckets
     * @param options checked mode and leak detection
     * @return a new allocator
     * @throws NullPointerException if an argument is {@code null}
     */
    public static CachingAllocator create(CacheInfo info, AllocatorOptions options) {
        return new CachingAllocator(Objects.requireNonNull(info, "info"), Objects.requireNonNull(options, "options"));
    }

    /**
     * Allocates a block from the calling thread's cache, or from {@code malloc} when it has none to give.
     *
     * @param byteSize      the segment's size in bytes; 0 gives an empty segment
     * @param byteAlignment the alignment of its address, a power of two
     * @return a native segment of {@code byteSize} bytes, in the global scope
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is not a
     *                                  power of two
     * @throws OutOfMemoryError         if {@code malloc} fails; nothing has changed then
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        Arguments.checkSize(byteSize);
        Arguments.checkAlignment(byteAlignment);
        MemorySegment segment = NativeMemory.segment(allocateBlock(byteSize, byteAlignment), byteSize);
        if (guard != null) {
            guard.allocated(segment);
        }
        return segment;
    }

    /**
     * Allocates a block like {@link #allocate(long, long)} and returns its address, without making a
     * {@link MemorySegment}: for code that passes pointers to native functions as {@code long}s, and for
     * hand-offs between threads at rates where the segment object is the cost (each one is a new object
     * that the consuming thread must read, and the garbage collector must see).
     *
     * <p>Give the block back with {@link #deallocateAddress} and the same size (or with {@link #deallocate}
     * of a segment of that address and size). Checked mode checks such blocks as it checks segments; leak
     * detection cannot watch them, as there is no object whose collection would show the leak. Blocks from
     * {@link #allocate(long, long)} go back with {@link #deallocate}: under leak detection their segment is
     * watched, and giving them back by address after the segment is gone would be reported as a leak.
     *
     * @param byteSize      the block's usable size in bytes; 0 gives an aligned address that takes no memory
     * @param byteAlignment the alignment of the address, a power of two
     * @return the block's address, never 0
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is not a
     *                                  power of two
     * @throws OutOfMemoryError         if {@code malloc} fails; nothing has changed then
     */
    public long allocateAddress(long byteSize, long byteAlignment) {
        Arguments.checkSize(byteSize);
        Arguments.checkAlignment(byteAlignment);
        long address = allocateBlock(byteSize, byteAlignment);
        if (guard != null) {
            guard.allocated(address, byteSize, null);
        }
        return address;
    }

    /**
     * Allocates a block of at least 16-byte alignment and returns its address: {@link #allocateAddress(long, long)}
     * with an alignment of 1.
     *
     * @param byteSize the block's usable size in bytes
     * @return the block's address, never 0
     * @throws IllegalArgumentException if {@code byteSize} is negative
     * @throws OutOfMemoryError         if {@code malloc} fails
     */
    public long allocateAddress(long byteSize) {
        return allocateAddress(byteSize, 1);
    }

    /**
     * The address of a new block, for arguments already checked; for a zero size, an aligned address that
     * takes no memory.
     */
    long allocateBlock(long byteSize, long byteAlignment) {
        if (byteSize == 0) {
            return Math.max(byteAlignment, NativeMemory.MALLOC_ALIGNMENT);
        }
        long address = caches.allocate(sizes.bucketOf(byteSize), byteSize, byteAlignment);
        Reference.reachabilityFence(this);
        return address;
    }

    /**
     * Gives a segment back: it goes into the calling thread's cache, or to {@code free()} when the caches
     * are full. The segment must not be used afterwards.
     *
     * @param segment a segment this allocator returned, of the size it had then
     * @throws NullPointerException     if {@code segment} is {@code null}
     * @throws IllegalArgumentException if the segment cannot be a block of this allocator: a heap segment,
     *                                  one of a confined, shared or automatic {@code Arena} or a buffer, or one
     *                                  whose address does not have the alignment of the blocks of its size;
     *                                  nothing changes when it throws. Normal mode cannot see more: a segment
     *                                  of {@code Arena.global()} (or {@code MemorySegment.ofAddress}) has the
     *                                  global scope, as this allocator's own, and an aligned one is taken, to
     *                                  be freed by {@code free()} later. Checked mode knows every live block
     *                                  and rejects it, as it rejects a double free, a slice and a resized segment
     */
    public void deallocate(MemorySegment segment) {
        Objects.requireNonNull(segment, "segment");
        long byteSize = segment.byteSize();
        long address = segment.address();
        if (!NativeMemory.isGlobal(segment)) { // heap segments, arenas' and buffers' are not global
            throw new IllegalArgumentException("not a segment of this allocator: " + describe(address, byteSize) + " is "
                    + (!segment.isNative() ? "on the Java heap" : segment.scope().isAlive()
                    ? "bound to an arena or a buffer" : "bound to an arena that is closed: it was freed with it"));
        }
        release(address, byteSize);
        // Leak detection watches the segment: collected before the guard has taken the block back, it would be
        // reported as a leak by a call that is giving it back. The caller's last use may be this call.
        Reference.reachabilityFence(segment);
    }

    /**
     * Gives back a block of {@link #allocateAddress}: as {@link #deallocate}, by address and size.
     *
     * <p>Only addresses this allocator handed out: unlike {@link #deallocate}, which turns away segments of
     * arenas and buffers by their scope, an address carries nothing to check but its alignment, so the
     * address of an arena's block (a {@link #newArena()} one included) is taken and handed out twice.
     * Checked mode catches that. A size of 0 gives nothing back, as a zero-size allocation took nothing;
     * checked mode reports a live block given back with size 0.
     *
     * @param address  the block's address
     * @param byteSize the size it was allocated with
     * @throws IllegalArgumentException if {@code byteSize} is negative, or if the address cannot be a block
     *                                  of that size (it does not have the alignment of the blocks of its
     *                                  size); nothing changes when it throws
     */
    public void deallocateAddress(long address, long byteSize) {
        Arguments.checkSize(byteSize);
        release(address, byteSize);
    }

    private void release(long address, long byteSize) {
        if (guard != null && !guard.deallocating(address, byteSize)) {
            return; // in quarantine
        }
        if (byteSize == 0) {
            return; // empty blocks take no memory
        }
        int bucket = sizes.bucketOf(byteSize);
        long alignmentMask = sizes.alignmentMask(bucket);
        if (address == 0 || (address & alignmentMask) != 0) {
            throw new IllegalArgumentException("not a segment of this allocator: " + describe(address, byteSize)
                    + " is not aligned to " + (alignmentMask + 1) + " bytes, as every block of its size is");
        }
        caches.deallocate(bucket, address, byteSize);
        Reference.reachabilityFence(this);
    }

    /** Gives back a block of {@link #allocateBlock}, known to be one. */
    void deallocateBlock(long address, long byteSize) {
        if (byteSize != 0) {
            caches.deallocate(sizes.bucketOf(byteSize), address, byteSize);
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Opens a confined arena whose allocations come from the calling thread's cache and all go back to it
     * when the arena is closed: hce's {@code hce::allocator<T>}, for every JDK API that takes an
     * {@link Arena} or a {@link SegmentAllocator}.
     *
     * <pre>{@code
     * try (Arena arena = allocator.newArena()) {
     *     MemorySegment name = arena.allocateFrom("hce");
     *     MemorySegment values = arena.allocate(ValueLayout.JAVA_LONG, 100);
     *     // ...
     * } // both blocks are back in this thread's cache
     * }</pre>
     *
     * It keeps the JDK's {@code Arena} contract: only the thread that opened it may allocate from it, close
     * it or access its segments ({@link WrongThreadException} otherwise); after {@code close()} its
     * segments throw {@link IllegalStateException} on access, and closing again or allocating throws too.
     * Unlike the JDK's arenas it does not zero the memory it hands out, as {@code malloc} does not.
     *
     * @return a new arena, owned by the calling thread
     */
    public Arena newArena() {
        return new CachingArena(this);
    }

    /**
     * Frees the blocks the calling thread's cache holds, those in the shared depots, those of the stripes that
     * virtual threads share (so a trim from a virtual thread frees what virtual threads cached), and, in checked
     * mode, those in quarantine. Other platform threads' caches stay as they are.
     *
     * @throws WriteAfterFreeException in checked mode, after all of the above is done, if a quarantined block
     *                                 was written to after it was freed
     */
    public void trim() {
        try {
            if (guard != null) {
                guard.drainQuarantine();
            }
        } finally { // a write after free is reported once the trim is done
            caches.trim();
            Reference.reachabilityFence(this);
        }
    }

    /**
     * @return the counters of every bucket, summed over all threads, live and ended
     */
    public CacheStatistics statistics() {
        return caches.statistics();
    }

    /**
     * A heap profile of this allocator's live blocks, from what leak detection (or checked mode) watches: the
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
     * @return the debugging aids this allocator was made with
     */
    public AllocatorOptions options() {
        return options;
    }

    /**
     * @return the bucket layout this allocator was made with
     */
    public CacheInfo info() {
        return info;
    }

    /**
     * An upper bound of what this allocator may cache, for capacity planning: each platform thread that
     * uses it may cache up to the sum of the byte limits, as may each of the stripes virtual threads share,
     * and the shared depots hold a bounded amount more.
     *
     * @param platformThreads how many platform threads use the allocator
     * @return the most bytes that can be cached at once
     */
    public long maxCachedBytes(int platformThreads) {
        long perCache = 0;
        for (int b = 0; b < sizes.bucketCount(); b++) {
            perCache += sizes.capacity(b) * sizes.nativeSize(b);
        }
        return perCache * ((long) platformThreads + caches.stripeCount()) + caches.maxDepotBytes();
    }

    @Override
    public String toString() {
        return "CachingAllocator[" + info.buckets().size() + " buckets, " + info.buckets().getFirst().blockSize()
                + " B … " + info.maxBlockSize() + " B" + (options.checked() ? ", checked" : "") + "]";
    }

    private static String describe(long address, long byteSize) {
        return "segment of " + byteSize + " bytes at 0x" + Long.toHexString(address);
    }
}
