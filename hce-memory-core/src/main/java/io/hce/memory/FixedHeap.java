package io.hce.memory;

import io.hce.memory.internal.events.NativeEvents;
import io.hce.memory.internal.heap.ShardedHeap;
import io.hce.memory.internal.heap.VictimSink;
import io.hce.memory.internal.platform.DataSizes;
import io.hce.memory.internal.platform.NativeMemory;
import io.hce.memory.internal.platform.Reclaimer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * A fixed-capacity native heap with constant-time allocate and free and eviction, that many threads can
 * share: Cachelot's memory allocator, for caches whose memory budget is a hard limit.
 *
 * <p>The heap takes its whole region from the C allocator once, when it is created, and never grows.
 * Blocks are found in power-of-two size classes split into 32 sub-classes (two bit scans, no search),
 * split when larger than needed, and merged with free neighbours when freed; freed blocks under 16 KiB may
 * first wait whole in a quick list for the next request of their class (glibc's fast bins), and are merged
 * before any request would fail or evict. The region is
 * cut into shards, each with its own lock, so that threads do not queue behind each other. When no free
 * block fits, the {@code OrEvict} methods evict blocks that have not been used lately (CLOCK: a hand sweeps
 * the shard in address order, so its victims merge into room that fits), telling their owner first.
 *
 * <h2>Two ways to hold a block</h2>
 * <ul>
 *   <li><b>Segments</b> ({@link #allocate}, {@link #allocateOrEvict}, {@link #free(MemorySegment)}): a
 *       block is its owner's {@link MemorySegment} until freed or evicted. Nothing stops another thread's
 *       eviction from taking it while the owner uses it, and once taken its memory is handed out again:
 *       use segments where one thread owns the heap, or where the caller's own lock orders eviction and use.</li>
 *   <li><b>Handles</b> ({@link #allocateHandleOrEvict} and friends): a {@code long} that names one
 *       allocation of a block. A handle outlives its block safely: once the block is freed or evicted the
 *       handle is <em>stale</em>, and every method recognises it as such, even after the memory belongs to
 *       another value. {@link #read(long, long, MemorySegment, long, long) read} copies a value out without a
 *       lock or a pin and reports a miss if the block was taken meanwhile; {@link #pin} keeps a block's
 *       memory from being reused until {@link #unpin}; a pinned block is never evicted, and a
 *       {@link #free(long) free} of it is completed by its last unpin. A new block starts pinned by its
 *       creator, who writes it, publishes the handle and unpins it.</li>
 * </ul>
 *
 * <pre>{@code
 * // put: allocate pinned, write, publish, unpin (keyOf: handle -> key, for the eviction callback)
 * long handle = heap.allocateHandleOrEvict(bytes.length, evicted -> {
 *     String victimKey = keyOf.remove(evicted);            // the victim's memory is intact here
 *     if (victimKey != null) index.remove(victimKey, evicted);
 * });
 * heap.write(handle, 0, MemorySegment.ofArray(bytes), 0, bytes.length);
 * keyOf.put(handle, key);
 * Long previous = index.put(key, handle);
 * heap.unpin(handle);
 * if (previous != null && heap.free(previous)) keyOf.remove(previous); // false: eviction took it first
 *
 * // get: an optimistic copy; false means the value was evicted or replaced: a miss
 * Long found = index.get(key);
 * boolean hit = found != null && heap.read(found, 0, MemorySegment.ofArray(buffer), 0, length);
 * }</pre>
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Thread-safe. Allocation, free, pin, unpin and eviction take the lock of one shard, for a bounded
 *       amount of work; {@code read} and {@code touch} take none, and write nothing but a bit in a bitmap.
 *       {@link #verify()}, {@link #statistics()} and {@link #close()} take every shard's lock in turn.</li>
 *   <li>Eviction callbacks run on the allocating thread, under the shard's lock, while the victim's memory is
 *       intact (a handle callback may still {@code read} it). They must not call back into the heap: a call
 *       that needs one of its shard locks is refused with {@link IllegalStateException}. They may use other
 *       heaps.</li>
 *   <li>Good fit: the allocate methods fail, and the {@code OrEvict} methods evict, only when no free block
 *       of any shard fits the request at that moment. The common path is O(1); the search that proves there
 *       is no fit reads one bitmap per shard and walks one size class of the shards that might fit.</li>
 *   <li>{@code free} and {@code touch} of a segment reject, every time and in O(1), a segment of another heap
 *       or allocator, one that is not at a block's start, and a block that is free already (a double free),
 *       as long as its memory has not been handed out again; in checked mode also then.</li>
 *   <li>Every block costs a 16-byte header; requests are rounded to 16 bytes; payloads are 16-byte aligned.
 *       Two bitmaps of 1/128 of the capacity each (block starts, CLOCK's reference bits) are allocated beside
 *       the region.</li>
 *   <li>A heap that becomes unreachable without {@link #close()} (together with all its segments) gives its
 *       region back to the C allocator, through the library's shared {@link Cleaner}.</li>
 * </ul>
 *
 * <h2>Checked mode</h2>
 * With {@code -Dhce.memory.checked=true} (or {@link #create(String, long, int, boolean)}), freed and evicted
 * blocks are filled with a poison byte, and when their memory is handed out again a write after free is
 * reported with the stacks that allocated and freed the damaged block. A stale segment (one whose block was
 * freed or evicted, even if its memory was handed out again) and a double free of a handle are reported
 * with the same stacks.
 */
public final class FixedHeap implements AutoCloseable {

    /** The smallest capacity a heap may have. */
    public static final long MIN_CAPACITY = 4096;

    /** The largest capacity a heap may have (64 GiB): 64 shards of 1 GiB. */
    public static final long MAX_CAPACITY = 64L << 30;

    /** The value of no handle: what {@link #tryAllocateHandle} returns when nothing fits. */
    public static final long NO_HANDLE = 0;

    private final String name;
    private final long capacity;
    /** Eviction sinks: constants, the caller's callback passed beside them, so that an eviction allocates nothing. */
    /** Why a request failed, as exceptions and events say it. */
    private static final String NO_FIT = "no free block";
    private static final String ONLY_PINNED = "nothing left to evict (every other block is pinned)";
    private static final VictimSink ADDRESS_SINK = new VictimSink() {
        @Override
        public void evicted(Object onEvict, long victim, long address, long payload) {
            ((LongConsumer) onEvict).accept(address);
        }

        @Override
        public boolean passesHandles() {
            return false;
        }
    };
    private static final VictimSink HANDLE_SINK = (onEvict, victim, address, payload) -> ((LongConsumer) onEvict).accept(victim);
    private final VictimSink segmentSink; // needs the region: made in the constructor

    private final Arena arena;
    private final MemorySegment region;
    /** {@code region.address()}, which the address calls read without an interface call. */
    private final long regionAddress;
    private final ShardedHeap engine;
    private final Cleaner.Cleanable reclaim;
    private final HeapGuard guard; // null unless checked
    private final AtomicLong failures = new AtomicLong();
    private volatile boolean closed;
    private ShardedHeap.Figures figuresAtClose;

    /** Frees the region; holds only numbers, never the heap or its scope. */
    private record FreeRegion(long address, long byteSize) implements Runnable {
        @Override
        public void run() {
            NativeMemory.free(address, byteSize);
        }
    }

    private FixedHeap(String name, long capacity, int shards, boolean checked) {
        this.name = name;
        this.capacity = capacity;
        long bytes = ShardedHeap.bytesFor(capacity, shards);
        // Regions of a huge page or more are aligned to one and backed by huge pages where the kernel allows: the
        // whole huge pages of the allocation, so the bitmaps too where they fill one (from a heap of about 86 MiB).
        // Headers and bitmap words are touched at random, and 4 KiB pages make each a TLB miss.
        boolean huge = capacity >= NativeMemory.HUGE_PAGE_SIZE;
        long base = NativeMemory.allocate(bytes, huge ? NativeMemory.HUGE_PAGE_SIZE : 4096);
        try {
            NativeEvents.tookNativeMemory("heap", name, bytes);
            if (huge) {
                NativeMemory.adviseHugePages(base, bytes & -NativeMemory.HUGE_PAGE_SIZE);
            }
            this.arena = Arena.ofShared();
            this.region = NativeMemory.segment(base, bytes).reinterpret(arena, null);
            this.regionAddress = base;
            this.segmentSink = new VictimSink() {
                @Override
                public void evicted(Object onEvict, long victim, long address, long payload) {
                    acceptSegment(onEvict, address, payload);
                }

                @Override
                public boolean passesHandles() {
                    return false;
                }
            };
            this.guard = checked ? new HeapGuard(name, base) : null;
            this.engine = new ShardedHeap(name, region, capacity, shards, guard);
        } catch (RuntimeException | Error e) {
            NativeMemory.free(base, bytes);
            throw e;
        }
        // Every segment of the heap holds the region's scope, so it is unreachable only when they all are.
        this.reclaim = Reclaimer.CLEANER.register(region.scope(), new FreeRegion(base, bytes));
    }

    /**
     * Makes a heap, taking its whole region from the C allocator now, with the default shard count (up to 4
     * per processor, each at least 4 MiB) and checked mode as {@code -Dhce.memory.checked} says.
     *
     * @param name     the heap's name, for statistics, meters and messages
     * @param capacity the region's size in bytes, {@link #MIN_CAPACITY} … {@link #MAX_CAPACITY}
     * @return the heap
     * @throws InvalidArgumentException if the name is blank or the capacity out of range
     * @throws IllegalArgumentException  if one of the system properties of {@link AllocatorOptions#fromSystemProperties()}
     *                                  is invalid
     * @throws NullPointerException     if the name is {@code null}
     * @throws OutOfMemoryError         if the C allocator cannot provide the region
     */
    public static FixedHeap create(String name, long capacity) {
        checkArguments(name, capacity);
        return new FixedHeap(name, capacity, defaultShardCount(capacity), AllocatorOptions.fromSystemProperties().checked());
    }

    /**
     * Makes a heap cut into a given number of shards. More shards let more threads allocate at once; each
     * shard is a separate heap for fit, so {@link #maxAllocation()} is about {@code capacity / shards}.
     *
     * @param name     the heap's name
     * @param capacity the region's size in bytes, {@link #MIN_CAPACITY} … {@link #MAX_CAPACITY}
     * @param shards   a power of two from 1 to 64, at least {@code capacity / 1 GiB} and at most {@code capacity / 4096}
     * @param checked  checked mode (see the class documentation)
     * @return the heap
     * @throws InvalidArgumentException naming the parameter, if an argument is out of range
     * @throws NullPointerException     if the name is {@code null}
     * @throws OutOfMemoryError         if the C allocator cannot provide the region
     */
    public static FixedHeap create(String name, long capacity, int shards, boolean checked) {
        checkArguments(name, capacity);
        int fewest = ShardedHeap.minShardCountFor(capacity);
        if (Integer.bitCount(shards) != 1 || shards < fewest || shards > 64 || capacity / shards < MIN_CAPACITY) {
            throw new InvalidArgumentException("shards", "heap '" + name + "'", shards, "must be a power of two from "
                    + fewest + " to " + Math.min(64, Integer.highestOneBit((int) Math.min(64, capacity / MIN_CAPACITY)))
                    + " for a capacity of " + capacity + " bytes");
        }
        return new FixedHeap(name, capacity, shards, checked);
    }

    /**
     * @param capacity a heap's capacity in bytes
     * @return the shard count {@link #create(String, long)} gives a heap of that capacity on this machine: up to
     *         4 per processor, each at least 4 MiB, and at most 1 GiB each; a power of two
     */
    public static int defaultShardCount(long capacity) {
        return ShardedHeap.shardCountFor(capacity, Runtime.getRuntime().availableProcessors());
    }

    /**
     * The checks of {@link #create(String, long)}, without taking any memory: for a configuration of several
     * heaps that is to be known valid before the first region is taken.
     *
     * @param name     the heap's name
     * @param capacity the region's size in bytes, {@link #MIN_CAPACITY} … {@link #MAX_CAPACITY}
     * @throws InvalidArgumentException naming the parameter, if the name is blank or the capacity out of range
     * @throws NullPointerException     if the name is {@code null}
     */
    public static void checkArguments(String name, long capacity) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new InvalidArgumentException("name", null, "must not be blank");
        }
        if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY) {
            throw new InvalidArgumentException("capacity", "heap '" + name + "'", capacity, "must be between "
                    + DataSizes.format(MIN_CAPACITY) + " and " + DataSizes.format(MAX_CAPACITY));
        }
    }

    // ---- segments -----------------------------------------------------------------------------------------

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
        MemorySegment segment = tryAllocate(byteSize);
        if (segment.equals(MemorySegment.NULL)) {
            throw exhausted(byteSize, NO_FIT); // counted by tryAllocate
        }
        return segment;
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
        long handle = allocateInEngine(byteSize, 0);
        if (handle == NO_HANDLE) {
            return MemorySegment.NULL;
        }
        return handedOutSegment(handle, byteSize);
    }

    /**
     * Allocates a block, evicting blocks that have not been used lately when no free block fits. Each victim
     * is passed to {@code onEvict} before its memory is reused, as a segment over its whole block (at least
     * the size it was allocated with), and is then freed: its owner must forget it and must not free it.
     *
     * <p>Victims are found by a shard's CLOCK hand (the shards take turns) sweeping it in address order,
     * passing pinned blocks and giving referenced ones a second chance, so consecutive victims merge; a call
     * evicts about as many bytes as it needs. At worst it looks at every block of every shard twice.
     *
     * @param byteSize the block's size in bytes, 1 … {@link #maxAllocation()}
     * @param onEvict  told of each victim, on this thread, under its shard's lock; it must not call back into
     *                 the heap. If it throws, the victim stays allocated, the heap stays consistent, and the
     *                 exception propagates
     * @return a segment of {@code byteSize} bytes
     * @throws HeapExhaustedException   if the blocks that can be evicted are not enough: the rest are pinned
     * @throws IllegalArgumentException if {@code byteSize} is out of range
     * @throws IllegalStateException    if the heap is closed, or {@code onEvict} called back into it
     */
    public MemorySegment allocateOrEvict(long byteSize, Consumer<MemorySegment> onEvict) {
        Objects.requireNonNull(onEvict, "onEvict");
        checkRequest(byteSize);
        long handle = allocateOrEvictInEngine(byteSize, 0, segmentSink, onEvict);
        return handedOutSegment(handle, byteSize);
    }

    /**
     * Gives a block back: merged with its free neighbours, or kept whole for the next request that fits it.
     *
     * @param block a segment this heap handed out and has not taken back
     * @throws IllegalArgumentException if the segment is not a block of this heap
     * @throws IllegalStateException    if the block is free already (or was evicted), or the heap is closed
     * @throws NullPointerException     if {@code block} is {@code null}
     */
    public void free(MemorySegment block) {
        long offset = checkedOffsetOf(block);
        engine.freeOwned(offset, block.byteSize());
    }

    /**
     * Marks a block as recently used, so that eviction passes it by once more: one bit in a bitmap.
     *
     * @param block a segment this heap handed out and has not taken back
     * @throws IllegalArgumentException if the segment is not a block of this heap
     * @throws IllegalStateException    if the block is free, or the heap is closed
     * @throws NullPointerException     if {@code block} is {@code null}
     */
    public void touch(MemorySegment block) {
        engine.touch(liveHandleOf(block));
    }

    /**
     * Grows a block into a free right neighbour, or shrinks it, in place: Cachelot's {@code try_realloc_inplace}.
     *
     * @param block       a segment this heap handed out and has not taken back
     * @param newByteSize the size wanted, 1 … {@link #maxAllocation()}
     * @return a segment of {@code newByteSize} bytes at the same address, or {@link MemorySegment#NULL} when the
     *         right neighbour is not free or not large enough: the block is then unchanged
     * @throws IllegalArgumentException if the segment is not a block of this heap, or the size out of range
     * @throws IllegalStateException    if the block is free, or the heap is closed
     */
    public MemorySegment tryResize(MemorySegment block, long newByteSize) {
        checkRequest(newByteSize);
        long handle = liveHandleOf(block);
        if (!engine.tryResize(handle, newByteSize)) {
            return MemorySegment.NULL;
        }
        MemorySegment resized = region.asSlice(engine.payloadOffset(handle), newByteSize);
        if (guard != null) {
            guard.replaced(engine.payloadOffset(handle) - 16, resized);
        }
        return resized;
    }

    // ---- addresses ----------------------------------------------------------------------------------------

    /**
     * Allocates a block and returns its address, with no segment made: the segment API for code that keeps
     * addresses (an index of {@code long}s, a native call). The block is the caller's as a segment would be.
     *
     * @param byteSize the block's size in bytes, 1 … {@link #maxAllocation()}
     * @return the payload's address, 16-byte aligned, or 0 when no free block fits
     * @throws IllegalArgumentException if {@code byteSize} is out of range
     * @throws IllegalStateException    if the heap is closed
     */
    public long tryAllocateAddress(long byteSize) {
        checkSize(byteSize); // no checkOpen on the way: a closed heap's shards refuse their locks
        long handle = allocateInEngine(byteSize, 0);
        if (handle == NO_HANDLE) {
            return 0;
        }
        return handedOutAddress(handle);
    }

    /**
     * As {@link #tryAllocateAddress}, throwing when nothing fits.
     *
     * @param byteSize the block's size in bytes, 1 … {@link #maxAllocation()}
     * @return the payload's address, 16-byte aligned
     * @throws HeapExhaustedException   if no free block can hold it; the heap is unchanged
     * @throws IllegalArgumentException if {@code byteSize} is out of range
     * @throws IllegalStateException    if the heap is closed
     */
    public long allocateAddress(long byteSize) {
        long address = tryAllocateAddress(byteSize);
        if (address == 0) {
            throw exhausted(byteSize, NO_FIT); // counted by tryAllocateAddress
        }
        return address;
    }

    /**
     * As {@link #allocateOrEvict}, by address: each victim's payload address is passed to {@code onEvict}.
     *
     * @param byteSize the block's size in bytes, 1 … {@link #maxAllocation()}
     * @param onEvict  told of each victim's payload address, as {@link #allocateOrEvict}'s callback
     * @return the payload's address, 16-byte aligned
     * @throws HeapExhaustedException   if the blocks that can be evicted are not enough: the rest are pinned
     * @throws IllegalArgumentException if {@code byteSize} is out of range
     * @throws IllegalStateException    if the heap is closed, or {@code onEvict} called back into it
     */
    public long allocateAddressOrEvict(long byteSize, LongConsumer onEvict) {
        Objects.requireNonNull(onEvict, "onEvict");
        checkRequest(byteSize);
        long handle = allocateOrEvictInEngine(byteSize, 0, ADDRESS_SINK, onEvict);
        return handedOutAddress(handle);
    }

    /**
     * Gives back a block allocated by address, with the checks of {@link #free(MemorySegment)}.
     *
     * @param address a payload address this heap handed out and has not taken back
     * @throws IllegalArgumentException if there is no block of this heap at {@code address}
     * @throws IllegalStateException    if the block is free already (or was evicted), or the heap is closed
     */
    public void freeAddress(long address) {
        long offset = address - regionAddress; // the engine checks it, and refuses a closed heap
        try {
            engine.freeOwned(offset, 1);
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw refusedFree(e, address, offset);
        }
    }

    /**
     * As {@link #touch(MemorySegment)}, by address.
     *
     * @param address a payload address this heap handed out and has not taken back
     * @throws IllegalArgumentException if there is no block of this heap at {@code address}
     * @throws IllegalStateException    if the block is free, or the heap is closed
     */
    public void touchAddress(long address) {
        checkOpen();
        long offset = address - regionAddress;
        if (offset < 0 || offset >= capacity) {
            throw notABlock(address);
        }
        engine.touch(engine.liveHandleAt(offset, 1));
    }

    // ---- handles ------------------------------------------------------------------------------------------

    /**
     * Allocates a block, pinned by the caller: write it, publish the handle, then {@link #unpin} it.
     *
     * @param byteSize the block's size in bytes, 1 … {@link #maxAllocation()}
     * @return the block's handle, never {@link #NO_HANDLE}
     * @throws HeapExhaustedException   if no free block can hold it; the heap is unchanged
     * @throws IllegalArgumentException if {@code byteSize} is out of range
     * @throws IllegalStateException    if the heap is closed
     */
    public long allocateHandle(long byteSize) {
        long handle = tryAllocateHandle(byteSize);
        if (handle == NO_HANDLE) {
            throw exhausted(byteSize, NO_FIT); // counted by tryAllocateHandle
        }
        return handle;
    }

    /**
     * Allocates a block, pinned by the caller, if one fits.
     *
     * @param byteSize the block's size in bytes, 1 … {@link #maxAllocation()}
     * @return the block's handle, or {@link #NO_HANDLE} when no free block fits
     * @throws IllegalArgumentException if {@code byteSize} is out of range
     * @throws IllegalStateException    if the heap is closed
     */
    public long tryAllocateHandle(long byteSize) {
        checkRequest(byteSize);
        long handle = allocateInEngine(byteSize, 1);
        if (handle == NO_HANDLE) {
            return NO_HANDLE;
        }
        return handle;
    }

    /**
     * Allocates a block, pinned by the caller, evicting unpinned blocks that have not been used lately when no
     * free block fits (as {@link #allocateOrEvict}). Each victim's handle is passed to {@code onEvict} while its
     * memory is intact: the callback may still {@link #read(long, long, MemorySegment, long, long) read} it (to
     * find its key, say), but can no longer pin it.
     *
     * @param byteSize the block's size in bytes, 1 … {@link #maxAllocation()}
     * @param onEvict  told of each victim's handle, on this thread, under its shard's lock; it must not call
     *                 into the heap but to read. If it throws, the victim stays, and the exception propagates
     * @return the block's handle, never {@link #NO_HANDLE}
     * @throws HeapExhaustedException   if the blocks that can be evicted are not enough: the rest are pinned
     * @throws IllegalArgumentException if {@code byteSize} is out of range
     * @throws IllegalStateException    if the heap is closed
     */
    public long allocateHandleOrEvict(long byteSize, LongConsumer onEvict) {
        Objects.requireNonNull(onEvict, "onEvict");
        checkRequest(byteSize);
        long handle = allocateOrEvictInEngine(byteSize, 1, HANDLE_SINK, onEvict);
        return handle;
    }

    /**
     * Pins a block: until {@link #unpin}, its memory is not reused, it is not evicted, and a free of it waits
     * for the last unpin. Takes the block's shard lock for a few stores.
     *
     * @param handle a handle of this heap
     * @return true if the block was live and is now pinned; false if the handle is stale (a miss)
     * @throws IllegalStateException if the heap is closed
     */
    public boolean pin(long handle) {
        checkOpen();
        return engine.pin(handle);
    }

    /**
     * Drops a pin taken by {@link #pin} or by the allocation. The last pin of a freed block frees it.
     *
     * @param handle a handle the caller has pinned
     * @throws IllegalStateException if the handle holds no pin (never pinned, unpinned already, or stale), or
     *                               the heap is closed
     */
    public void unpin(long handle) {
        checkOpen();
        if (!engine.unpin(handle)) {
            throw new IllegalStateException("unpin of a block of heap '" + name + "' that is not pinned: handle 0x"
                    + Long.toHexString(handle) + (guard != null ? guard.describe(handle, engine.payloadOffset(handle) - 16) : ""));
        }
    }

    /**
     * Frees a block: at once if nobody pins it, else when the last pin is dropped. Either way the handle is
     * stale from now on.
     *
     * @param handle a handle of this heap
     * @return true if the block was live; false if the handle is stale (freed or evicted already), changing
     *         nothing: a free that lost a race with eviction is not an error
     * @throws IllegalStateException in checked mode, if the block was freed already by {@code free} (a double
     *                               free), with both stacks; or if the heap is closed
     */
    public boolean free(long handle) {
        checkOpen();
        if (guard == null) {
            return engine.free(handle);
        }
        if (engine.free(handle)) {
            return true; // the engine told the guard, right after deciding
        }
        guard.staleFree(handle);
        return false;
    }

    /**
     * Marks a block as recently used: sets its bit in the reference bitmap, if not set already; no lock.
     *
     * @param handle a handle of this heap
     * @return true if the block is live; false if the handle is stale
     * @throws IllegalStateException if the heap is closed
     */
    public boolean touch(long handle) {
        checkOpen();
        return engine.touch(handle);
    }

    /**
     * Copies bytes out of a block, with no lock and no pin, and marks it recently used. The copy is checked
     * after it is made: if the block was freed or evicted before or during it, the result is false and the
     * bytes in {@code dst} are to be ignored. No lock, no atomic operation, no write to the block.
     *
     * @param handle    a handle of this heap
     * @param offset    where in the block's payload to start
     * @param dst       where to copy to
     * @param dstOffset where in {@code dst}
     * @param length    how many bytes
     * @return true if {@code dst} holds the block's bytes; false if the handle is stale (a miss)
     * @throws IndexOutOfBoundsException if the range is outside the block's payload or {@code dst}
     * @throws IllegalStateException     if the heap is closed
     */
    public boolean read(long handle, long offset, MemorySegment dst, long dstOffset, long length) {
        checkOpen();
        return engine.read(handle, offset, dst, dstOffset, length);
    }

    /**
     * Copies bytes into a block the caller has pinned (its creator, typically, before publishing it).
     *
     * @param handle    a handle the caller has pinned
     * @param offset    where in the block's payload to start
     * @param src       what to copy
     * @param srcOffset where in {@code src}
     * @param length    how many bytes
     * @throws IndexOutOfBoundsException if the range is outside the block's payload or {@code src}
     * @throws IllegalStateException     if the handle is not pinned, or the heap is closed
     */
    public void write(long handle, long offset, MemorySegment src, long srcOffset, long length) {
        long payload = pinnedPayload(handle);
        long capacity = engine.payloadCapacity(handle);
        Objects.checkFromIndexSize(offset, length, capacity);
        MemorySegment.copy(src, srcOffset, region, payload + offset, length);
    }

    /**
     * A segment over the payload of a block the caller has pinned, for code that needs the memory itself (a
     * native call, a view). It stays valid while the pin is held; using it after {@code unpin} is a use after
     * free that nothing can catch.
     *
     * @param handle a handle the caller has pinned
     * @return a segment over the block's whole payload (its size rounded up to 16 bytes)
     * @throws IllegalStateException if the handle is not pinned, or the heap is closed
     */
    public MemorySegment segment(long handle) {
        long payload = pinnedPayload(handle);
        return region.asSlice(payload, engine.payloadCapacity(handle));
    }

    /**
     * @param handle a handle of this heap
     * @return the payload capacity of its block (what it was allocated with, rounded up to 16 bytes), or -1
     *         if the handle is stale
     * @throws IllegalStateException if the heap is closed
     */
    public long capacityOf(long handle) {
        checkOpen();
        return ShardedHeap.isReadable(engine.validState(handle)) ? engine.payloadCapacity(handle) : -1;
    }

    // ---- the whole heap -----------------------------------------------------------------------------------

    /**
     * @return the heap's figures now: each shard's exact when read, under its lock; after {@link #close()}
     *         those of the moment it closed, with no bytes used or free
     */
    public HeapStatistics statistics() {
        ShardedHeap.Figures figures = null;
        if (!closed) {
            try {
                figures = engine.figures();
            } catch (IllegalStateException e) {
                if (!closed) {
                    throw e; // an eviction callback asking: refused like any call into the heap
                }
            }
        }
        if (figures == null) {
            figures = figuresAtClose;
            return new HeapStatistics(name, capacity, 0, 0, 0, figures.allocations(), figures.frees(),
                    failures.get(), figures.evictions());
        }
        return new HeapStatistics(name, capacity, figures.usedBytes(), figures.freeBytes(),
                figures.largestFreePayload(), figures.allocations(), figures.frees(), failures.get(),
                figures.evictions());
    }

    /**
     * Walks the whole heap and checks every invariant: the chain of block headers and left offsets, border
     * blocks, the block-start bitmap, no two adjacent free blocks, every free block in the list of its class
     * and the bitmaps in step with the lists, the state of every used block, and the accounting.
     *
     * @throws IllegalStateException naming the first broken invariant, or if the heap is closed
     */
    public void verify() {
        checkOpen();
        engine.lockAll();
        try {
            checkOpen();
            String broken = engine.verify();
            if (broken != null) {
                throw new IllegalStateException("heap '" + name + "' is inconsistent: " + broken);
            }
        } finally {
            engine.unlockAll();
        }
    }

    /**
     * @return the largest {@code byteSize} that can ever be allocated: the payload of a wholly free shard
     */
    public long maxAllocation() {
        return engine.maxPayload();
    }

    /** @return the number of shards the region is cut into */
    public int shards() {
        return engine.shardCount();
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
     * {@code statistics()}, {@code close()} and the fixed figures ({@code name()}, {@code capacity()},
     * {@code shards()}, {@code maxAllocation()}) throw. Closing twice does nothing. A request
     * that another thread makes meanwhile either completes before the close (and the figures at the close
     * count it) or is refused with an {@code IllegalStateException}.
     *
     * @throws IllegalStateException if another thread is accessing one of the heap's segments right now, or
     *                               an eviction callback calls it; the heap stays open then
     */
    @Override
    public void close() {
        engine.lockAll();
        try {
            if (closed) {
                return;
            }
            ShardedHeap.Figures figures = engine.figuresHeld();
            arena.close(); // throws, leaving the heap open, if the arena cannot close now
            engine.closeHeld(); // before the region is freed: the shards' bitmaps are accessed by address
            figuresAtClose = figures;
            closed = true;
            reclaim.clean();
        } finally {
            engine.unlockAll();
        }
    }

    @Override
    public String toString() {
        return "FixedHeap[" + name + ", " + capacity + " bytes, " + engine.shardCount() + " shards]";
    }

    // ---- internals ----------------------------------------------------------------------------------------

    private MemorySegment handedOutSegment(long handle, long byteSize) {
        MemorySegment segment = region.asSlice(engine.payloadOffset(handle), byteSize);
        if (guard != null) {
            guard.attach(handle, engine.payloadOffset(handle) - 16, segment);
        }
        return segment;
    }

    private long handedOutAddress(long handle) {
        return regionAddress + engine.payloadOffset(handle);
    }

    private IllegalArgumentException notABlock(long address) {
        return new IllegalArgumentException("not a block of heap '" + name + "': address 0x" + Long.toHexString(address));
    }

    /** What a caller of {@link #freeAddress} is told when the engine refuses the free. */
    private RuntimeException refusedFree(RuntimeException refusal, long address, long offset) {
        if (closed) {
            return closedException();
        }
        if (offset < 0 || offset >= capacity) {
            return notABlock(address);
        }
        return guard != null ? guard.explain(refusal, offset - 16) : refusal;
    }

    @SuppressWarnings("unchecked")
    private void acceptSegment(Object onEvict, long address, long payload) {
        ((Consumer<MemorySegment>) onEvict).accept(region.asSlice(address - regionAddress, payload));
    }

    /** @return the handle of the live block {@code block} is the segment of, checked as far as the mode allows */
    private long liveHandleOf(MemorySegment block) {
        long offset = checkedOffsetOf(block);
        try {
            return engine.liveHandleAt(offset, block.byteSize());
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw guard != null ? guard.explain(e, offset - 16) : e;
        }
    }

    /**
     * @return the region offset of a segment of this heap; in checked mode, once it is checked to be the
     *         segment handed out for the live block there
     */
    private long checkedOffsetOf(MemorySegment block) {
        Objects.requireNonNull(block, "block");
        if (!block.isNative() || block.scope() != region.scope()) {
            throw new IllegalArgumentException("not a block of heap '" + name + "': " + block);
        }
        checkOpen();
        long offset = block.address() - regionAddress;
        if (guard != null) {
            guard.checkSegment(offset - 16, block);
            try {
                engine.liveHandleAt(offset, block.byteSize());
            } catch (IllegalStateException | IllegalArgumentException e) {
                throw guard.explain(e, offset - 16);
            }
        }
        return offset;
    }

    private long pinnedPayload(long handle) {
        checkOpen();
        long state = engine.validState(handle);
        if (ShardedHeap.pins(state) == 0) {
            throw new IllegalStateException("a block of heap '" + name + "' must be pinned to be written or viewed:"
                    + " handle 0x" + Long.toHexString(handle) + (state == 0 ? " is stale" : " holds no pin"));
        }
        return engine.payloadOffset(handle);
    }

    /**
     * The engine's allocation, a failure counted and recorded.
     *
     * @return the handle, or {@link #NO_HANDLE}
     * @throws IllegalStateException if the heap is closed: refused by a shard's lock, or found after a failure,
     *                               since a request that its hints pass by every shard takes no lock
     */
    private long allocateInEngine(long byteSize, long pins) {
        long handle = engine.allocate(byteSize, pins);
        if (handle == NO_HANDLE) {
            checkOpen();
            failed(byteSize, NO_FIT);
        }
        return handle;
    }

    /**
     * The engine's allocation with eviction, recorded as one event when a recording asks for evictions.
     *
     * @return the new block's handle
     * @throws HeapExhaustedException if only pinned blocks were left to evict
     */
    private long allocateOrEvictInEngine(long byteSize, long pins, VictimSink sink, Object onEvict) {
        NativeEvents.EvictionRecording recording = NativeEvents.beginEvictions();
        long handle;
        if (recording == null) {
            handle = engine.allocateOrEvict(byteSize, pins, sink, onEvict);
        } else {
            try {
                handle = engine.allocateOrEvict(byteSize, pins, new VictimSink() {
                    @Override
                    public void evicted(Object listener, long victim, long address, long capacity) {
                        recording.evicted(capacity);
                        sink.evicted(listener, victim, address, capacity);
                    }

                    @Override
                    public boolean passesHandles() {
                        return sink.passesHandles();
                    }
                }, onEvict);
            } finally {
                recording.end(name, byteSize);
            }
        }
        if (handle == NO_HANDLE) {
            failed(byteSize, ONLY_PINNED);
            throw exhausted(byteSize, ONLY_PINNED);
        }
        return handle;
    }

    private void failed(long byteSize, String reason) {
        failures.incrementAndGet();
        NativeEvents.heapAllocationFailed(name, byteSize, reason);
    }

    private HeapExhaustedException exhausted(long byteSize, String why) {
        HeapStatistics now = statistics();
        return new HeapExhaustedException("heap '" + name + "' has " + why + " for " + byteSize + " bytes ("
                + now.freeBytes() + " bytes free, largest free block " + now.largestFreeBlock() + " bytes)", byteSize);
    }

    private void checkRequest(long byteSize) {
        checkSize(byteSize);
        checkOpen();
    }

    private void checkSize(long byteSize) {
        if (Long.compareUnsigned(byteSize - 1, engine.maxPayload()) >= 0) { // 1 ... maxPayload, one compare
            throw new IllegalArgumentException("byteSize for heap '" + name + "' must be between 1 and its"
                    + " maxAllocation() " + engine.maxPayload() + ", was " + byteSize);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw closedException();
        }
    }

    private IllegalStateException closedException() {
        return engine.closedException();
    }
}
