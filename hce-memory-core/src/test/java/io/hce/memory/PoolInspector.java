package io.hce.memory;

import io.hce.memory.internal.pool.BlockPool;
import io.hce.memory.internal.pool.BlockPoolInspector;
import io.hce.memory.testing.PrivateFields;

import java.lang.ref.WeakReference;
import java.util.function.IntSupplier;

/**
 * What tests see of a {@link PoolAllocator}'s engine. The views do not hold the pool itself, only its
 * engine, so a test can drop the pool and watch its cleaner drain the engine.
 */
public final class PoolInspector {

    private PoolInspector() {
    }

    /** @return the pool's engine */
    public static BlockPool engine(PoolAllocator pool) {
        return PrivateFields.read(pool, "blocks", BlockPool.class);
    }

    /** @return how many blocks the engine caches, without keeping the pool reachable */
    public static IntSupplier cachedBlocks(PoolAllocator pool) {
        return engine(pool)::cachedBlocks;
    }

    /** @return how many threads have a magazine of the engine, without keeping the pool reachable */
    public static IntSupplier liveMagazines(PoolAllocator pool) {
        BlockPool engine = engine(pool);
        return () -> BlockPoolInspector.liveMagazines(engine);
    }

    /** @return the engine, weakly, to see that nothing keeps it once the pool is dropped */
    public static WeakReference<BlockPool> engineReference(PoolAllocator pool) {
        return new WeakReference<>(engine(pool));
    }
}
