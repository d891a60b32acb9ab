package io.hce.memory.internal.pool;

import io.hce.memory.internal.concurrent.FieldHandles;
import io.hce.memory.internal.concurrent.ThreadOwned;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The blocks one platform thread keeps at hand for one pool, and the places it holds for them.
 *
 * <pre>
 *   blocks: [ b0 | b1 | … | b(count-1) |  empty places  |   not held   ]
 *            0                          count           places          length
 * </pre>
 * {@code count <= places <= blocks.length}. A place is room for one cached block under the pool's capacity
 * (see {@link BlockPool}); the magazine's places between {@code count} and {@code places} are empty.
 *
 * <p>Written by its owner only, with plain stores (the package documentation says why that is safe); other
 * threads read {@code count} and {@code hits} opaquely.
 */
final class Magazine extends ThreadOwned {

    private static final VarHandle COUNT = FieldHandles.of(MethodHandles.lookup(), "count", int.class);
    private static final VarHandle HITS = FieldHandles.of(MethodHandles.lookup(), "hits", long.class);

    final long[] blocks;
    int count;
    int places;
    long hits;

    Magazine(long ownerId, int size) {
        super(ownerId);
        this.blocks = new long[size];
    }

    int countOpaque() {
        return (int) COUNT.getOpaque(this);
    }

    long hitsOpaque() {
        return (long) HITS.getOpaque(this);
    }
}
