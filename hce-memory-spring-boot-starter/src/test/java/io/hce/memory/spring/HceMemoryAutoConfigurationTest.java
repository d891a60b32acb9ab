package io.hce.memory.spring;

import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.hce.memory.Memory;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

class HceMemoryAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(HceMemoryAutoConfiguration.class));

    @Test
    void providesTheDefaultAllocator() {
        runner.run(context -> assertThat(context).getBean(CachingAllocator.class).isSameAs(Memory.allocator()));
    }

    @Test
    void backsOffWhenTheApplicationDefinesAnAllocator() {
        CachingAllocator own = CachingAllocator.create(CacheInfo.of(4, 1024));
        runner.withBean(CachingAllocator.class, () -> own)
                .run(context -> assertThat(context).getBean(CachingAllocator.class).isSameAs(own));
    }
}
