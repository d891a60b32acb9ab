package io.hce.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every factory's argument check names its parameter, the value and the rule, and the message says all three. */
class InvalidArgumentExceptionTest {

    @Test
    void cacheInfoNamesItsParameters() {
        assertRejected(() -> CacheInfo.of(0, 1), "bucketCount", 0, "must be between 1 and 31 (blocks of 1 B to 1073741824 B)");
        assertRejected(() -> CacheInfo.of(4, -1), "bucketByteLimit", -1L, "must not be negative");
        assertRejected(() -> new CacheInfo.Bucket(0, 1), "blockSize", 0L, "must be between 1 and 1073741824 bytes");
        assertRejected(() -> new CacheInfo.Bucket(8, -5), "byteLimit", -5L, "must not be negative");
        assertRejected(() -> new CacheInfo(List.of()), "buckets", 0, "must number between 1 and 64");
        InvalidArgumentException unordered = assertThrows(InvalidArgumentException.class,
                () -> new CacheInfo(List.of(new CacheInfo.Bucket(64, 1), new CacheInfo.Bucket(32, 1))));
        assertEquals("buckets", unordered.parameter());
        assertNull(unordered.value(), "a rule about two buckets has no one value");
    }

    @Test
    void poolAllocatorNamesItsParametersAndThePool() {
        MemoryLayout block = MemoryLayout.sequenceLayout(8, ValueLayout.JAVA_BYTE);
        assertRejected(() -> PoolAllocator.create(" ", block, 1), "name", null, "must not be blank");
        assertRejected(() -> PoolAllocator.create("p", MemoryLayout.sequenceLayout(0, ValueLayout.JAVA_BYTE), 1),
                "blockSize", 0L, "must be at least 1 byte");
        assertRejected(() -> PoolAllocator.create("p", block, 0), "capacity", 0, "must be at least 1");
        assertRejected(() -> PoolAllocator.checkArguments("p", 8, 48, 1), "blockAlignment", 48L, "must be a power of two");
        assertEquals("capacity of pool 'p' must be at least 1, was 0",
                assertThrows(InvalidArgumentException.class, () -> PoolAllocator.checkArguments("p", 8, 16, 0)).getMessage());
    }

    @Test
    void fixedHeapNamesItsParametersWithoutTakingMemory() {
        assertRejected(() -> FixedHeap.checkArguments("", 1 << 20), "name", null, "must not be blank");
        assertRejected(() -> FixedHeap.checkArguments("h", FixedHeap.MAX_CAPACITY + 1), "capacity",
                FixedHeap.MAX_CAPACITY + 1, "must be between 4KB and 64GB");
        assertRejected(() -> FixedHeap.create("h", 4095), "capacity", 4095L, "must be between 4KB and 64GB");
        assertRejected(() -> FixedHeap.create("h", 1 << 20, 3, false), "shards", 3,
                "must be a power of two from 1 to 64 for a capacity of 1048576 bytes");
        assertEquals("capacity of heap 'h' must be between 4KB and 64GB, was 1024",
                assertThrows(InvalidArgumentException.class, () -> FixedHeap.checkArguments("h", 1024)).getMessage());
    }

    private static void assertRejected(Executable call, String parameter, Object value, String reason) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call);
        assertAll(() -> assertEquals(parameter, e.parameter()), () -> assertEquals(value, e.value()),
                () -> assertEquals(reason, e.reason()));
    }
}
