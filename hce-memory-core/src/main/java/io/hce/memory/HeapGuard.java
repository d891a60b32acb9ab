package io.hce.memory;

import io.hce.memory.internal.heap.Watcher;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Checked mode of one {@link FixedHeap}: who allocated each block and who ended it.
 *
 * <p>The engine tells the guard of every block it hands out (under the shard's lock) and of every end of one
 * (by the thread whose compare-and-set decided it, before the memory can be reused), so the books are never
 * behind the heap. Each allocation gets a record, keyed by its header's offset in the region, with its stamp,
 * the stack that made it and, for a segment, the very segment object handed out; an end adds the stack that
 * freed or evicted it. The last {@value #ENDED_KEPT} ended allocations are also kept by handle, so a double
 * free of a handle is told with both stacks even after its memory was handed out again, and a write after
 * free found later (the engine poisons freed memory and checks it when handing it out again) is traced to
 * the ended block that held the damaged byte. Reports carry the allocation stack as the exception's cause
 * and the ending stack as a suppressed exception.
 */
final class HeapGuard implements Watcher {

    /** How many ended allocations are kept by handle for reports. */
    static final int ENDED_KEPT = 1 << 16;

    private final String heap;
    private final long base;
    private final ConcurrentSkipListMap<Long, Record> blocks = new ConcurrentSkipListMap<>();
    private final ConcurrentHashMap<Long, Record> ended = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Long> endedOrder = new ConcurrentLinkedQueue<>();

    private static final class Record {
        final long handle;
        final long header;
        final long capacity;
        final Throwable allocatedAt;
        /** The segment handed out; {@link MemorySegment#NULL} for an address, null for a handle. */
        volatile MemorySegment segment;
        volatile Throwable endedAt;
        volatile boolean evicted;
        /** The allocation before this one at the same place, for reports of stale segments. */
        final Record previous;

        Record(String heapName, long handle, long header, long capacity, MemorySegment segment, Record previous) {
            this.handle = handle;
            this.header = header;
            this.capacity = capacity;
            this.segment = segment;
            this.previous = previous == null ? null : previous.withoutHistory();
            this.allocatedAt = new Throwable("allocated in heap '" + heapName + "' on thread " + Thread.currentThread().getName());
        }

        private Record(Record of) {
            this.handle = of.handle;
            this.header = of.header;
            this.capacity = of.capacity;
            this.segment = of.segment;
            this.endedAt = of.endedAt;
            this.evicted = of.evicted;
            this.allocatedAt = of.allocatedAt;
            this.previous = null;
        }

        Record withoutHistory() {
            return new Record(this);
        }
    }

    /**
     * @param heap the heap's name, for messages
     * @param base the region's address, for messages
     */
    HeapGuard(String heap, long base) {
        this.heap = heap;
        this.base = base;
    }

    @Override
    public void handedOut(long handle, long header, long capacity, boolean owned) {
        Record before = blocks.get(header);
        blocks.put(header, new Record(heap, handle, header, capacity, owned ? MemorySegment.NULL : null,
                before != null && before.endedAt != null ? before : null));
    }

    @Override
    public void ended(long handle, long header, boolean evicted) {
        Record record = blocks.get(header);
        if (record == null || record.handle != handle) {
            return;
        }
        record.evicted = evicted;
        record.endedAt = new Throwable((evicted ? "evicted" : "freed") + " in heap '" + heap + "' on thread " + Thread.currentThread().getName());
        ended.put(handle, record);
        endedOrder.add(handle);
        if (ended.size() > ENDED_KEPT) {
            Long eldest = endedOrder.poll();
            if (eldest != null) {
                ended.remove(eldest);
            }
        }
    }

    @Override
    public RuntimeException writeAfterFree(long offset) {
        long address = base + offset;
        Record owner = null;
        int looked = 0;
        for (Map.Entry<Long, Record> entry = blocks.floorEntry(offset); entry != null && owner == null && looked++ < 4096;
             entry = blocks.lowerEntry(entry.getKey())) {
            Record record = entry.getValue();
            for (Record candidate = record; candidate != null && owner == null; candidate = candidate.previous) {
                if (candidate.endedAt != null && offset < candidate.header + 16 + candidate.capacity) {
                    owner = candidate;
                }
            }
        }
        IllegalStateException report = new IllegalStateException("write after free in heap '" + heap + "': the byte at 0x"
                + Long.toHexString(address) + " was written after its block was freed or evicted"
                + (owner != null ? " (the block at 0x" + Long.toHexString(base + owner.header + 16)
                + "; allocated at the cause, ended at the suppressed exception)" : "")
                + ". This allocation did not happen: the memory was poisoned again and left free");
        return owner == null ? report : withStacks(report, owner);
    }

    /** A segment is handed out for the block just allocated at {@code header}: the one to give back. */
    void attach(long handle, long header, MemorySegment segment) {
        Record record = blocks.get(header);
        if (record != null && record.handle == handle) {
            record.segment = segment;
        }
    }

    /** A segment's block was resized: the new segment is the one to give back. */
    void replaced(long header, MemorySegment segment) {
        Record record = blocks.get(header);
        if (record != null) {
            record.segment = segment;
        }
    }

    /**
     * A segment is given back or touched: it must be the segment handed out for the allocation there now.
     *
     * @throws IllegalStateException for a double free, or a stale segment (its block was freed, evicted or
     *                               resized, and the memory handed out again since)
     */
    void checkSegment(long header, MemorySegment segment) {
        Record record = blocks.get(header);
        if (record != null && record.segment == segment && record.endedAt != null) {
            throw withStacks(new IllegalStateException("double free of a block of heap '" + heap + "' at 0x"
                    + Long.toHexString(segment.address()) + ": it was " + (record.evicted ? "evicted" : "freed")
                    + " already (see the suppressed exception); allocated at the cause"), record);
        }
        if (record == null || record.segment == segment || record.segment == MemorySegment.NULL) {
            return; // NULL: handed out by address, so any segment of it will do
        }
        if (record.segment == null) {
            throw new IllegalStateException("a segment of heap '" + heap + "' at 0x" + Long.toHexString(segment.address())
                    + " names a block handed out as a handle: use the handle");
        }
        Record stale = record.previous != null && record.previous.segment == segment ? record.previous : null;
        IllegalStateException report = new IllegalStateException("stale segment of heap '" + heap + "': the block at 0x"
                + Long.toHexString(segment.address()) + " it was handed out for was "
                + (stale == null ? "freed, evicted or resized" : stale.evicted ? "evicted" : "freed")
                + (record.endedAt == null ? ", and the memory is allocated again" : "")
                + (stale != null ? " (allocated at the cause, ended at the suppressed exception)" : "")
                + "; pass the segment the heap handed out for the live block");
        throw stale != null ? withStacks(report, stale) : withStacks(report, record);
    }

    /** A free of a stale handle: a double free if {@code free} ended that allocation (not eviction). */
    void staleFree(long handle) {
        Record record = ended.get(handle);
        if (record != null && !record.evicted) {
            throw withStacks(new IllegalStateException("double free of a block of heap '" + heap + "' (handle 0x"
                    + Long.toHexString(handle) + "): it was freed already (see the suppressed exception); allocated"
                    + " at the cause"), record);
        }
    }

    /** @return what is known of the allocation a handle names, for a message */
    String describe(long handle, long header) {
        Record record = ended.get(handle);
        if (record != null) {
            return "; the block was " + (record.evicted ? "evicted" : "freed");
        }
        record = blocks.get(header);
        return record != null && record.handle == handle ? "; the block is live and holds no pin"
                : "; no record of that allocation";
    }

    /** Adds the stacks of the block at {@code header} to an exception about it. */
    RuntimeException explain(RuntimeException e, long header) {
        Record record = blocks.get(header);
        return record == null ? e : withStacks(e, record);
    }

    private static <E extends RuntimeException> E withStacks(E exception, Record record) {
        if (exception.getCause() == null) {
            exception.initCause(record.allocatedAt);
        }
        if (record.endedAt != null) {
            exception.addSuppressed(record.endedAt);
        }
        return exception;
    }
}
