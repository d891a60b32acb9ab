package io.hce.memory.internal.cache;

import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ring's slot protocol is MpmcSequence's, tested under contention in LongRingTest. */
class BatchRingTest {

    @Test
    void isFirstInFirstOutAndBounded() {
        BatchRing ring = new BatchRing(4);
        assertNull(ring.poll());
        long[][] batches = new long[6][];
        for (int lap = 0; lap < 3; lap++) {
            for (int i = 0; i < 4; i++) {
                batches[i] = new long[]{lap, i};
                assertTrue(ring.offer(batches[i]));
            }
            assertEquals(4, ring.size());
            assertEquals(false, ring.offer(new long[1]));
            for (int i = 0; i < 4; i++) {
                assertSame(batches[i], ring.poll());
            }
            assertNull(ring.poll());
            assertEquals(0, ring.size());
        }
    }

    @Test
    void capacityMustBeAPowerOfTwo() {
        assertThrows(IllegalArgumentException.class, () -> new BatchRing(3));
        assertThrows(IllegalArgumentException.class, () -> new BatchRing(1));
    }
}
