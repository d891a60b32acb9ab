package io.hce.memory.internal.cache;

import io.hce.memory.BucketCounter;
import io.hce.memory.internal.concurrent.FieldHandles;
import io.hce.memory.internal.concurrent.ThreadOwned;
import io.hce.memory.internal.events.NativeEvents;
import io.hce.memory.internal.platform.NativeMemory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The cache of one platform thread (or one stripe shared by virtual threads): hce's
 * {@code hce::memory::cache}, one {@link BlockStack} per bucket.
 *
 * <h2>Algorithm</h2>
 * <ul>
 *   <li><b>Allocate</b>: pop the bucket's stack (a <em>hit</em>). When it is empty, take a batch from the
 *       bucket's {@link TransferDepot} (also a hit); when that is empty too, call {@code malloc} (a
 *       <em>miss</em>).</li>
 *   <li><b>Deallocate</b>: push onto the bucket's stack. When it is at its capacity (the bucket's byte
 *       limit), move the top batch to the depot first; when the depot is full too, {@code free()} the block
 *       (counted in {@code frees}).</li>
 *   <li>Requests larger than every bucket go to {@code malloc}/{@code free} directly, counted apart.</li>
 * </ul>
 * The fast paths, a pop or a push, touch only this thread's memory: no atomics, no reference stores, no
 * allocation. Everything else is in {@code *Slow} methods, out of the way of inlining.
 *
 * <p>Counters are single-writer plain fields (the package documentation says why that is safe);
 * {@code reservedBytes} is this cache's share of the allocator's {@code malloc}ed bytes: a block
 * {@code malloc}ed here and freed by another cache counts +n here and -n there, so the sum is exact.
 */
final class ThreadCache extends ThreadOwned {

    private static final VarHandle RESERVED_BYTES = FieldHandles.of(MethodHandles.lookup(), "reservedBytes", long.class);
    private static final VarHandle DIRECT_ALLOCATIONS =
            FieldHandles.of(MethodHandles.lookup(), "directAllocations", long.class);
    private static final VarHandle DIRECT_FREES = FieldHandles.of(MethodHandles.lookup(), "directFrees", long.class);

    private static final BucketCounter[] COUNTERS = BucketCounter.values();

    private final BlockStack[] stacks;
    private final String allocatorName; // for the events of the slow paths
    private TransferDepot[] depots; // let go of by discard()
    private long reservedBytes;
    private long directAllocations;
    private long directFrees;

    ThreadCache(long ownerId, SizeClasses sizes, TransferDepot[] depots, String allocatorName) {
        super(ownerId);
        this.depots = depots;
        this.allocatorName = allocatorName;
        this.stacks = new BlockStack[sizes.bucketCount()];
        for (int b = 0; b < stacks.length; b++) {
            stacks[b] = new BlockStack(sizes.alignment(b), sizes.nativeSize(b), sizes.capacity(b));
        }
    }

    /**
     * @param bucket        the request's bucket, or the direct index (the bucket count)
     * @param byteSize      the request's size, at least 1
     * @param byteAlignment a power of two
     * @return the address of a block that fits
     * @throws OutOfMemoryError when {@code malloc} fails; nothing has changed then
     */
    long allocate(int bucket, long byteSize, long byteAlignment) {
        BlockStack[] stacks = this.stacks;
        if (bucket < stacks.length) {
            BlockStack stack = stacks[bucket];
            int count = stack.count - 1;
            if (count >= 0 && byteAlignment <= stack.alignment) {
                stack.count = count;
                stack.hits++;
                return stack.blocks[count];
            }
            return allocateSlow(stack, depots[bucket], byteAlignment);
        }
        return allocateDirect(byteSize, byteAlignment);
    }

    /**
     * @param bucket   the bucket of the block's size, or the direct index
     * @param address  the block
     * @param byteSize the size it was allocated with
     */
    void deallocate(int bucket, long address, long byteSize) {
        BlockStack[] stacks = this.stacks;
        if (bucket < stacks.length) {
            BlockStack stack = stacks[bucket];
            int count = stack.count;
            long[] blocks = stack.blocks;
            if (count < blocks.length) {
                blocks[count] = address;
                stack.count = count + 1;
                return;
            }
            deallocateSlow(stack, depots[bucket], address);
        } else {
            deallocateDirect(address, byteSize);
        }
    }

    private long allocateSlow(BlockStack stack, TransferDepot depot, long byteAlignment) {
        int count = stack.count;
        if (byteAlignment > stack.alignment) {
            // Over-aligned: the top block may happen to be aligned enough (it is when a loop allocates and
            // frees the same over-aligned request); otherwise allocate a block of this bucket's size with the
            // stricter alignment. It joins the bucket when it is freed, like any block.
            if (count > 0 && (stack.blocks[count - 1] & (byteAlignment - 1)) == 0) {
                stack.count = count - 1;
                stack.hits++;
                return stack.blocks[count - 1];
            }
            return miss(stack, byteAlignment);
        }
        if (depot != null) {
            int batch = depot.batchSize();
            if (stack.blocks.length < batch) {
                stack.grow(batch);
            }
            if (depot.take(stack.blocks, 0)) {
                stack.count = batch - 1;
                stack.hits++;
                return stack.blocks[batch - 1];
            }
        }
        return miss(stack, stack.alignment);
    }

    private long miss(BlockStack stack, long byteAlignment) {
        long address = NativeMemory.allocate(stack.nativeSize, byteAlignment);
        stack.misses++;
        reservedBytes += stack.nativeSize;
        NativeEvents.tookNativeMemory("cache", allocatorName, stack.nativeSize);
        return address;
    }

    private void deallocateSlow(BlockStack stack, TransferDepot depot, long address) {
        if (stack.grow(stack.count + 1)) {
            stack.blocks[stack.count++] = address;
            return;
        }
        if (depot != null) {
            int batch = depot.batchSize();
            if (depot.offer(stack.blocks, stack.count - batch)) {
                stack.count -= batch;
                stack.blocks[stack.count++] = address;
                return;
            }
        }
        NativeMemory.free(address, stack.nativeSize);
        stack.frees++;
        reservedBytes -= stack.nativeSize;
    }

    private long allocateDirect(long byteSize, long byteAlignment) {
        long nativeSize = directNativeSize(byteSize);
        long address = NativeMemory.allocate(nativeSize, byteAlignment);
        directAllocations++;
        reservedBytes += nativeSize;
        NativeEvents.tookNativeMemory("direct", allocatorName, nativeSize);
        return address;
    }

    private void deallocateDirect(long address, long byteSize) {
        long nativeSize = directNativeSize(byteSize);
        NativeMemory.free(address, nativeSize);
        directFrees++;
        reservedBytes -= nativeSize;
    }

    /** Like bucket blocks, direct ones are never smaller than 16 bytes, so they are 16-aligned too. */
    private static long directNativeSize(long byteSize) {
        return Math.max(byteSize, NativeMemory.MALLOC_ALIGNMENT);
    }

    /**
     * Frees every cached block: the owner's {@code trim()}, or the end of the owner.
     *
     * @return the bytes given back to the C allocator
     */
    long release() {
        long released = 0;
        for (BlockStack stack : stacks) {
            for (int i = stack.count - 1; i >= 0; i--) {
                NativeMemory.free(stack.blocks[i], stack.nativeSize);
                stack.count = i;
                reservedBytes -= stack.nativeSize;
                released += stack.nativeSize;
            }
        }
        return released;
    }

    /**
     * Lets go of the arrays and the depots once the cache is retired: the ended (or still running) owner's
     * {@code ThreadLocal} map may keep this object long after, and must not keep the allocator's memory.
     */
    void discard() {
        for (BlockStack stack : stacks) {
            stack.discard();
        }
        depots = new TransferDepot[depots.length];
    }

    /**
     * Adds this cache's counters to {@code totals}, read with opaque loads.
     */
    void addTo(CounterTotals totals) {
        for (int b = 0; b < stacks.length; b++) {
            for (BucketCounter counter : COUNTERS) {
                totals.add(b, counter, stacks[b].counterOpaque(counter));
            }
        }
        totals.addDirect((long) DIRECT_ALLOCATIONS.getOpaque(this), (long) DIRECT_FREES.getOpaque(this),
                (long) RESERVED_BYTES.getOpaque(this));
    }
}
