package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random allocate / tryAllocate / allocateOrEvict / free / touch against a model, with {@code verify()}
 * after every step. Good fit: a request may fail, and a call may evict, only when the heap's largest free
 * block (read just before) is smaller than the request; every victim must be a live block, and contents must
 * survive until a block is freed or evicted; no byte may belong to two live blocks. Rerun a failure with {@code -Dhce.test.seed=<the printed seed>}.
 */
class FixedHeapRandomizedTest {

    private static final int STEPS = 100_000;

    private record Block(long id, MemorySegment segment) {
    }

    private final LinkedHashMap<Long, Block> live = new LinkedHashMap<>();
    private final TreeMap<Long, Block> byAddress = new TreeMap<>();
    private final List<Long> addresses = new ArrayList<>();
    private long seed;
    private int step;
    private long largestFreeBeforeCall;
    private long requested;

    @Test
    void everyStepKeepsTheHeapAndTheModelInAgreement() {
        seed = Long.getLong("hce.test.seed", System.nanoTime());
        System.out.println("FixedHeapRandomizedTest seed: " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        long nextId = 0;
        try (FixedHeap heap = FixedHeap.create("random", 256 << 10)) {
            for (step = 0; step < STEPS; step++) {
                int operation = random.nextInt(100);
                if (operation < 40 || addresses.isEmpty()) {
                    long size = randomSize(random, heap.maxAllocation());
                    long id = nextId++;
                    largestFreeBeforeCall = heap.statistics().largestFreeBlock();
                    requested = size;
                    MemorySegment segment = operation % 2 == 0
                            ? heap.allocateOrEvict(size, victim -> evicted(victim))
                            : heap.tryAllocate(size);
                    if (!segment.equals(MemorySegment.NULL)) {
                        added(new Block(id, segment), size);
                    } else if (largestFreeBeforeCall >= size) {
                        fail(where() + "no block for " + size + " bytes while a free block of " + largestFreeBeforeCall + " fitted");
                    }
                } else if (operation < 75) {
                    Block block = removeRandom(random);
                    check(block);
                    heap.free(block.segment());
                } else {
                    Block block = live.get(addresses.get(random.nextInt(addresses.size()))); // a use in the model
                    heap.touch(block.segment());
                }
                heap.verify();
                HeapStatistics statistics = heap.statistics();
                if (statistics.allocations() - statistics.frees() - statistics.evictions() != live.size()) {
                    fail(where() + "the heap counts " + statistics + " for " + live.size() + " live blocks");
                }
            }
            HeapStatistics end = heap.statistics();
            System.out.println("FixedHeapRandomizedTest: " + end);
            assertTrue(end.evictions() > 1000 && end.failures() > 100, "eviction and failure were exercised: " + end);
            for (Block block : List.copyOf(live.values())) {
                check(block);
                heap.free(block.segment());
            }
            heap.verify();
            assertEquals(heap.maxAllocation(), heap.statistics().largestFreeBlock(), where() + "all merged back");
        }
    }

    private static long randomSize(SplittableRandom random, long max) {
        int kind = random.nextInt(100);
        if (kind < 70) {
            return 1 + random.nextInt(512);
        }
        if (kind < 95) {
            return 513 + random.nextInt(8192);
        }
        return 1 + random.nextLong(max);
    }

    private void evicted(MemorySegment victim) {
        if (largestFreeBeforeCall >= requested) {
            fail(where() + "evicted 0x" + Long.toHexString(victim.address()) + " for " + requested
                    + " bytes while a free block of " + largestFreeBeforeCall + " fitted");
        }
        Block block = live.get(victim.address());
        if (block == null) {
            fail(where() + "evicted 0x" + Long.toHexString(victim.address()) + ", not a live block");
        }
        if (victim.byteSize() < block.segment().byteSize()) {
            fail(where() + "the victim's segment is smaller than the block");
        }
        check(block);
        live.remove(victim.address());
        byAddress.remove(victim.address());
        addresses.remove(victim.address());
    }

    private void added(Block block, long size) {
        MemorySegment segment = block.segment();
        assertEquals(size, segment.byteSize());
        if (segment.address() % 16 != 0) {
            fail(where() + "block not 16-aligned");
        }
        Map.Entry<Long, Block> below = byAddress.floorEntry(segment.address());
        Map.Entry<Long, Block> above = byAddress.ceilingEntry(segment.address());
        if ((below != null && below.getKey() + below.getValue().segment().byteSize() > segment.address())
                || (above != null && above.getKey() < segment.address() + size)) {
            fail(where() + "block " + block.id() + " overlaps a live block");
        }
        fill(block);
        live.put(segment.address(), block);
        byAddress.put(segment.address(), block);
        addresses.add(segment.address());
    }

    private Block removeRandom(SplittableRandom random) {
        int index = random.nextInt(addresses.size());
        long address = addresses.get(index);
        addresses.set(index, addresses.getLast());
        addresses.removeLast();
        byAddress.remove(address);
        return live.remove(address);
    }

    private static void fill(Block block) {
        MemorySegment segment = block.segment();
        for (long i = 0; i + 8 <= segment.byteSize(); i += 8) {
            segment.set(ValueLayout.JAVA_LONG_UNALIGNED, i, block.id() ^ i);
        }
        segment.set(ValueLayout.JAVA_BYTE, segment.byteSize() - 1, (byte) block.id());
    }

    private void check(Block block) {
        MemorySegment segment = block.segment();
        for (long i = 0; i + 8 <= segment.byteSize() - 1; i += 8) {
            if (segment.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != (block.id() ^ i)) {
                fail(where() + "block " + block.id() + " was overwritten at byte " + i);
            }
        }
        if (segment.get(ValueLayout.JAVA_BYTE, segment.byteSize() - 1) != (byte) block.id()) {
            fail(where() + "block " + block.id() + " was overwritten at its last byte");
        }
    }

    private String where() {
        return "seed " + seed + ", step " + step + ": ";
    }
}
