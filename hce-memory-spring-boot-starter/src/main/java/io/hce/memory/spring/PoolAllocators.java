package io.hce.memory.spring;

import io.hce.memory.PoolAllocator;

import java.util.Map;

/** The {@link PoolAllocator} beans configured under {@code hce.memory.pools}, by name. */
public final class PoolAllocators extends NamedInstances<PoolAllocator> {

    /**
     * @param byName the pools by name
     */
    public PoolAllocators(Map<String, PoolAllocator> byName) {
        super("pool", byName);
    }
}
