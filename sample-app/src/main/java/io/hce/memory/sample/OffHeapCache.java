package io.hce.memory.sample;

import io.hce.memory.FixedHeap;
import io.hce.memory.Memory;
import io.hce.memory.PoolAllocator;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.stereotype.Component;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32C;

/**
 * A key-value cache whose values live off-heap, in the spirit of Cachelot, with no lock of its own: many
 * request threads put, get and delete at once, and the only locks they meet are the {@link FixedHeap}'s
 * per-shard locks (allocation, free, eviction) and {@link ConcurrentHashMap}'s per-bin ones. All three
 * tiers are used: values in the {@link FixedHeap} {@code items} (evicting values not used lately when full),
 * per-request scratch for item headers in blocks of the {@link PoolAllocator} {@code entries}, and
 * per-request response buffers from {@link Memory#newArena()} (the thread caches).
 *
 * <p>An item, one heap block per value, named by a handle:
 * <pre>
 *   0          4            8                    16                   24
 *   +----------+------------+--------------------+--------------------+-----------+-------------+
 *   | key len  | value len  | CRC32C of value    | the block's handle | key UTF-8 | value bytes |
 *   +----------+------------+--------------------+--------------------+-----------+-------------+
 * </pre>
 * The index maps a key to an immutable {@link Entry} on the Java heap: {@code (handle, value offset, value
 * length, CRC32C)}. Entries are <em>not</em> in pool blocks: with no lock, a thread that has just read an
 * entry from the index may still be reading it when another thread removes it (an eviction, a replacement,
 * a delete) and gives its block back, and a pool block given back is handed to the next entry at once, so
 * the reader would see another key's handle and checksum, consistent with each other: the wrong value with
 * a valid checksum. Java objects cannot be reused under a reader (the GC frees them only when nobody holds
 * them), and a stale handle is harmless (see below), so the entry is safe to read at any time after it is
 * removed. The pool serves what lives exactly as long as one request: the 24-byte header a put assembles
 * before it writes the item, and the header an eviction callback reads from its victim to find its key.
 *
 * <h2>Protocol</h2>
 * <ul>
 *   <li><b>put</b>: allocate a block with {@link FixedHeap#allocateHandleOrEvict}: it starts pinned by this
 *       thread, so no eviction can take it before it is published; write the header, key and value; publish
 *       the entry with {@code index.put}; unpin; then {@link FixedHeap#free(long) free} the entry it
 *       replaced, if any. That free returns false when eviction took the old block first: a lost race, not
 *       an error. A free of a block another put has not unpinned yet is completed by that unpin.</li>
 *   <li><b>get</b>: {@code index.get}, then {@link FixedHeap#read(long, long, MemorySegment, long, long) read}
 *       the value into a buffer of the request's arena: an optimistic copy, validated after it is made
 *       against the handle's stamp. {@code true} means the buffer holds exactly the bytes of that entry's
 *       allocation; they are checked against the entry's CRC32C every time (a mismatch is a bug, reported as
 *       {@link IllegalStateException}, never returned). {@code false} means the block was evicted or freed
 *       meanwhile: the key is looked up again, and if it now has a new entry (a put replaced it) that one is
 *       read, a few times at most; otherwise the get is a miss.</li>
 *   <li><b>eviction</b>: the heap calls {@link #forgetEvicted} on the allocating thread, under the victim's
 *       shard lock, while the victim's memory is intact. It reads the victim's header and key (reads are the
 *       one heap call allowed there) and removes the index entry <em>only if it still names that handle</em>
 *       ({@code remove(key, entry)}): a newer entry of the key stays. It calls nothing else in the heap.</li>
 *   <li><b>delete</b>: {@code index.remove}, then free; false from free again means eviction was first.</li>
 * </ul>
 * No code here calls the heap from inside a {@link ConcurrentHashMap} bin lock (no {@code compute} whose
 * function touches the heap), and the eviction callback takes bin locks under a shard lock: the locks are
 * always taken shard first, so they cannot deadlock.
 *
 * <h2>Why it is safe</h2>
 * A handle never names a later allocation of the same memory: the heap recognises a stale one by its stamp
 * and the block-start bitmap, so reading, freeing or unpinning through a stale handle is a miss, not a use
 * after free. Each entry is removed from the index by exactly one thread (the one whose {@code put},
 * {@code remove} or {@code remove(key, entry)} returned it) and that thread alone frees its block and
 * adjusts the counters; a block's other fate, eviction, happens only once its creator has unpinned it, that
 * is after it was published, so the callback always finds its entry (or a newer one of the key). A get that
 * races with eviction or replacement therefore returns either the bytes of an entry that was the key's
 * value during the get (old or new), or a miss: never bytes of another value, never a torn copy.
 *
 * <p><b>What a reader sees when a value is evicted while it reads it.</b> The copy may pick up bytes that a
 * new owner of the memory is writing, but the read's check afterwards finds the stamp changed (or the block
 * gone) and returns false; the buffer is dropped and the get reports a miss ({@code 404}), or the value
 * that replaced it. An eviction that is still running its callback when the copy ends does not fail the
 * read: the memory is intact until the callback returns, so those bytes are still that value.
 *
 * <h2>Counters</h2>
 * {@link #summary()}'s count and bytes are {@link LongAdder}s, changed by the thread that adds an entry to
 * the index or takes it out, so they are exact whenever the cache is quiet; while threads put and evict they
 * are approximate: a sum is not a snapshot, and an entry is counted just before it is published.
 */
@Component
public class OffHeapCache {

    /** The longest key, in UTF-8 bytes (memcached's limit). */
    public static final int MAX_KEY_BYTES = 250;

    /** The item header at the start of every value's block, and the layout of a pool scratch block. */
    static final MemoryLayout HEADER = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("keyLength"),
            ValueLayout.JAVA_INT.withName("valueLength"),
            ValueLayout.JAVA_LONG.withName("checksum"),
            ValueLayout.JAVA_LONG.withName("handle"));
    private static final long HEADER_BYTES = HEADER.byteSize();
    private static final VarHandle KEY_LENGTH = HEADER.varHandle(MemoryLayout.PathElement.groupElement("keyLength"));
    private static final VarHandle VALUE_LENGTH = HEADER.varHandle(MemoryLayout.PathElement.groupElement("valueLength"));
    private static final VarHandle CHECKSUM = HEADER.varHandle(MemoryLayout.PathElement.groupElement("checksum"));
    private static final VarHandle HANDLE = HEADER.varHandle(MemoryLayout.PathElement.groupElement("handle"));

    /** How many entries of one key a get reads before it calls a value that keeps being replaced a miss. */
    private static final int READ_ATTEMPTS = 4;

    private final FixedHeap values;
    private final PoolAllocator scratch;
    private final ConcurrentHashMap<String, Entry> index = new ConcurrentHashMap<>();
    private final LongAdder count = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder lostReads = new LongAdder();

    /**
     * A key's value: where it is in the heap and what it must read as. Immutable, on the Java heap; compared
     * by identity, so {@code index.remove(key, entry)} removes this very entry and no newer one.
     */
    private static final class Entry {
        final long handle;
        final long valueOffset;
        final int length;
        final long checksum;

        Entry(long handle, long valueOffset, int length, long checksum) {
            this.handle = handle;
            this.valueOffset = valueOffset;
            this.length = length;
            this.checksum = checksum;
        }
    }

    /** What the cache holds now (approximate while it changes; see the class documentation). */
    public record Summary(int count, long bytes, long maxValueSize) {
    }

    OffHeapCache(@Qualifier("items") FixedHeap values, @Qualifier("entries") PoolAllocator entries) {
        if (entries.blockSize() < HEADER_BYTES) {
            throw new IllegalArgumentException("pool '" + entries.name() + "' has blocks of " + entries.blockSize()
                    + " bytes; the cache needs " + HEADER_BYTES + " for an item header");
        }
        this.values = values;
        this.scratch = entries;
    }

    /** @return the largest value that can be stored, with a key of any allowed length */
    public long maxValueSize() {
        return values.maxAllocation() - HEADER_BYTES - MAX_KEY_BYTES;
    }

    /**
     * Stores a value, replacing any value of the key; evicts values not used lately when the heap is full.
     *
     * @throws IllegalArgumentException if the key is longer than {@link #MAX_KEY_BYTES}, or the value is
     *                                  empty or larger than {@link #maxValueSize()}
     * @throws io.hce.memory.HeapExhaustedException if every block that could make room is pinned right now
     */
    public void put(String key, byte[] value) {
        byte[] keyBytes = keyBytes(key);
        if (value.length == 0 || value.length > maxValueSize()) {
            throw new IllegalArgumentException("a value must have 1 to " + maxValueSize() + " bytes, was " + value.length);
        }
        long checksum = checksum(MemorySegment.ofArray(value));
        long valueOffset = HEADER_BYTES + keyBytes.length;
        MemorySegment header = scratch.allocate();
        try {
            long handle = values.allocateHandleOrEvict(valueOffset + value.length, victim -> forgetEvicted(victim, header));
            Entry entry;
            try {
                KEY_LENGTH.set(header, 0L, keyBytes.length);
                VALUE_LENGTH.set(header, 0L, value.length);
                CHECKSUM.set(header, 0L, checksum);
                HANDLE.set(header, 0L, handle);
                values.write(handle, 0, header, 0, HEADER_BYTES);
                values.write(handle, HEADER_BYTES, MemorySegment.ofArray(keyBytes), 0, keyBytes.length);
                values.write(handle, valueOffset, MemorySegment.ofArray(value), 0, value.length);
                entry = new Entry(handle, valueOffset, value.length, checksum);
            } catch (RuntimeException | Error e) {
                values.free(handle);  // first: a freed block is never evicted, so no callback reads it half written
                values.unpin(handle); // the last pin completes the free
                throw e;
            }
            count.increment();                      // counted first, so a sum never sees it taken out before it was in
            bytes.add(value.length);
            Entry previous = index.put(key, entry); // published: readers may find it from now on
            values.unpin(handle);                   // evictable from now on
            if (previous != null) {
                retire(previous);
            }
        } finally {
            scratch.deallocate(header);
        }
    }

    /**
     * Reads a value into a response buffer from the thread caches and checks it against its checksum; the
     * read marks it as recently used.
     *
     * @return the value of the key, or empty when there is none (never stored, deleted, or evicted, also
     *         while this get was reading it)
     * @throws IllegalStateException if the bytes read do not match the checksum stored with them
     */
    public Optional<byte[]> get(String key) {
        Entry entry = index.get(key);
        if (entry == null) {
            return Optional.empty();
        }
        try (Arena request = Memory.newArena()) {
            for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
                MemorySegment buffer = request.allocate(entry.length);
                if (values.read(entry.handle, entry.valueOffset, buffer, 0, entry.length)) {
                    if (checksum(buffer) != entry.checksum) {
                        throw new IllegalStateException("the value of '" + key + "' read from handle 0x"
                                + Long.toHexString(entry.handle) + " does not match its checksum");
                    }
                    return Optional.of(buffer.toArray(ValueLayout.JAVA_BYTE));
                }
                // Evicted or freed since index.get: whoever did it took the entry out of the index first.
                lostReads.increment();
                Entry now = index.get(key);
                if (now == null) {
                    return Optional.empty();
                }
                if (now == entry) {
                    // Not expected (an eviction callback that could not find its key): drop the dead entry.
                    if (index.remove(key, entry)) {
                        uncount(entry);
                    }
                    return Optional.empty();
                }
                entry = now; // replaced meanwhile: read the new value
            }
            return Optional.empty();
        }
    }

    /** @return whether the key had a value */
    public boolean delete(String key) {
        Entry entry = index.remove(key);
        if (entry == null) {
            return false;
        }
        retire(entry);
        return true;
    }

    /** @return the number of values and their bytes (exact when the cache is quiet, approximate while it changes) */
    public Summary summary() {
        return new Summary(Math.clamp(count.sum(), 0, Integer.MAX_VALUE), Math.max(0, bytes.sum()), maxValueSize());
    }

    /** @return how many reads found their value evicted or replaced after the index lookup (a race lost) */
    long lostReads() {
        return lostReads.sum();
    }

    /** An entry this thread took out of the index: uncount it and free its block, unless eviction was first. */
    private void retire(Entry entry) {
        uncount(entry);
        values.free(entry.handle); // false: evicted meanwhile, and the callback found a newer entry or none
    }

    private void uncount(Entry entry) {
        count.decrement();
        bytes.add(-entry.length);
    }

    /**
     * The heap is evicting {@code victim} (on a putting thread, under the victim's shard lock, its memory
     * intact): find its key in its header and forget the entry if it still names this block. Reads the
     * victim, and calls nothing else in the heap.
     *
     * @param header the put's pool scratch block, free for the callback's use until the allocation returns
     */
    private void forgetEvicted(long victim, MemorySegment header) {
        if (!values.read(victim, 0, header, 0, HEADER_BYTES)) {
            throw new IllegalStateException("an eviction victim, handle 0x" + Long.toHexString(victim) + ", cannot be read");
        }
        int keyLength = (int) KEY_LENGTH.get(header, 0L);
        if ((long) HANDLE.get(header, 0L) != victim || keyLength < 0 || keyLength > MAX_KEY_BYTES) {
            throw new IllegalStateException("an eviction victim, handle 0x" + Long.toHexString(victim)
                    + ", does not hold an item header this cache wrote");
        }
        byte[] keyBytes = new byte[keyLength];
        if (!values.read(victim, HEADER_BYTES, MemorySegment.ofArray(keyBytes), 0, keyLength)) {
            throw new IllegalStateException("an eviction victim, handle 0x" + Long.toHexString(victim) + ", cannot be read");
        }
        String key = new String(keyBytes, StandardCharsets.UTF_8);
        Entry entry = index.get(key);
        if (entry != null && entry.handle == victim && index.remove(key, entry)) {
            uncount(entry);
        }
    }

    private static byte[] keyBytes(String key) {
        byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
        if (keyBytes.length == 0 || keyBytes.length > MAX_KEY_BYTES) {
            throw new IllegalArgumentException("a key must have 1 to " + MAX_KEY_BYTES + " bytes in UTF-8, was "
                    + keyBytes.length);
        }
        return keyBytes;
    }

    private static long checksum(MemorySegment bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.asByteBuffer());
        return crc.getValue();
    }
}
