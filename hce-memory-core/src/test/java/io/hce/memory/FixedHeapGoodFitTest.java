package io.hce.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.LongConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Good fit: "the allocate methods fail, and the {@code OrEvict} methods evict, only when no free block of any
 * shard fits the request at that moment" — for every allocate method, on the two layouts that broke it, and
 * at random against {@code statistics().largestFreeBlock()}.
 */
class FixedHeapGoodFitTest {

    /** What an allocation got: the payload address (0 for nothing) and how to give it back. */
    record Got(long address, Runnable free) {
        static final Got NOTHING = new Got(0, () -> { });
    }

    /** Every way to ask the heap for a block; victims are reported as payload addresses or handles. */
    enum Allocation {
        TRY_ALLOCATE {
            @Override
            Got allocate(FixedHeap heap, long byteSize, List<Long> victims) {
                return ofSegment(heap, heap.tryAllocate(byteSize));
            }
        },
        ALLOCATE {
            @Override
            Got allocate(FixedHeap heap, long byteSize, List<Long> victims) {
                try {
                    return ofSegment(heap, heap.allocate(byteSize));
                } catch (HeapExhaustedException e) {
                    return Got.NOTHING;
                }
            }
        },
        ALLOCATE_OR_EVICT {
            @Override
            Got allocate(FixedHeap heap, long byteSize, List<Long> victims) {
                return ofSegment(heap, heap.allocateOrEvict(byteSize, v -> victims.add(v.address())));
            }
        },
        TRY_ALLOCATE_ADDRESS {
            @Override
            Got allocate(FixedHeap heap, long byteSize, List<Long> victims) {
                return ofAddress(heap, heap.tryAllocateAddress(byteSize));
            }
        },
        ALLOCATE_ADDRESS_OR_EVICT {
            @Override
            Got allocate(FixedHeap heap, long byteSize, List<Long> victims) {
                return ofAddress(heap, heap.allocateAddressOrEvict(byteSize, victims::add));
            }
        },
        TRY_ALLOCATE_HANDLE {
            @Override
            Got allocate(FixedHeap heap, long byteSize, List<Long> victims) {
                return ofHandle(heap, heap.tryAllocateHandle(byteSize));
            }
        },
        ALLOCATE_HANDLE {
            @Override
            Got allocate(FixedHeap heap, long byteSize, List<Long> victims) {
                try {
                    return ofHandle(heap, heap.allocateHandle(byteSize));
                } catch (HeapExhaustedException e) {
                    return Got.NOTHING;
                }
            }
        },
        ALLOCATE_HANDLE_OR_EVICT {
            @Override
            Got allocate(FixedHeap heap, long byteSize, List<Long> victims) {
                return ofHandle(heap, heap.allocateHandleOrEvict(byteSize, victims::add));
            }
        };

        abstract Got allocate(FixedHeap heap, long byteSize, List<Long> victims);

        boolean isHandle() {
            return name().contains("HANDLE");
        }

        private static Got ofSegment(FixedHeap heap, MemorySegment segment) {
            return segment.equals(MemorySegment.NULL) ? Got.NOTHING : new Got(segment.address(), () -> heap.free(segment));
        }

        private static Got ofAddress(FixedHeap heap, long address) {
            return address == 0 ? Got.NOTHING : new Got(address, () -> heap.freeAddress(address));
        }

        private static Got ofHandle(FixedHeap heap, long handle) {
            if (handle == FixedHeap.NO_HANDLE) {
                return Got.NOTHING;
            }
            long address = heap.segment(handle).address();
            heap.unpin(handle);
            return new Got(address, () -> assertTrue(heap.free(handle)));
        }
    }

    // ---- (a) two free blocks in one class, the smaller at the head ------------------------------------------

    /**
     * {@code x1 | L: 2080 | x2 | S: 2048 | x3 | the rest, allocated} (payload sizes, five adjacent blocks in
     * allocation order, whichever end of the free block the heap carves from), then L and S freed. Both are in
     * the class of block sizes [2048, 2112); a request of 2064 needs a block of 2080: S (2064) is too small, L
     * (2096) fits. The finding: with S at the head of the class's list (L freed first, then S, when frees
     * merge into the lists at once), tryAllocate(2064) returned NULL, allocate(2064) threw and
     * allocateOrEvict(2064) evicted a live block. The heap may now keep freed blocks aside (quick lists) and
     * merge them into the lists later, in an order of its own: so both free orders are tried, with the
     * blocks merged into the lists ({@code statistics()} does that) before the request, and without.
     */
    private record TwoFreeBlocks(FixedHeap heap, long larger, long smaller) {
    }

    private static TwoFreeBlocks twoFreeBlocksInOneClass(boolean largerFirst, boolean mergeBeforeTheRequest) {
        FixedHeap heap = FixedHeap.create("good-fit", 64 << 10, 1, false);
        MemorySegment x1 = heap.allocate(64);
        MemorySegment larger = heap.allocate(2080);
        MemorySegment x2 = heap.allocate(64);
        MemorySegment smaller = heap.allocate(2048);
        MemorySegment x3 = heap.allocate(64);
        // adjacent in one direction or the other: x2 separates L and S, x1 and x3 close them off
        long step = larger.address() > x1.address() ? 1 : -1;
        assertEquals(x1.address() + step * (step > 0 ? 80 : 2096), larger.address());
        assertEquals(larger.address() + step * (step > 0 ? 2096 : 80), x2.address());
        assertEquals(x2.address() + step * (step > 0 ? 80 : 2064), smaller.address());
        assertEquals(smaller.address() + step * (step > 0 ? 2064 : 80), x3.address());
        heap.allocate(heap.statistics().largestFreeBlock()); // all the rest: no free block is left
        assertEquals(0, heap.statistics().freeBytes());
        if (largerFirst) {
            heap.free(larger);
            heap.free(smaller);
        } else {
            heap.free(smaller);
            heap.free(larger);
        }
        heap.verify();
        if (mergeBeforeTheRequest) {
            HeapStatistics statistics = heap.statistics();
            assertEquals(2096 + 2064, statistics.freeBytes(), "two free blocks, unmerged");
            assertEquals(2080, statistics.largestFreeBlock());
            heap.verify();
        }
        return new TwoFreeBlocks(heap, larger.address(), smaller.address());
    }

    static List<Arguments> everyAllocationEveryOrder() {
        List<Arguments> arguments = new ArrayList<>();
        for (Allocation allocation : Allocation.values()) {
            for (boolean largerFirst : new boolean[] {true, false}) {
                for (boolean merge : new boolean[] {true, false}) {
                    arguments.add(Arguments.of(allocation, largerFirst, merge));
                }
            }
        }
        return arguments;
    }

    @ParameterizedTest(name = "{0}, larger freed first: {1}, merged before: {2}")
    @MethodSource("everyAllocationEveryOrder")
    void aFittingBlockBesideATooSmallOneOfTheSameClassIsFound(Allocation allocation, boolean largerFirst, boolean merge) {
        TwoFreeBlocks setup = twoFreeBlocksInOneClass(largerFirst, merge);
        try (FixedHeap heap = setup.heap()) {
            List<Long> victims = new ArrayList<>();
            long got = allocation.allocate(heap, 2064, victims).address();
            assertEquals(List.of(), victims, allocation + "(2064) evicted a live block while a free block fitted");
            assertEquals(setup.larger(), got, allocation + "(2064) must get the larger free block, of 2080 bytes");
            assertEquals(0, heap.statistics().evictions());
            assertEquals(0, heap.statistics().failures());
            assertEquals(2064, heap.statistics().freeBytes(), "the smaller block is left");
            heap.verify();
        }
    }

    @ParameterizedTest(name = "larger freed first: {0}")
    @ValueSource(booleans = {true, false})
    void theLargerFitsExactlyAndOneMoreByteFitsNowhere(boolean largerFirst) {
        TwoFreeBlocks setup = twoFreeBlocksInOneClass(largerFirst, true);
        try (FixedHeap heap = setup.heap()) {
            assertEquals(MemorySegment.NULL, heap.tryAllocate(2081), "2081 needs a block of 2112: none is free");
            assertEquals(setup.larger(), heap.tryAllocate(2080).address());
            assertEquals(setup.smaller(), heap.tryAllocate(2048).address());
            assertEquals(0, heap.statistics().freeBytes());
            assertEquals(1, heap.statistics().failures());
            heap.verify();
        }
    }

    // ---- (b) several shards, one small block ---------------------------------------------------------------

    @ParameterizedTest(name = "capacity {0}")
    @ValueSource(longs = {(2L << 30) + (1L << 20), 5L << 30})
    void aWholeFreeShardServesMaxAllocationWithoutEviction(long capacity) {
        try (FixedHeap heap = FixedHeap.create("shards", capacity)) {
            checkAWholeFreeShardServesMaxAllocation(heap);
        }
        int fewest = Integer.highestOneBit((int) ((capacity - 1) >>> 30)) << 1;
        try (FixedHeap heap = FixedHeap.create("fewest-shards", capacity, fewest, false)) {
            assertEquals(fewest, heap.shards());
            checkAWholeFreeShardServesMaxAllocation(heap);
        }
    }

    private static void checkAWholeFreeShardServesMaxAllocation(FixedHeap heap) {
        assertTrue(heap.shards() > 1, heap + " has several shards");
        MemorySegment small = heap.allocate(1000);
        small.set(ValueLayout.JAVA_LONG, 0, 0x1234_5678L);
        long max = heap.maxAllocation();
        assertEquals(max, heap.statistics().largestFreeBlock(), "a whole shard is free");
        for (Allocation allocation : Allocation.values()) {
            List<Long> victims = new ArrayList<>();
            Got got = allocation.allocate(heap, max, victims);
            assertNotEquals(0, got.address(), allocation + "(maxAllocation()) failed although a whole shard is free: " + heap.statistics());
            assertEquals(List.of(), victims, allocation + "(maxAllocation()) evicted the one small block");
            assertEquals(0, heap.statistics().evictions(), allocation.toString());
            assertEquals(0x1234_5678L, small.get(ValueLayout.JAVA_LONG, 0));
            heap.verify();
            got.free().run();
            heap.verify();
            assertEquals(max, heap.statistics().largestFreeBlock());
        }
        assertEquals(0, heap.statistics().failures());
    }

    // ---- (c) a home shard full but for kept blocks, room in another shard --------------------------------------

    /**
     * The calling thread's home shard full of 1024-byte blocks but for two adjacent ones freed, which are kept
     * whole (each too small for a request of 2000, both together large enough once merged), and a free block of
     * 16 KiB in the other shard. Requests of 2000 must take the other shard's block, eight of them, before the
     * ninth merges the kept pair. Merging a home shard's kept blocks, request after request, while another shard
     * had room made one thread's steady mix at 80 % of a 1 GiB heap of 8 shards about three times as slow as of
     * one.
     */
    @Test
    void requestsTakeRoomInAnotherShardBeforeMergingKeptBlocks() {
        try (FixedHeap heap = FixedHeap.create("room-before-merging", 8 << 20, 2, false)) {
            List<Long> home = new ArrayList<>();
            long block = heap.allocateAddress(1024);
            long next;
            // each carved off the end of the home shard's free block, the next 1040 bytes lower, until it is full
            while ((next = heap.allocateAddress(1024)) == block - 1040) {
                home.add(block);
                block = next;
            }
            home.add(block); // and next is the other shard's first block
            long room = heap.allocateAddress(16 << 10); // 16 KiB and more is merged when freed, never kept
            while (heap.tryAllocateAddress(1024) != 0) {
                // both shards full
            }
            long failures = heap.statistics().failures(); // the fill's last request; nothing is kept yet
            heap.freeAddress(room);
            long upper = home.get(home.size() / 2);
            long lower = upper - 1040;
            assertEquals(lower, home.get(home.size() / 2 + 1));
            heap.freeAddress(upper); // kept, as the one below it
            heap.freeAddress(lower);
            for (int i = 0; i < 8; i++) {
                long got = heap.allocateAddress(2000);
                assertTrue(got >= room && got + 2000 <= room + (16 << 10), "request " + i + " got 0x"
                        + Long.toHexString(got) + ", outside the other shard's free block at 0x" + Long.toHexString(room)
                        + ": the home shard's kept blocks were merged first");
                heap.verify();
            }
            long ninth = heap.allocateAddress(2000);
            assertTrue(ninth >= lower && ninth + 2000 <= upper + 1024, "the kept pair, merged, is the only room left");
            assertEquals(failures, heap.statistics().failures());
            heap.verify();
        }
    }

    // ---- at random ---------------------------------------------------------------------------------------------

    private static final int STEPS = 20_000;

    /**
     * Random allocations by every method, frees, touches, pins and unpins on a heap of one or four shards of
     * 256 KiB. Before each
     * allocation the largest free block is read: if it fits the request, the call must succeed without
     * eviction. An {@code OrEvict} call may throw only while some block is pinned. Victims must be live,
     * unpinned blocks of the model. {@code verify()} after every step. Rerun with {@code -Dhce.test.seed=...}.
     */
    @ParameterizedTest(name = "{0} shards")
    @ValueSource(ints = {1, 4})
    void noFailureAndNoEvictionWhileTheLargestFreeBlockFits(int shards) {
        long seed = Long.getLong("hce.test.seed", System.nanoTime());
        System.out.println("FixedHeapGoodFitTest seed (" + shards + " shards): " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        Model model = new Model();
        try (FixedHeap heap = FixedHeap.create("random-fit", (long) shards << 18, shards, false)) {
            long max = heap.maxAllocation();
            int evictingCalls = 0;
            int fittingCalls = 0;
            for (int step = 0; step < STEPS; step++) {
                String where = "seed " + seed + ", step " + step + ": ";
                int operation = random.nextInt(100);
                if (operation < 55 || model.isEmpty()) {
                    long size = randomSize(random, max);
                    Allocation allocation = Allocation.values()[random.nextInt(Allocation.values().length)];
                    long largest = heap.statistics().largestFreeBlock();
                    List<Long> victims = new ArrayList<>();
                    boolean keepPinned = allocation.isHandle() && random.nextInt(8) == 0;
                    long got;
                    try {
                        got = model.allocate(heap, allocation, size, victims, keepPinned, where);
                    } catch (HeapExhaustedException e) {
                        for (long victim : victims) { // a call may evict and still find no room
                            model.evicted(victim, where);
                        }
                        if (largest >= size) {
                            fail(where + allocation + "(" + size + ") threw while a free block of " + largest + " fitted");
                        }
                        if (model.pinned() == 0) {
                            fail(where + allocation + "(" + size + ") threw although no block is pinned");
                        }
                        got = 0;
                    }
                    if (largest >= size) {
                        fittingCalls++;
                        if (got == 0) {
                            fail(where + allocation + "(" + size + ") failed while a free block of " + largest + " fitted");
                        }
                        if (!victims.isEmpty()) {
                            fail(where + allocation + "(" + size + ") evicted " + victims.size()
                                    + " blocks while a free block of " + largest + " fitted");
                        }
                    } else if (!victims.isEmpty()) {
                        evictingCalls++;
                    }
                } else if (operation < 80) {
                    model.freeRandom(heap, random, where);
                } else if (operation < 90) {
                    model.touchRandom(heap, random, where);
                } else {
                    model.pinOrUnpinRandom(heap, random, where);
                }
                String broken = verify(heap);
                if (broken != null) {
                    fail(where + broken);
                }
                HeapStatistics statistics = heap.statistics();
                if (statistics.allocations() - statistics.frees() - statistics.evictions() != model.size()) {
                    fail(where + "the heap counts " + statistics + " for " + model.size() + " live blocks");
                }
            }
            System.out.println("FixedHeapGoodFitTest: " + heap.statistics() + ", " + fittingCalls
                    + " calls that fitted, " + evictingCalls + " that evicted");
            assertTrue(evictingCalls > 80 && fittingCalls > 1000, "both paths were exercised: " + evictingCalls + " calls evicted");
        }
    }

    private static String verify(FixedHeap heap) {
        try {
            heap.verify();
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    private static long randomSize(SplittableRandom random, long max) {
        int kind = random.nextInt(100);
        if (kind < 55) {
            return 1 + random.nextInt(300);
        }
        if (kind < 80) {
            return 1 + random.nextInt(8192);
        }
        if (kind < 95) {
            return 1 + random.nextLong(max / 2);
        }
        return max - random.nextInt(64);
    }

    /**
     * What the test believes is allocated: blocks by payload address, each a segment, an address or a handle.
     * Every block holds its id in its first 8 bytes (payloads are at least 16) and the id's low byte in the rest
     * of what was asked for, so that a victim told as a handle can be named by reading it.
     */
    private static final class Model {
        private record Block(long id, long address, long size, MemorySegment segment, long handle, int pins) {
        }

        private final TreeMap<Long, Block> blocks = new TreeMap<>();
        private final Map<Long, Long> addressOfId = new HashMap<>();
        private final List<Long> addresses = new ArrayList<>();
        private int pinned;
        private long nextId = 1;

        boolean isEmpty() {
            return blocks.isEmpty();
        }

        int size() {
            return blocks.size();
        }

        int pinned() {
            return pinned;
        }

        /** @return the payload address, or 0 if nothing was allocated; victims are added as payload addresses */
        long allocate(FixedHeap heap, Allocation allocation, long size, List<Long> victims, boolean keepPinned,
                      String where) {
            long id = nextId++;
            long address = 0;
            MemorySegment segment = MemorySegment.NULL;
            long handle = FixedHeap.NO_HANDLE;
            LongConsumer victimHandle = victim -> {
                byte[] bytes = new byte[8];
                if (!heap.read(victim, 0, MemorySegment.ofArray(bytes), 0, 8)) {
                    fail(where + "an eviction callback could not read its victim");
                }
                Long at = addressOfId.get(MemorySegment.ofArray(bytes).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                victims.add(at == null ? -1 : at);
            };
            switch (allocation) {
                case TRY_ALLOCATE -> segment = heap.tryAllocate(size);
                case ALLOCATE -> segment = allocateOrNull(heap, size);
                case ALLOCATE_OR_EVICT -> segment = heap.allocateOrEvict(size, v -> victims.add(v.address()));
                case TRY_ALLOCATE_ADDRESS -> address = heap.tryAllocateAddress(size);
                case ALLOCATE_ADDRESS_OR_EVICT -> address = heap.allocateAddressOrEvict(size, victims::add);
                case TRY_ALLOCATE_HANDLE -> handle = heap.tryAllocateHandle(size);
                case ALLOCATE_HANDLE -> handle = allocateHandleOrNone(heap, size);
                case ALLOCATE_HANDLE_OR_EVICT -> handle = heap.allocateHandleOrEvict(size, victimHandle);
            }
            if (!segment.equals(MemorySegment.NULL)) {
                address = segment.address();
            } else if (handle != FixedHeap.NO_HANDLE) {
                address = heap.segment(handle).address();
            }
            if (address == 0) {
                return 0;
            }
            for (long victim : victims) {
                evicted(victim, where);
            }
            // the new block must not overlap a live block of the model (the victims are gone already)
            Map.Entry<Long, Block> below = blocks.floorEntry(address);
            Map.Entry<Long, Block> above = blocks.ceilingEntry(address);
            if ((below != null && below.getKey() + below.getValue().size() > address)
                    || (above != null && above.getKey() < address + size)) {
                fail(where + "the block at 0x" + Long.toHexString(address) + " overlaps a live block");
            }
            MemorySegment memory = MemorySegment.ofAddress(address).reinterpret(Math.max(16, size));
            memory.asSlice(0, size).fill((byte) id);
            memory.set(ValueLayout.JAVA_LONG, 0, id);
            boolean pin = handle != FixedHeap.NO_HANDLE && keepPinned;
            if (handle != FixedHeap.NO_HANDLE && !keepPinned) {
                heap.unpin(handle);
            }
            Block block = new Block(id, address, size, segment.equals(MemorySegment.NULL) ? null : segment, handle,
                    pin ? 1 : 0);
            blocks.put(address, block);
            addressOfId.put(id, address);
            addresses.add(address);
            pinned += block.pins();
            return address;
        }

        private static MemorySegment allocateOrNull(FixedHeap heap, long size) {
            try {
                return heap.allocate(size);
            } catch (HeapExhaustedException e) {
                return MemorySegment.NULL;
            }
        }

        private static long allocateHandleOrNone(FixedHeap heap, long size) {
            try {
                return heap.allocateHandle(size);
            } catch (HeapExhaustedException e) {
                return FixedHeap.NO_HANDLE;
            }
        }

        /** @param address a victim's payload address, as the callback was told (-1: not a block of the model) */
        void evicted(long address, String where) {
            Block block = blocks.get(address);
            if (block == null) {
                fail(where + "evicted 0x" + Long.toHexString(address) + ", which is not a live block");
            }
            if (block.pins() > 0) {
                fail(where + "evicted a pinned block at 0x" + Long.toHexString(address));
            }
            remove(block);
        }

        private void remove(Block block) {
            blocks.remove(block.address());
            addressOfId.remove(block.id());
            addresses.remove(Long.valueOf(block.address()));
        }

        private Block randomBlock(SplittableRandom random) {
            return blocks.get(addresses.get(random.nextInt(addresses.size())));
        }

        void freeRandom(FixedHeap heap, SplittableRandom random, String where) {
            Block block = randomBlock(random);
            check(heap, block, where);
            if (block.handle() != FixedHeap.NO_HANDLE) {
                if (!heap.free(block.handle())) {
                    fail(where + "free of a live handle returned false");
                }
                for (int i = 0; i < block.pins(); i++) {
                    heap.unpin(block.handle());
                }
                pinned -= block.pins();
            } else if (block.segment() != null) {
                heap.free(block.segment());
            } else {
                heap.freeAddress(block.address());
            }
            remove(block);
        }

        void touchRandom(FixedHeap heap, SplittableRandom random, String where) {
            Block block = randomBlock(random);
            check(heap, block, where);
            if (block.handle() != FixedHeap.NO_HANDLE) {
                if (!heap.touch(block.handle())) {
                    fail(where + "touch of a live handle returned false");
                }
            } else if (block.segment() != null) {
                heap.touch(block.segment());
            } else {
                heap.touchAddress(block.address());
            }
        }

        void pinOrUnpinRandom(FixedHeap heap, SplittableRandom random, String where) {
            Block block = randomBlock(random);
            if (block.handle() == FixedHeap.NO_HANDLE) {
                return;
            }
            int pins = block.pins();
            if (pins > 0 && random.nextBoolean()) {
                heap.unpin(block.handle());
                pins--;
                pinned--;
            } else {
                if (!heap.pin(block.handle())) {
                    fail(where + "pin of a live handle returned false");
                }
                pins++;
                pinned++;
            }
            blocks.put(block.address(), new Block(block.id(), block.address(), block.size(), block.segment(),
                    block.handle(), pins));
        }

        /** The block's id and its last byte are still what was written. */
        private static void check(FixedHeap heap, Block block, String where) {
            byte[] bytes = new byte[(int) Math.min(block.size(), 1 << 20)];
            if (block.handle() != FixedHeap.NO_HANDLE) {
                if (!heap.read(block.handle(), 0, MemorySegment.ofArray(bytes), 0, bytes.length)) {
                    fail(where + "read of a live handle returned false");
                }
            } else {
                MemorySegment.copy(MemorySegment.ofAddress(block.address()).reinterpret(bytes.length), 0,
                        MemorySegment.ofArray(bytes), 0, bytes.length);
            }
            long id = bytes.length >= 8 ? MemorySegment.ofArray(bytes).get(ValueLayout.JAVA_LONG_UNALIGNED, 0)
                    : MemorySegment.ofAddress(block.address()).reinterpret(8).get(ValueLayout.JAVA_LONG, 0);
            if (id != block.id() || (bytes.length > 8 && bytes[bytes.length - 1] != (byte) block.id())) {
                fail(where + "the block at 0x" + Long.toHexString(block.address()) + " was overwritten");
            }
        }
    }
}
