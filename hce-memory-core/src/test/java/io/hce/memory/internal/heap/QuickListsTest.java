package io.hce.memory.internal.heap;

import io.hce.memory.testing.PrivateFields;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuickListsTest {

    private final QuickLists quick = new QuickLists(8);

    @Test
    void aRequestGetsTheSmallestKeptBlockOfItsClassThatFits() {
        quick.push(1 << 10, 2112, 0); // classes from 2048 are 64 bytes wide: 2112 … 2175
        quick.push(2 << 10, 2160, 0);
        quick.push(3 << 10, 2128, QuickLists.FLAG);
        long entry = quick.pop(2128);
        assertEquals(2128, QuickLists.size(entry));
        assertEquals(3 << 10, QuickLists.block(entry));
        assertTrue((entry & QuickLists.FLAG) != 0, "the flag comes back");
        assertEquals(2160, QuickLists.size(quick.pop(2128)));
        assertEquals(-1, quick.pop(2128), "2112 is too small");
        assertEquals(2112, QuickLists.size(quick.pop(2112)));
        assertNull(quick.check());
    }

    @Test
    void aBlockOfTheNextClassIsNotHandedOut() {
        quick.push(1 << 10, 2176, 0); // the class after 2112 … 2175
        assertEquals(-1, quick.pop(2112));
        assertEquals(2176, QuickLists.size(quick.pop(2176)));
    }

    @Test
    void blocksFrom16KiBAreNotKept() {
        assertTrue(QuickLists.holds(16384 - 16));
        assertFalse(QuickLists.holds(16384));
        assertEquals(-1, quick.pop(16384));
    }

    @Test
    void theLimitCountsBlocksAndTheBooksAddUp() {
        for (int i = 0; i < 8; i++) {
            assertTrue(quick.hasRoom());
            quick.push((i + 1L) << 12, 32 + 16 * i, 0);
        }
        assertFalse(quick.hasRoom());
        assertEquals(8, quick.blocks());
        assertEquals(8 * 32 + 16 * 28, quick.bytes());
        assertTrue(quick.remove(3L << 12, 64));
        assertFalse(quick.remove(3L << 12, 64), "removed once");
        assertFalse(quick.remove(5L << 12, 64), "not of that size");
        assertEquals(7, quick.blocks());
        assertEquals(144, QuickLists.size(quick.popLargest()));
        assertNull(quick.check());
    }

    /** Each size in turn fills the lists and keeps a few: trimming must keep those, and bound the room. */
    @Test
    void theListsNeverTakeMoreThanTwiceTheLimitOfEntriesAndTrimmingKeepsWhatTheyHold() {
        QuickLists lists = new QuickLists(10_000);
        java.util.Set<Long> kept = new java.util.HashSet<>();
        long nextBlock = 1;
        for (int size = 32; size < 16384 && lists.hasRoom(); size += 16 * 97) {
            List<Long> pushed = new ArrayList<>();
            while (lists.hasRoom()) {
                long block = nextBlock++ << 4;
                lists.push(block, size, 0);
                pushed.add(block);
            }
            for (int i = 0; i < pushed.size() - 10; i++) {
                kept.add(pushed.get(i));
                assertTrue(pushed.contains(QuickLists.block(lists.pop(size))));
            }
            long length = 0;
            for (int[] list : PrivateFields.read(lists, "lists", int[][].class)) {
                length += list == null ? 0 : list.length;
            }
            assertTrue(length <= 2 * 10_000 + 8 * 1024, "entries' room after " + size + "-byte blocks: " + length);
            assertNull(lists.check());
        }
        java.util.Set<Long> left = new java.util.HashSet<>();
        for (long entry; (entry = lists.popLargest()) >= 0; ) {
            assertTrue(left.add(QuickLists.block(entry)), "each block once");
        }
        assertTrue(left.size() >= 100, "the few of each size were kept through the trims: " + left.size());
        assertNull(lists.check());
    }

    /** Blocks freed in allocation order come back in it: the next round walks the shard in address order. */
    @Test
    void eachListHandsOutItsOldestBlockFirstAndARemovalKeepsTheOrder() {
        QuickLists lists = new QuickLists(64);
        ArrayDeque<Long> expected = new ArrayDeque<>();
        long nextBlock = 1;
        for (int round = 0; round < 10; round++) { // three in, two out: the ring wraps, and grows while wrapped
            for (int i = 0; i < 3; i++) {
                lists.push(nextBlock << 4, 64, 0);
                expected.add(nextBlock++ << 4);
            }
            for (int i = 0; i < 2; i++) {
                assertEquals(expected.poll(), QuickLists.block(lists.pop(64)));
            }
        }
        Long middle = new ArrayList<>(expected).get(5);
        assertTrue(lists.remove(middle, 64));
        expected.remove(middle);
        while (!expected.isEmpty()) {
            assertEquals(expected.poll(), QuickLists.block(lists.pop(64)));
        }
        assertEquals(-1, lists.pop(64));
        assertNull(lists.check());
    }

    /**
     * Against a model (the blocks kept per size, oldest first), with a printed, replayable seed. The limit is
     * small and the sizes mixed, so that lists wrap, grow and are trimmed while others hold blocks; some blocks
     * are removed from the middle of their lists, as a resize that grows into one does.
     */
    @Test
    void randomPushesAndPopsAgreeWithAModel() {
        long seed = Long.getLong("hce.test.seed", System.nanoTime());
        System.out.println("QuickListsTest seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        QuickLists lists = new QuickLists(64);
        TreeMap<Long, List<Long>> model = new TreeMap<>();
        long nextBlock = 1;
        for (int step = 0; step < 100_000; step++) {
            long size = (1 + random.nextInt(random.nextBoolean() ? 8 : 1023)) * 16L;
            if (random.nextInt(10) == 0 && !model.isEmpty()) {
                long keptSize = model.keySet().stream().skip(random.nextInt(model.size())).findFirst().orElseThrow();
                List<Long> blocks = model.get(keptSize);
                long kept = blocks.remove(random.nextInt(blocks.size()));
                assertTrue(lists.remove(kept, keptSize), "seed " + seed + ", step " + step);
                if (blocks.isEmpty()) {
                    model.remove(keptSize);
                }
            } else if (random.nextBoolean() && lists.hasRoom()) {
                long block = nextBlock++ << 4;
                lists.push(block, size, 0);
                model.computeIfAbsent(size, s -> new ArrayList<>()).add(block);
            } else {
                long classTop = SizeClassIndex.largestSizeIn(SizeClassIndex.classOf(size));
                Long fit = model.ceilingKey(size);
                long expected = fit == null || fit > classTop ? -1 : fit;
                assertEquals(expected >= 0, lists.mightPop(size), "seed " + seed + ", step " + step + ": the hint, exact here");
                long entry = lists.pop(size);
                assertEquals(expected, entry < 0 ? -1 : QuickLists.size(entry), "seed " + seed + ", step " + step);
                if (entry >= 0) {
                    List<Long> blocks = model.get(fit);
                    assertEquals(blocks.remove(0), QuickLists.block(entry), "seed " + seed + ": the oldest block of that size");
                    if (blocks.isEmpty()) {
                        model.remove(fit);
                    }
                }
            }
            assertNull(lists.check(), "seed " + seed + ", step " + step);
        }
    }
}
