package io.hce.memory.spring;

import io.hce.memory.CachingAllocator;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The {@code hcememory} Actuator endpoint, when Actuator is on the class path and the endpoint is enabled
 * and exposed.
 */
@AutoConfiguration(after = HceMemoryAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
@ConditionalOnBean(CachingAllocator.class)
public final class HceMemoryEndpointAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnAvailableEndpoint(HceMemoryEndpoint.class)
    HceMemoryEndpoint hceMemoryEndpoint(CachingAllocator allocator, PoolAllocators pools, FixedHeaps heaps) {
        return new HceMemoryEndpoint(allocator, pools, heaps);
    }
}
