package io.hce.memory;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Checked mode of one {@link FixedHeap}: who allocated each block and who ended it.
 *
 * <p>Every block handed out gets a record, keyed by its header's offset in the region, with the stamp of the
 * allocation, the stack that made it and, for a segment, the very segment object handed out. Freeing or
 * evicting the block adds the stack that ended it; the record stays until a new block starts at the same
 * offset, so a stale segment or handle, a double free and a write after free found later can all be told
 * with both stacks (the allocation's as the exception's cause, the ending's as a suppressed exception).
 * The engine poisons what is freed; {@link FixedHeap} checks the poison when memory is handed out again.
 */
final class HeapGuard {

    private final String heap;
    private final ConcurrentSkipListMap<Long, Record> blocks = new ConcurrentSkipListMap<>();

    private static final class Record {
        final int stamp;
        final long header;
        final long capacity;
        final Throwable allocatedAt;
        volatile MemorySegment segment;
        volatile Throwable endedAt;
        volatile boolean evicted;
        /** The allocation before this one at the same place, for reports of stale segments (one level only). */
        final Record previous;

        Record(int stamp, long header, long capacity, Throwable allocatedAt, MemorySegment segment, Record previous) {
            this.previous = previous;
            this.stamp = stamp;
            this.header = header;
            this.capacity = capacity;
            this.allocatedAt = allocatedAt;
            this.segment = segment;
        }
    }

    HeapGuard(String heap) {
        this.heap = heap;
    }

    private static int stamp(long handle) {
        return (int) (handle >>> 32);
    }

    /**
     * A block is handed out: {@code segment} is the segment given to the caller, {@link MemorySegment#NULL}
     * for an address, or null for a handle.
     */
    void allocated(long handle, long header, long capacity, MemorySegment segment) {
        Record before = blocks.get(header);
        Record previous = before == null || before.endedAt == null ? null
                : new Record(before.stamp, header, before.capacity, before.allocatedAt, before.segment, null);
        if (previous != null) {
            previous.endedAt = before.endedAt;
            previous.evicted = before.evicted;
        }
        blocks.put(header, new Record(stamp(handle), header, capacity, new Throwable("allocated in heap '" + heap
                + "' on thread " + Thread.currentThread().getName()), segment, previous));
    }

    /** A segment's block was resized: the new segment is the one to give back. */
    void replaced(long header, MemorySegment segment) {
        Record record = blocks.get(header);
        if (record != null) {
            record.segment = segment;
        }
    }

    void freed(long handle, long header) {
        end(handle, header, false);
    }

    void evicted(long handle, long header) {
        end(handle, header, true);
    }

    private void end(long handle, long header, boolean evicted) {
        Record record = blocks.get(header);
        if (record != null && record.stamp == stamp(handle) && record.endedAt == null) {
            record.evicted = evicted;
            record.endedAt = new Throwable((evicted ? "evicted" : "freed") + " on thread " + Thread.currentThread().getName());
        }
    }

    /**
     * A segment is given back or touched: it must be the segment handed out for the allocation there now.
     *
     * @throws IllegalStateException for a stale segment: its block was freed, evicted or resized, and the
     *                               memory handed out again since
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

    /** A free of a stale handle: a double free if {@code free} ended the block. */
    void staleFree(long handle, long header) {
        Record record = blocks.get(header);
        if (record != null && record.stamp != stamp(handle)) {
            record = record.previous; // the memory was handed out again: the freed allocation is the one before
        }
        if (record != null && record.stamp == stamp(handle) && record.endedAt != null && !record.evicted) {
            throw withStacks(new IllegalStateException("double free of a block of heap '" + heap + "' (handle 0x"
                    + Long.toHexString(handle) + "): it was freed already (see the suppressed exception); allocated"
                    + " at the cause"), record);
        }
    }

    /** @return what is known of the allocation a handle names, for a message */
    String describe(long handle, long header) {
        Record record = blocks.get(header);
        if (record == null || record.stamp != stamp(handle)) {
            return "; no record of that allocation";
        }
        return record.endedAt == null ? "; the block is live and holds no pin"
                : "; the block was " + (record.evicted ? "evicted" : "freed");
    }

    /** Adds the stacks of the block at {@code header} to an exception about it. */
    RuntimeException explain(RuntimeException e, long header) {
        Record record = blocks.get(header);
        return record == null ? e : withStacks(e, record);
    }

    /**
     * @param address the damaged byte's address
     * @param offset  its offset in the region
     * @return the report of a write after free at that byte, naming the ended block it belonged to
     */
    IllegalStateException writeAfterFree(long address, long offset) {
        Record owner = null;
        int looked = 0;
        for (Map.Entry<Long, Record> entry = blocks.floorEntry(offset); entry != null && owner == null && looked++ < 4096;
             entry = blocks.lowerEntry(entry.getKey())) {
            Record record = entry.getValue();
            if (record.endedAt != null && offset < entry.getKey() + 16 + record.capacity) {
                owner = record;
            }
        }
        IllegalStateException report = new IllegalStateException("write after free in heap '" + heap + "': the byte at 0x"
                + Long.toHexString(address) + " was written after its block was freed or evicted"
                + (owner != null ? " (the block at 0x" + Long.toHexString(address - offset + owner.header + 16)
                + "; allocated at the cause, ended at the suppressed exception)" : "")
                + ". This allocation did not happen: the memory was poisoned again and left free");
        return owner == null ? report : withStacks(report, owner);
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
