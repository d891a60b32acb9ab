package io.hce.memory;

import io.hce.memory.internal.heap.TlsfHeap;
import io.hce.memory.internal.platform.NativeMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A fixed-capacity native heap with constant-time allocate and free, and least-recently-used eviction:
 * Cachelot's memory allocator, for caches whose memory budget is a hard limit.
 *
 * <p>The heap takes its whole region from the C allocator once, when it is created, and never grows.
 * Blocks are found in power-of-two size classes split into 32 sub-classes (two bit scans, no search),
 * split when larger than needed, and merged with free neighbours as soon as they are freed. When the heap
 * is full, {@link #allocateOrEvict} frees the least recently used blocks, telling their owner first,
 * until the request fits.
 *
 * <pre>{@code
 * try (FixedHeap heap = FixedHeap.create("items", 64 << 20)) {
 *     MemorySegment value = heap.allocateOrEvict(bytes.length, victim -> index.removeByAddress(victim.address()));
 *     MemorySegment.copy(bytes, 0, value, ValueLayout.JAVA_BYTE, 0, bytes.length);
 *     heap.touch(value);   // on each read: keep it from eviction
 *     heap.free(value);    // when the owner removes it
 * }
 * }</pre>
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Thread-safe: one lock serializes every operation (each is O(1), but for {@link #verify()} and
 *       {@link #statistics()}, which walk). Eviction callbacks run under that lock, on the allocating
 *       thread, and must not call back into the heap.</li>
 *   <li>Segments are 16-byte aligned and belong to the heap's region: once the heap is closed, using one
 *       throws {@link IllegalStateException}.</li>
 *   <li>{@code free} and {@code touch} reject, every time and in O(1), a segment of another heap or
 *       allocator, one that is not at a block's start, and a block that is free already (a double free),
 *       as long as its memory has not been handed out again.</li>
 *   <li>Every block costs a 16-byte header; requests are rounded to 16 bytes.</li>
 * </ul>
 */
public final class FixedHeap implements AutoCloseable {

    /** The smallest capacity a heap may have. */
    public static final long MIN_CAPACITY = 4096;

    /** The largest capacity a heap may have (64 GiB): its blocks link to each other by 32-bit granule numbers. */
    public static final long MAX_CAPACITY = 64L << 30;

    private final String name;
    private final long capacity;
    private final long base;
    private final Arena arena;
    private final MemorySegment region;
    private final TlsfHeap heap;
    private final long maxAllocation;
    private final Object lock = new Object();

    // guarded by lock
    private boolean closed;
    private boolean evicting;
    private long allocations;
    private long frees;
    private long failures;
    private long evictions;

    private FixedHeap(String name, long capacity) {
        this.name = name;
        this.capacity = capacity;
        // Regions of a huge page or more are aligned to one and backed by huge pages where the kernel allows:
        // a heap's headers are touched at random, and 4 KiB pages make each touch a TLB miss.
        boolean huge = capacity >= NativeMemory.HUGE_PAGE_SIZE;
        this.base = NativeMemory.allocate(capacity, huge ? NativeMemory.HUGE_PAGE_SIZE : 4096);
        if (huge) {
            NativeMemory.adviseHugePages(base, capacity);
        }
        this.arena = Arena.ofShared();
        this.region = NativeMemory.segment(base, capacity)
                .reinterpret(arena, ignored -> NativeMemory.free(base, capacity));
        this.heap = new TlsfHeap(NativeMemory.segment(base, capacity));
        this.maxAllocation = TlsfHeap.maxPayloadFor(capacity);
    }

    /**
     * Makes a heap, taking its whole region from the C allocator now.
     *
     * @param name     the heap's name, for statistics, meters and messages
     * @param capacity the region's size in bytes, {@link #MIN_CAPACITY} … {@link #MAX_CAPACITY}; beyond 2 GiB
     *                 the region is cut into equal chunks of at most 2 GiB, each with its own border blocks
     * @return the heap
     * @throws IllegalArgumentException if the name is blank or the capacity out of range
     * @throws NullPointerException     if the name is {@code null}
     * @throws OutOfMemoryError         if the C allocator cannot provide the region
     */
    public static FixedHeap create(String name, long capacity) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank");
        }
        if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity of heap '" + name + "' must be between " + MIN_CAPACITY
                    + " and " + MAX_CAPACITY + " bytes, was " + capacity);
        }
        return new FixedHeap(name, capacity);
    }

    /**
     * Allocates a block.
     *
     * @param byteSize the block's size in bytes, 1 … {@link #maxAllocation()}
     * @return a segment of {@code byteSize} bytes, 16-byte aligned
     * @throws HeapExhaustedException   if no free block can hold it; the heap is unchanged
     * @throws IllegalArgumentException if {@code byteSize} is out of range
     * @throws IllegalStateException    if the heap is closed
     */
    public MemorySegment allocate(long byteSize) {
        synchronized (lock) {
            MemorySegment segment = tryAllocate(byteSize);
            if (segment.equals(MemorySegment.NULL)) {
                throw new HeapExhaustedException("heap '" + name + "' has no free block for " + byteSize
                        + " bytes (" + heap.freeBytes() + " bytes free, largest free block "
                        + heap.largestFreePayload() + " bytes)", byteSize);
            }
            return segment;
        }
    }

    /**
     * Allocates a block if one fits.
     *
     * @param byteSize the block's size in bytes, 1 … {@link #maxAllocation()}
     * @return a segment of {@code byteSize} bytes, or {@link MemorySegment#NULL} when no free block fits
     * @throws IllegalArgumentException if {@code byteSize} is out of range
     * @throws IllegalStateException    if the heap is closed
     */
    public MemorySegment tryAllocate(long byteSize) {
        checkRequest(byteSize);
        synchronized (lock) {
            checkUsable();
            long block = heap.allocate(byteSize);
            if (block < 0) {
                failures++;
                return MemorySegment.NULL;
            }
            return handOut(block, byteSize);
        }
    }

    /**
     * Allocates a block, evicting least recently used blocks until it fits. Each victim is passed to
     * {@code onEvict} before its memory is reused, as a segment over its whole block (at least the size it
     * was allocated with), and is then freed: its owner must forget it and must not free it.
     *
     * <p>At worst every used block is evicted (freed blocks need not be adjacent; only a wholly free chunk
     * is sure to fit the largest request), but each eviction is O(1), and a block is evicted at most once
     * per allocation of it. For {@code byteSize <= maxAllocation()} the call always succeeds.
     *
     * @param byteSize the block's size in bytes, 1 … {@link #maxAllocation()}
     * @param onEvict  told of each victim, on this thread, under the heap's lock; it must not call back into
     *                 the heap. If it throws, the victim stays allocated, the heap stays consistent, and the
     *                 exception propagates
     * @return a segment of {@code byteSize} bytes
     * @throws IllegalArgumentException if {@code byteSize} is out of range
     * @throws IllegalStateException    if the heap is closed, or {@code onEvict} called back into it
     */
    public MemorySegment allocateOrEvict(long byteSize, Consumer<MemorySegment> onEvict) {
        Objects.requireNonNull(onEvict, "onEvict");
        checkRequest(byteSize);
        synchronized (lock) {
            checkUsable();
            long block;
            while ((block = heap.allocate(byteSize)) < 0) {
                long victim = heap.leastRecentlyUsed();
                if (victim < 0) { // cannot happen for byteSize <= maxAllocation: an empty heap fits it
                    throw new IllegalStateException("heap '" + name + "' has nothing left to evict for " + byteSize
                            + " bytes: " + heap.verify());
                }
                evicting = true;
                try {
                    onEvict.accept(region.asSlice(victim + TlsfHeap.HEADER_LENGTH, heap.payloadCapacity(victim)));
                } finally {
                    evicting = false;
                }
                heap.free(victim);
                evictions++;
            }
            return handOut(block, byteSize);
        }
    }

    /**
     * Gives a block back; it is merged with its free neighbours at once.
     *
     * @param block a segment this heap handed out and has not taken back
     * @throws IllegalArgumentException if the segment is not a block of this heap
     * @throws IllegalStateException    if the block is free already, or the heap is closed
     * @throws NullPointerException     if {@code block} is {@code null}
     */
    public void free(MemorySegment block) {
        synchronized (lock) {
            heap.free(usedBlock(block));
            frees++;
        }
    }

    /**
     * Marks a block as the most recently used, so that eviction takes it last.
     *
     * @param block a segment this heap handed out and has not taken back
     * @throws IllegalArgumentException if the segment is not a block of this heap
     * @throws IllegalStateException    if the block is free, or the heap is closed
     * @throws NullPointerException     if {@code block} is {@code null}
     */
    public void touch(MemorySegment block) {
        synchronized (lock) {
            heap.touch(usedBlock(block));
        }
    }

    /**
     * @return the heap's figures now; after {@link #close()} its counters, with no bytes used or free
     */
    public HeapStatistics statistics() {
        synchronized (lock) {
            if (closed) {
                return new HeapStatistics(name, capacity, 0, 0, 0, allocations, frees, failures, evictions);
            }
            return new HeapStatistics(name, capacity, heap.usedBytes(), heap.freeBytes(), heap.largestFreePayload(),
                    allocations, frees, failures, evictions);
        }
    }

    /**
     * Walks the whole heap and checks every invariant: the chain of block headers and left offsets, border
     * blocks, no two adjacent free blocks, every free block in the list of its class and the bitmaps in step
     * with the lists, the LRU list holding exactly the used blocks, and the accounting.
     *
     * @throws IllegalStateException naming the first broken invariant, or if the heap is closed
     */
    public void verify() {
        synchronized (lock) {
            checkUsable();
            String broken = heap.verify();
            if (broken != null) {
                throw new IllegalStateException("heap '" + name + "' is inconsistent: " + broken);
            }
        }
    }

    /**
     * @return the largest {@code byteSize} that can ever be allocated: the payload of a wholly free chunk
     */
    public long maxAllocation() {
        return maxAllocation;
    }

    /** @return the heap's name */
    public String name() {
        return name;
    }

    /** @return the size of the heap's region, in bytes */
    public long capacity() {
        return capacity;
    }

    /**
     * Gives the region back to the C allocator. Segments of the heap become unusable; further calls but
     * {@code statistics()}, {@code name()} and {@code close()} throw. Closing twice does nothing.
     *
     * @throws IllegalStateException if another thread is accessing one of the heap's segments right now;
     *                               the heap stays open then
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            checkNotInCallback();
            arena.close();
            closed = true;
        }
    }

    @Override
    public String toString() {
        return "FixedHeap[" + name + ", " + capacity + " bytes]";
    }

    private MemorySegment handOut(long block, long byteSize) {
        allocations++;
        return region.asSlice(block + TlsfHeap.HEADER_LENGTH, byteSize);
    }

    private void checkRequest(long byteSize) {
        if (byteSize <= 0 || byteSize > maxAllocation) {
            throw new IllegalArgumentException("byteSize for heap '" + name + "' must be between 1 and its"
                    + " maxAllocation() " + maxAllocation + ", was " + byteSize);
        }
    }

    /** @return the header offset of {@code block}, once it is checked to be a live block of this heap */
    private long usedBlock(MemorySegment block) {
        Objects.requireNonNull(block, "block");
        if (!block.isNative() || block.scope() != region.scope()) {
            throw new IllegalArgumentException("not a block of heap '" + name + "': " + block);
        }
        checkUsable();
        long offset = block.address() - base - TlsfHeap.HEADER_LENGTH;
        heap.checkUsedBlock(offset, block.byteSize());
        return offset;
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("heap '" + name + "' is closed");
        }
        checkNotInCallback();
    }

    private void checkNotInCallback() {
        if (evicting) {
            throw new IllegalStateException("an eviction callback of heap '" + name + "' must not call back into it");
        }
    }
}
