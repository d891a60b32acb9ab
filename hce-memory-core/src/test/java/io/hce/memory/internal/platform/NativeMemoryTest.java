package io.hce.memory.internal.platform;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeMemoryTest {

    @Test
    void allocatesAlignedBlocksOnBothCallPaths() {
        for (long size : new long[]{16, 4000, NativeMemory.CRITICAL_CALL_LIMIT + 1, 1 << 20}) {
            for (long alignment = 1; alignment <= 8192; alignment <<= 1) {
                long address = NativeMemory.allocate(size, alignment);
                assertEquals(0, address % Math.max(alignment, NativeMemory.MALLOC_ALIGNMENT));
                MemorySegment segment = NativeMemory.segment(address, size);
                segment.set(ValueLayout.JAVA_BYTE, size - 1, (byte) 7);
                assertEquals(7, segment.get(ValueLayout.JAVA_BYTE, size - 1));
                NativeMemory.free(address, size);
            }
        }
    }

    @Test
    void nullFromTheAllocatorIsAnOutOfMemoryErrorNamingTheSize() {
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> NativeMemory.allocate(Long.MAX_VALUE / 2, 16));
        assertTrue(e.getMessage().contains("Cannot allocate " + Long.MAX_VALUE / 2 + " bytes"), e.getMessage());
        assertThrows(OutOfMemoryError.class, () -> NativeMemory.allocate(1 << 20, 1L << 60));
    }

    /** Accesses by address drop their bounds checks through the mask; it must never change an address it is given. */
    @Test
    void theAddressSpaceMaskKeepsEveryAddressBelowTwoToThe56() {
        long address = NativeMemory.allocate(1 << 20, 16);
        try {
            MemorySegment block = NativeMemory.segment(address, 1 << 20);
            assertTrue(NativeMemory.isInAddressSpace(block), "memory from malloc is in user space");
            assertEquals(address + (1 << 20) - 8, NativeMemory.inAddressSpace(address + (1 << 20) - 8));
            NativeMemory.addressSpace().set(ValueLayout.JAVA_LONG_UNALIGNED, NativeMemory.inAddressSpace(address), 42L);
            assertEquals(42L, block.get(ValueLayout.JAVA_LONG, 0));
        } finally {
            NativeMemory.free(address, 1 << 20);
        }
        long end = 1L << 56;
        assertTrue(NativeMemory.isInAddressSpace(MemorySegment.ofAddress(end - 16).reinterpret(16)),
                "its last byte at 2^56 - 1");
        assertFalse(NativeMemory.isInAddressSpace(MemorySegment.ofAddress(end - 16).reinterpret(17)), "ends past 2^56");
        assertFalse(NativeMemory.isInAddressSpace(MemorySegment.ofAddress(-16).reinterpret(8)), "kernel space");
        assertEquals(end - 1, NativeMemory.inAddressSpace(end - 1));
    }

    @Test
    void segmentsAreGlobalAndArenaSegmentsAreNot() {
        long address = NativeMemory.allocate(64, 16);
        MemorySegment segment = NativeMemory.segment(address, 64);
        assertEquals(address, segment.address());
        assertEquals(64, segment.byteSize());
        assertTrue(NativeMemory.isGlobal(segment));
        assertTrue(NativeMemory.isGlobal(MemorySegment.ofAddress(address).reinterpret(64)));
        try (Arena arena = Arena.ofConfined()) {
            assertFalse(NativeMemory.isGlobal(arena.allocate(8)));
        }
        assertFalse(NativeMemory.isGlobal(MemorySegment.ofBuffer(ByteBuffer.allocateDirect(8))));
        NativeMemory.free(address, 64);
    }
}
