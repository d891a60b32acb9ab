package io.hce.memory;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.hce.memory.internal.platform.NativeMemory;
import io.hce.memory.internal.platform.Reclaimer;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Checked mode and leak detection for one allocator, between its public methods and its engine. An
 * allocator made without either has no guard, and its paths test one {@code null} field.
 *
 * <h2>Checked mode</h2>
 * Every live block is in {@code live}, with the size it was allocated with and the stack that allocated
 * it. A deallocation must name a live block by its exact address and size: otherwise it is a double free
 * (the block is in quarantine, or was freed and has left it), a foreign segment, or a slice or resized
 * segment, each reported with the allocation (and free) stack. A freed block is filled with
 * {@link #POISON} and held in a FIFO quarantine of {@link #QUARANTINE_BLOCKS} blocks and at most
 * {@link #QUARANTINE_BYTES} bytes before the engine gets
 * it back; when it leaves, the poison is verified, so a write after free is reported, by the call that
 * pushed it out, after that call has completed. Blocks in quarantine are never handed out.
 *
 * <h2>Leak detection</h2>
 * A tracked allocation registers its segment with a {@link Cleaner}; the action holds only the record.
 * Deallocation marks the record freed and cleans it at once. If the segment is collected first, the block
 * leaked: it is counted and logged once, with its size and allocation stack.
 */
final class AllocationGuard {

    /** The byte freed blocks are filled with. */
    static final byte POISON = (byte) 0xDB;
    /** How many freed blocks wait before going back to the engine. */
    static final int QUARANTINE_BLOCKS = 1024;
    /** How many bytes of freed blocks wait, at most: large blocks leave sooner, so checked mode stays usable. */
    static final long QUARANTINE_BYTES = 64L << 20;
    private static final int FILTER_SIZE = 4096;

    /** The classes an allocation passes through before it reaches the guard: not the caller's site. */
    private static final Set<String> ALLOCATOR_CLASSES = Set.of(AllocationGuard.class.getName(),
            CachingAllocator.class.getName(), CachingArena.class.getName(), PoolAllocator.class.getName(),
            Memory.class.getName());
    private static final System.Logger LEAKS = System.getLogger("io.hce.memory.leaks");

    private final String owner;
    private final AllocatorOptions options;
    private final BlockRelease release;
    private final ConcurrentHashMap<Long, Block> live = new ConcurrentHashMap<>();
    /** Live tracked blocks per address hash: a deallocation looks {@code live} up only when its count is not 0. */
    private final AtomicIntegerArray trackedByHash = new AtomicIntegerArray(FILTER_SIZE);
    private final ConcurrentHashMap<Long, Block> quarantined = new ConcurrentHashMap<>();
    @GuardedBy("quarantine")
    private final ArrayDeque<Block> quarantine = new ArrayDeque<>();
    @GuardedBy("quarantine")
    private long quarantinedBytes;
    private final AtomicLong leaks = new AtomicLong();

    /** Gives a block that leaves quarantine back to the allocator's engine. */
    @FunctionalInterface
    interface BlockRelease {
        void release(long address, long byteSize);
    }

    /** A tracked block; as a cleaning action it holds the guard, never the segment. */
    private final class Block implements Runnable {
        final long address;
        final long byteSize;
        final Throwable allocatedAt;
        volatile boolean freed;
        Throwable freedAt;
        Cleaner.Cleanable cleanable;

        Block(long address, long byteSize, Throwable allocatedAt) {
            this.address = address;
            this.byteSize = byteSize;
            this.allocatedAt = allocatedAt;
        }

        /** The segment was collected, or the block deallocated: report a leak if it was not deallocated. */
        @Override
        public void run() {
            if (!freed && live.remove(address, this)) {
                trackedByHash.decrementAndGet(hash(address));
                leaks.incrementAndGet();
                LEAKS.log(System.Logger.Level.WARNING, "LEAK: a block of " + byteSize + " bytes at 0x"
                        + Long.toHexString(address) + " of " + owner + " became unreachable without being"
                        + " deallocated" + (allocatedAt != null ? "; it was allocated here:" : ""), allocatedAt);
            }
        }

        String describe() {
            return "block 0x" + Long.toHexString(address) + " of " + byteSize + " bytes";
        }
    }

    AllocationGuard(String owner, AllocatorOptions options, BlockRelease release) {
        this.owner = owner;
        this.options = options;
        this.release = release;
    }

    /** A new segment is about to be handed out. */
    void allocated(MemorySegment segment) {
        allocated(segment.address(), segment.byteSize(), segment);
    }

    /**
     * A new block is about to be handed out.
     *
     * @param watched the segment whose collection would show a leak; {@code null} for a block handed out
     *                by address, which leak detection cannot watch (checked mode still tracks it)
     */
    void allocated(long address, long byteSize, MemorySegment watched) {
        if (byteSize == 0) {
            return;
        }
        boolean track = watched != null && switch (options.leakDetection()) {
            case OFF -> false;
            case SAMPLED -> ThreadLocalRandom.current().nextInt(LeakDetection.SAMPLING_INTERVAL) == 0;
            case PARANOID -> true;
        };
        if (!options.checked() && !track) {
            return;
        }
        Throwable stack = options.checked() || options.leakDetection() == LeakDetection.PARANOID || track
                ? new Throwable("allocated by " + owner + " on thread " + Thread.currentThread().getName()) : null;
        Block block = new Block(address, byteSize, stack);
        if (track) {
            block.cleanable = Reclaimer.CLEANER.register(watched, block);
        }
        trackedByHash.incrementAndGet(hash(address));
        live.put(address, block);
    }

    private static int hash(long address) {
        return (int) ((address >>> 4) ^ (address >>> 16)) & (FILTER_SIZE - 1);
    }

    /**
     * A segment is being given back.
     *
     * @return true when the caller should give it to the engine now; false when the guard keeps it (quarantine)
     * @throws IllegalArgumentException or IllegalStateException, in checked mode, for a misuse
     */
    boolean deallocating(MemorySegment segment) {
        return deallocating(segment.address(), segment.byteSize());
    }

    /** A block is being given back, by address: as {@link #deallocating(MemorySegment)}. */
    boolean deallocating(long address, long byteSize) {
        if (byteSize == 0) {
            Block block = options.checked() ? live.get(address) : null;
            if (block != null) {
                throw misuse(new IllegalArgumentException("a live block given back with size 0: " + block.describe()
                        + " of " + owner + "; give it back with the size it was allocated with"), block);
            }
            return true;
        }
        if (!options.checked()) {
            if (trackedByHash.get(hash(address)) == 0) {
                return true; // not sampled: the common case costs one array read
            }
            Block block = live.remove(address);
            if (block != null) {
                trackedByHash.decrementAndGet(hash(address));
                block.freed = true;
                block.cleanable.clean();
            }
            return true;
        }
        Block block = live.get(address);
        if (block == null) {
            throw notLive(address, byteSize);
        }
        if (byteSize != block.byteSize) {
            throw misuse(new IllegalArgumentException("a slice or resized segment of " + block.describe() + " by "
                    + owner + ": deallocated with " + byteSize + " bytes; deallocate the segment"
                    + " allocate returned"), block);
        }
        List<Block> leaving = new ArrayList<>(1);
        synchronized (quarantine) {
            // The check above and this removal are one step for concurrent frees of the block: the first to
            // remove it frees it, the others find it quarantined (or gone) and are reported.
            if (!live.remove(address, block)) {
                throw notLive(address, byteSize);
            }
            block.freedAt = new Throwable("freed on thread " + Thread.currentThread().getName());
            NativeMemory.segment(address, block.byteSize).fill(POISON); // before anyone can take it out of quarantine
            quarantined.put(address, block);
            quarantine.addLast(block);
            quarantinedBytes += block.byteSize;
            while (quarantine.size() > QUARANTINE_BLOCKS || (quarantinedBytes > QUARANTINE_BYTES && quarantine.size() > 1)) {
                leaving.add(leaveQuarantine());
            }
        }
        trackedByHash.decrementAndGet(hash(address));
        block.freed = true;
        if (block.cleanable != null) {
            block.cleanable.clean();
        }
        releaseChecked(leaving, "the deallocation of " + block.describe() + " that reports it");
        return false;
    }

    /** @return the quarantine's eldest block, taken out */
    @GuardedBy("quarantine")
    private Block leaveQuarantine() {
        Block eldest = quarantine.removeFirst();
        quarantinedBytes -= eldest.byteSize;
        quarantined.remove(eldest.address, eldest);
        return eldest;
    }

    /**
     * Gives blocks that left quarantine back to the engine, all of them, then reports the first whose poison
     * was written to.
     *
     * @param caller what the reporting call did, for the message
     * @throws WriteAfterFreeException for the first damaged block, once every block is given back
     */
    private void releaseChecked(List<Block> leaving, String caller) {
        Block damaged = null;
        for (Block block : leaving) {
            if (!isPoisoned(block) && damaged == null) {
                damaged = block;
            }
            release.release(block.address, block.byteSize);
        }
        if (damaged != null) {
            throw misuse(new WriteAfterFreeException("write after free: " + damaged.describe() + " of " + owner
                    + " was written to after it was freed (freed at the suppressed exception, allocated at the"
                    + " cause), found when it left quarantine; " + caller + " did its work",
                    damaged.address, damaged.byteSize), damaged);
        }
    }

    /**
     * @return the report of a deallocation of a block that is not live: a double free if it is quarantined
     *         (looked up under the quarantine's lock, so a concurrent free of it is seen finished), else a foreign block
     */
    private RuntimeException notLive(long address, long byteSize) {
        Block freed;
        synchronized (quarantine) {
            freed = quarantined.get(address);
        }
        if (freed != null) {
            return misuse(new IllegalStateException("double free of " + freed.describe() + " by " + owner
                    + ": it was freed already (see the suppressed exception) and allocated at the cause"), freed);
        }
        return new IllegalArgumentException("not a block of " + owner + ": segment of " + byteSize
                + " bytes at 0x" + Long.toHexString(address) + " was never allocated here, or was freed long ago");
    }

    /**
     * Gives every quarantined block back to the engine ({@code trim()}, {@code close()}), checking the poison
     * of each.
     *
     * @throws WriteAfterFreeException for the first damaged block, once every block is given back
     */
    void drainQuarantine() {
        List<Block> leaving = new ArrayList<>();
        synchronized (quarantine) {
            while (!quarantine.isEmpty()) {
                leaving.add(leaveQuarantine());
            }
        }
        releaseChecked(leaving, "the call that emptied the quarantine");
    }

    /**
     * @return the sites holding the most watched live bytes, most first: every block with an allocation stack,
     *         scaled by the sampling interval when only a sample has one
     */
    List<AllocationSite> profile() {
        long scale = options.allocationsPerWatchedBlock();
        Map<List<StackTraceElement>, long[]> bySite = new HashMap<>();
        for (Block block : live.values()) {
            if (block.allocatedAt != null) {
                long[] totals = bySite.computeIfAbsent(callerFrames(block.allocatedAt), key -> new long[2]);
                totals[0]++;
                totals[1] += block.byteSize;
            }
        }
        List<AllocationSite> sites = new ArrayList<>(bySite.size());
        bySite.forEach((stack, totals) -> sites.add(new AllocationSite(stack, totals[0], totals[1], totals[1] * scale)));
        sites.sort(Comparator.comparingLong(AllocationSite::estimatedBytes).reversed());
        return sites;
    }

    /**
     * @return the frames of an allocation stack from the first one that is neither this library's nor the JDK's
     *         {@code SegmentAllocator} defaults (through which {@code allocate(layout)} calls come)
     */
    private static List<StackTraceElement> callerFrames(Throwable allocatedAt) {
        StackTraceElement[] frames = allocatedAt.getStackTrace();
        int first = 0;
        while (first < frames.length && isAllocatorFrame(frames[first].getClassName())) {
            first++;
        }
        return List.of(frames).subList(first, Math.min(frames.length, first + AllocationSite.MAX_FRAMES));
    }

    private static boolean isAllocatorFrame(String className) {
        return ALLOCATOR_CLASSES.contains(className) || className.startsWith("java.lang.foreign.")
                || className.startsWith("io.hce.memory.internal.");
    }

    /** @return how many leaks were reported */
    long leaks() {
        return leaks.get();
    }

    private static boolean isPoisoned(Block block) {
        MemorySegment memory = NativeMemory.segment(block.address, block.byteSize);
        for (long i = 0; i < block.byteSize; i++) {
            if (memory.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != POISON) {
                return false;
            }
        }
        return true;
    }

    private <E extends RuntimeException> E misuse(E exception, Block block) {
        if (block.allocatedAt != null) {
            exception.initCause(block.allocatedAt);
        }
        if (block.freedAt != null) {
            exception.addSuppressed(block.freedAt);
        }
        return exception;
    }
}
