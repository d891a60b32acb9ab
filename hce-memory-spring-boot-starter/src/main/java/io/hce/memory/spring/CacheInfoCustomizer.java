package io.hce.memory.spring;

import io.hce.memory.CacheInfo;

/**
 * Adjusts the {@link CacheInfo} made from {@code hce.memory.cache.*} before the allocator is built. Beans of
 * this type are applied in order; a {@code CacheInfo} bean of the application's own replaces the
 * properties and the customizers altogether.
 */
@FunctionalInterface
public interface CacheInfoCustomizer {

    /**
     * @param info the layout so far
     * @return the layout to use (records are immutable: return a new one)
     */
    CacheInfo customize(CacheInfo info);
}
