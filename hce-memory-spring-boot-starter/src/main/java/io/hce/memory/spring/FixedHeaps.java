package io.hce.memory.spring;

import io.hce.memory.FixedHeap;

import java.util.Map;

/** The {@link FixedHeap} beans configured under {@code hce.memory.heaps}, by name. */
public final class FixedHeaps extends NamedInstances<FixedHeap> {

    /**
     * @param byName the heaps by name
     */
    public FixedHeaps(Map<String, FixedHeap> byName) {
        super("heap", byName);
    }
}
