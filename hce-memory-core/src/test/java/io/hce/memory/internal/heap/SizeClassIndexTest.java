package io.hce.memory.internal.heap;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SizeClassIndexTest {

    /** Hand-computed: below 512 one class per 16 bytes; then 32 sub-classes per power of two. */
    @ParameterizedTest(name = "size {0} -> class {1} (first level {2}, second level {3})")
    @CsvSource({
            "16, 1, 0, 1",
            "32, 2, 0, 2",
            "496, 31, 0, 31",
            "511, 31, 0, 31",
            "512, 32, 1, 0",          // 2^9: first level 1 starts; sub-classes 16 bytes wide
            "527, 32, 1, 0",
            "528, 33, 1, 1",
            "1008, 63, 1, 31",
            "1023, 63, 1, 31",
            "1024, 64, 2, 0",         // 2^10: sub-classes 32 bytes wide
            "1055, 64, 2, 0",
            "1056, 65, 2, 1",
            "4096, 128, 4, 0",
            "4224, 129, 4, 1",        // 4096 + 128
            "1073741824, 704, 22, 0", // 2^30
            "2147483632, 735, 22, 31" // 2^31 - 16: the largest block
    })
    void classOfMatchesHandComputedPositions(long size, int sizeClass, int firstLevel, int secondLevel) {
        assertEquals(sizeClass, SizeClassIndex.classOf(size));
        assertEquals(firstLevel * SizeClassIndex.SUB_CLASSES + secondLevel, sizeClass);
    }

    @ParameterizedTest
    @CsvSource({"16, 16", "511, 511", "512, 512", "513, 528", "528, 528", "1025, 1056", "1056, 1056",
            "4097, 4224", "1073741825, 1107296256"})
    void requestsRoundUpToTheirClassBoundary(long size, long rounded) {
        assertEquals(rounded, SizeClassIndex.roundUpToClass(size));
    }

    @Test
    void searchFindsTheFirstClassWhoseBlocksAllFit() {
        SizeClassIndex index = new SizeClassIndex();
        assertEquals(-1, index.findClassAtLeast(32));
        index.setHead(SizeClassIndex.classOf(4224), 7);      // class 129 holds [4224, 4352)
        assertEquals(129, index.findClassAtLeast(32));       // in a higher first level
        assertEquals(129, index.findClassAtLeast(4224));
        assertEquals(-1, index.findClassAtLeast(4225));      // 4225 rounds to 4352: class 130, empty
        index.setHead(SizeClassIndex.classOf(528), 9);
        assertEquals(33, index.findClassAtLeast(513));       // same first level, higher sub-class
        assertEquals(129, index.findClassAtLeast(529));
        index.setHead(33, 0);
        assertEquals(129, index.findClassAtLeast(16));
        assertEquals(129, index.highestNonEmptyClass());
        index.setHead(129, 0);
        assertEquals(-1, index.highestNonEmptyClass());
        assertEquals(false, index.hasStrayFirstLevelBit());
    }
}
