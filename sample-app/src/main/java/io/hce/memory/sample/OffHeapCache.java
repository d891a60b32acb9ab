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
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * A key-value cache whose values live off-heap, in the spirit of Cachelot, using all three tiers:
 * values in the {@link FixedHeap} {@code items} (evicting the least recently used when full), index
 * entries in blocks of the {@link PoolAllocator} {@code entries}, and per-request scratch buffers from
 * {@link Memory#newArena()} (the thread caches).
 *
 * <p>An index entry, one pool block per key:
 * <pre>
 *   0                   8                   16                  24
 *   +-------------------+-------------------+-------------------+
 *   |  value address    |  value length     |  CRC32C of value  |
 *   +-------------------+-------------------+-------------------+
 * </pre>
 * One lock orders the index and the heap: an eviction (which runs inside the heap's allocate, under its
 * lock) removes the victim from the index, and no other thread can be using that value at that moment.
 */
@Component
public class OffHeapCache {

    static final MemoryLayout ENTRY = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("address"),
            ValueLayout.JAVA_LONG.withName("length"),
            ValueLayout.JAVA_LONG.withName("checksum"));
    private static final VarHandle ADDRESS = ENTRY.varHandle(MemoryLayout.PathElement.groupElement("address"));
    private static final VarHandle LENGTH = ENTRY.varHandle(MemoryLayout.PathElement.groupElement("length"));
    private static final VarHandle CHECKSUM = ENTRY.varHandle(MemoryLayout.PathElement.groupElement("checksum"));

    private final FixedHeap values;
    private final PoolAllocator entries;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Stored> index = new HashMap<>();
    private final Map<Long, String> keyByValueAddress = new HashMap<>();
    private long bytes;

    /** A key's value in the heap and its index entry in the pool. */
    private record Stored(MemorySegment value, MemorySegment entry) {
    }

    /** What the cache holds now. */
    public record Summary(int count, long bytes, long maxValueSize) {
    }

    OffHeapCache(@Qualifier("items") FixedHeap values, @Qualifier("entries") PoolAllocator entries) {
        this.values = values;
        this.entries = entries;
    }

    /** @return the largest value that can be stored */
    public long maxValueSize() {
        return values.maxAllocation();
    }

    /**
     * Stores a value, replacing any value of the key; evicts least recently used values when the heap is full.
     *
     * @throws IllegalArgumentException if the value is empty or larger than {@link #maxValueSize()}
     */
    public void put(String key, byte[] value) {
        if (value.length == 0 || value.length > maxValueSize()) {
            throw new IllegalArgumentException("a value must have 1 to " + maxValueSize() + " bytes, was " + value.length);
        }
        long checksum = checksum(MemorySegment.ofArray(value));
        lock.lock();
        try {
            delete(key);
            MemorySegment stored = values.allocateOrEvict(value.length, this::forgetEvicted);
            MemorySegment.copy(value, 0, stored, ValueLayout.JAVA_BYTE, 0, value.length);
            MemorySegment entry = entries.allocate();
            ADDRESS.set(entry, 0L, stored.address());
            LENGTH.set(entry, 0L, (long) value.length);
            CHECKSUM.set(entry, 0L, checksum);
            index.put(key, new Stored(stored, entry));
            keyByValueAddress.put(stored.address(), key);
            bytes += value.length;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reads a value into a response buffer from the thread caches, checks it against the checksum stored
     * with it, and marks it as recently used.
     *
     * @return the value of the key, or empty when there is none (never stored, deleted, or evicted)
     * @throws IllegalStateException if the value no longer matches its checksum
     */
    public Optional<byte[]> get(String key) {
        try (Arena request = Memory.newArena()) {
            MemorySegment buffer;
            long checksum;
            lock.lock();
            try {
                Stored stored = index.get(key);
                if (stored == null) {
                    return Optional.empty();
                }
                values.touch(stored.value());
                buffer = request.allocate((long) LENGTH.get(stored.entry(), 0L));
                MemorySegment.copy(stored.value(), 0, buffer, 0, buffer.byteSize());
                checksum = (long) CHECKSUM.get(stored.entry(), 0L);
            } finally {
                lock.unlock();
            }
            if (checksum(buffer) != checksum) {
                throw new IllegalStateException("the value of '" + key + "' does not match its checksum");
            }
            return Optional.of(buffer.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** @return whether the key had a value */
    public boolean delete(String key) {
        lock.lock();
        try {
            Stored stored = index.remove(key);
            if (stored == null) {
                return false;
            }
            keyByValueAddress.remove(stored.value().address());
            bytes -= stored.value().byteSize();
            values.free(stored.value());
            entries.deallocate(stored.entry());
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** @return the number of values and their bytes */
    public Summary summary() {
        lock.lock();
        try {
            return new Summary(index.size(), bytes, maxValueSize());
        } finally {
            lock.unlock();
        }
    }

    /** The heap is evicting {@code victim} (under this cache's lock, inside {@code put}): forget its key. */
    private void forgetEvicted(MemorySegment victim) {
        String key = keyByValueAddress.remove(victim.address());
        Stored stored = index.remove(key);
        bytes -= stored.value().byteSize();
        entries.deallocate(stored.entry());
    }

    private static long checksum(MemorySegment bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.asByteBuffer());
        return crc.getValue();
    }
}
