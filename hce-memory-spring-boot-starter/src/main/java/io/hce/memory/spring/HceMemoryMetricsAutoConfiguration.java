package io.hce.memory.spring;

import io.hce.memory.CachingAllocator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * hce-memory's meters, when Micrometer is on the class path: a {@link HceMemoryMeterBinder}, which
 * Spring Boot binds to every {@code MeterRegistry}. {@code hce.memory.metrics.enabled=false} turns it off.
 */
@AutoConfiguration(after = HceMemoryAutoConfiguration.class)
@ConditionalOnClass(name = "io.micrometer.core.instrument.binder.MeterBinder")
@ConditionalOnBean(CachingAllocator.class)
@ConditionalOnBooleanProperty(name = "hce.memory.metrics.enabled", matchIfMissing = true)
public final class HceMemoryMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    HceMemoryMeterBinder hceMemoryMeterBinder(CachingAllocator allocator, PoolAllocators pools, FixedHeaps heaps) {
        return new HceMemoryMeterBinder(allocator, pools, heaps);
    }
}
