package io.hce.memory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryTest {

    @AfterEach
    void clearProperties() {
        System.clearProperty(Memory.BUCKET_COUNT_PROPERTY);
        System.clearProperty(Memory.BUCKET_BYTE_LIMIT_PROPERTY);
    }

    @Test
    void allocatesFromTheDefaultAllocator() {
        MemorySegment bytes = Memory.allocate(100);
        MemorySegment aligned = Memory.allocate(100, 256);
        MemorySegment ints = Memory.allocate(ValueLayout.JAVA_INT, 10);
        assertEquals(100, bytes.byteSize());
        assertEquals(0, aligned.address() % 256);
        assertEquals(40, ints.byteSize());
        Memory.deallocate(bytes);
        Memory.deallocate(aligned);
        Memory.deallocate(ints);
        assertSame(Memory.allocator(), Memory.allocator());
        assertTrue(Memory.isDefaultFixed());
    }

    @Test
    void installingAfterFirstUseIsRefusedAndSaysWhereTheFirstUseWas() {
        Memory.allocator();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Memory.install(CachingAllocator.create(CacheInfo.of(4, 64))));
        assertTrue(e.getMessage().contains("install() must run before the first call to Memory"), e.getMessage());
        assertTrue(e.getCause().getMessage().startsWith("first use of Memory's default allocator"));
        assertThrows(NullPointerException.class, () -> Memory.install(null));
    }

    @Test
    void systemPropertiesConfigureTheDefault() {
        assertEquals(CacheInfo.defaults(), Memory.infoFromSystemProperties());
        System.setProperty(Memory.BUCKET_COUNT_PROPERTY, "8");
        System.setProperty(Memory.BUCKET_BYTE_LIMIT_PROPERTY, "1MB");
        assertEquals(CacheInfo.of(8, 1 << 20), Memory.infoFromSystemProperties());
    }

    @Test
    void invalidSystemPropertiesAreNamedWithTheirValueAndReason() {
        System.setProperty(Memory.BUCKET_COUNT_PROPERTY, "lots");
        CacheInfoTest.assertMessage(Memory::infoFromSystemProperties,
                "Invalid system property hce.memory.cache.bucket-count=lots: not a whole number");
        System.setProperty(Memory.BUCKET_COUNT_PROPERTY, "64");
        CacheInfoTest.assertMessage(Memory::infoFromSystemProperties,
                "Invalid system property hce.memory.cache.bucket-count=64: must be between 1 and 31");
        System.setProperty(Memory.BUCKET_COUNT_PROPERTY, "13");
        System.setProperty(Memory.BUCKET_BYTE_LIMIT_PROPERTY, "64 apples");
        CacheInfoTest.assertMessage(Memory::infoFromSystemProperties,
                "Invalid system property hce.memory.cache.bucket-byte-limit=64 apples: '64 apples' is not a size");
    }
}
