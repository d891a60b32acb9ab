package io.hce.memory.spring;

import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.hce.memory.FixedHeap;
import io.hce.memory.PoolAllocator;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

import java.util.Map;

/**
 * Auto-configuration of hce-memory: the {@link CacheInfo} and {@link CachingAllocator} (which becomes
 * {@code Memory}'s default when it can, see {@link DefaultAllocatorAdoption}), a {@link PoolAllocator} per
 * {@code hce.memory.pools.<name>} and a {@link FixedHeap} per {@code hce.memory.heaps.<name>}, and the
 * registries of both, and an INFO line at start-up that says what was configured ({@link StartupSummary}).
 * {@code hce.memory.enabled=false} turns it all off. Configuration failures are reported by
 * {@link HceMemoryFailureAnalyzer}.
 */
@AutoConfiguration
@ConditionalOnBooleanProperty(name = "hce.memory.enabled", matchIfMissing = true)
@EnableConfigurationProperties(HceMemoryProperties.class)
public final class HceMemoryAutoConfiguration {

    /** The application's own {@code CacheInfo} bean replaces the properties: the Java {@code get_info()}. */
    @Bean
    @ConditionalOnMissingBean
    CacheInfo hceCacheInfo(HceMemoryProperties properties, ObjectProvider<CacheInfoCustomizer> customizers) {
        CacheInfo info = properties.cache().toCacheInfo();
        for (CacheInfoCustomizer customizer : customizers.orderedStream().toList()) {
            info = customizer.customize(info);
        }
        return info;
    }

    @Bean
    @ConditionalOnMissingBean
    CachingAllocator hceCachingAllocator(CacheInfo info, HceMemoryProperties properties) {
        return DefaultAllocatorAdoption.allocatorFor(info, properties.allocatorOptions());
    }

    @Bean
    static NamedAllocatorsRegistrar hceNamedAllocatorsRegistrar() {
        return new NamedAllocatorsRegistrar();
    }

    @Bean
    @ConditionalOnMissingBean
    PoolAllocators hcePoolAllocators(Map<String, PoolAllocator> pools) {
        return new PoolAllocators(pools);
    }

    @Bean
    @ConditionalOnMissingBean
    FixedHeaps hceFixedHeaps(Map<String, FixedHeap> heaps) {
        return new FixedHeaps(heaps);
    }

    /** The INFO line that says at start-up what was configured. */
    @Bean
    StartupSummary hceMemoryStartupSummary(CachingAllocator allocator, PoolAllocators pools, FixedHeaps heaps) {
        return new StartupSummary(allocator, pools, heaps);
    }
}
