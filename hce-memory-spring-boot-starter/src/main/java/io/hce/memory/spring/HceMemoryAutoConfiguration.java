package io.hce.memory.spring;

import io.hce.memory.CachingAllocator;
import io.hce.memory.Memory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of hce-memory: makes the process-wide {@link CachingAllocator} of {@link Memory}
 * injectable. An application that defines its own {@code CachingAllocator} bean keeps it.
 */
@AutoConfiguration
public final class HceMemoryAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    CachingAllocator hceCachingAllocator() {
        return Memory.allocator();
    }
}
