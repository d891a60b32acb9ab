package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random allocations and deallocations, checked after every step: no two live blocks overlap, every block
 * still holds the pattern written when it was allocated, and the books balance. Rerun a failure with
 * {@code -Dhce.test.seed=<the printed seed>}.
 */
class CachingAllocatorRandomizedTest {

    private static final int STEPS = 200_000;

    private record Block(long id, MemorySegment segment, long alignment) {
    }

    @Test
    void liveBlocksNeverOverlapAndKeepTheirContents() {
        long seed = Long.getLong("hce.test.seed", System.nanoTime());
        System.out.println("CachingAllocatorRandomizedTest seed: " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        CachingAllocator allocator = CachingAllocator.create(new CacheInfo(List.of(
                new CacheInfo.Bucket(8, 256), new CacheInfo.Bucket(48, 1024), new CacheInfo.Bucket(64, 0),
                new CacheInfo.Bucket(256, 4096), new CacheInfo.Bucket(1500, 6000), new CacheInfo.Bucket(4096, 16384))));
        List<Block> live = new ArrayList<>();
        TreeMap<Long, Block> byAddress = new TreeMap<>();
        long nextId = 0;
        for (int step = 0; step < STEPS; step++) {
            boolean allocate = live.isEmpty() || random.nextInt(100) < (live.size() < 500 ? 55 : 45);
            if (allocate) {
                long size = switch (random.nextInt(10)) {
                    case 0 -> 0;
                    case 1 -> 4097 + random.nextInt(20_000);
                    default -> 1 + random.nextInt(4096);
                };
                long alignment = random.nextInt(4) == 0 ? 1L << random.nextInt(14) : 1;
                MemorySegment segment = allocator.allocate(size, alignment);
                Block block = new Block(nextId++, segment, alignment);
                checkShape(block, size, seed, step);
                checkNoOverlap(byAddress, block, seed, step);
                fill(block);
                live.add(block);
                if (size > 0) {
                    byAddress.put(segment.address(), block);
                }
            } else {
                int index = random.nextInt(live.size());
                Block block = live.get(index);
                live.set(index, live.getLast());
                live.removeLast();
                check(block, seed, step);
                byAddress.remove(block.segment().address(), block);
                allocator.deallocate(block.segment());
            }
            if (step % 1000 == 0) {
                checkBooks(allocator, live, seed, step);
            }
        }
        live.forEach(block -> allocator.deallocate(block.segment()));
        allocator.trim();
        CacheStatistics end = allocator.statistics();
        assertEquals(0, end.reservedBytes(), "seed " + seed + ": everything went back to the system");
    }

    private static void checkShape(Block block, long size, long seed, int step) {
        MemorySegment segment = block.segment();
        assertEquals(size, segment.byteSize());
        if (segment.address() % block.alignment() != 0) {
            fail("seed " + seed + ", step " + step + ": " + segment + " not aligned to " + block.alignment());
        }
    }

    private static void checkNoOverlap(TreeMap<Long, Block> byAddress, Block block, long seed, int step) {
        long start = block.segment().address();
        long end = start + block.segment().byteSize();
        Map.Entry<Long, Block> below = byAddress.floorEntry(start);
        Map.Entry<Long, Block> above = byAddress.ceilingEntry(start);
        boolean overlapsBelow = below != null && below.getKey() + below.getValue().segment().byteSize() > start;
        boolean overlapsAbove = above != null && block.segment().byteSize() > 0 && above.getKey() < end;
        if (overlapsBelow || overlapsAbove) {
            fail("seed " + seed + ", step " + step + ": block " + block.id() + " at 0x" + Long.toHexString(start)
                    + " overlaps a live block");
        }
    }

    private static void fill(Block block) {
        MemorySegment segment = block.segment();
        long words = segment.byteSize() / 8;
        for (long i = 0; i < words; i++) {
            segment.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, block.id() * 31 + i);
        }
        for (long i = words * 8; i < segment.byteSize(); i++) {
            segment.set(ValueLayout.JAVA_BYTE, i, (byte) block.id());
        }
    }

    private static void check(Block block, long seed, int step) {
        MemorySegment segment = block.segment();
        long words = segment.byteSize() / 8;
        for (long i = 0; i < words; i++) {
            if (segment.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i) != block.id() * 31 + i) {
                fail("seed " + seed + ", step " + step + ": block " + block.id() + " was overwritten at word " + i);
            }
        }
        for (long i = words * 8; i < segment.byteSize(); i++) {
            if (segment.get(ValueLayout.JAVA_BYTE, i) != (byte) block.id()) {
                fail("seed " + seed + ", step " + step + ": block " + block.id() + " was overwritten at byte " + i);
            }
        }
    }

    private static void checkBooks(CachingAllocator allocator, List<Block> live, long seed, int step) {
        CacheStatistics statistics = allocator.statistics();
        long liveBytes = live.stream().mapToLong(b -> b.segment().byteSize()).sum();
        assertTrue(statistics.reservedBytes() >= liveBytes + statistics.cachedBytes(),
                () -> "seed " + seed + ", step " + step + ": reserved " + statistics.reservedBytes()
                        + " < live " + liveBytes + " + cached " + statistics.cachedBytes());
        long liveDirect = live.stream().filter(b -> b.segment().byteSize() > 4096).count();
        assertEquals(liveDirect, statistics.directAllocations() - statistics.directFrees(), "seed " + seed);
        for (BucketStatistics bucket : statistics.buckets()) {
            assertTrue(bucket.cachedBytes() <= 3 * Math.max(bucket.byteLimit(), 16),
                    () -> "seed " + seed + ": bucket over its bound " + bucket);
        }
    }
}
