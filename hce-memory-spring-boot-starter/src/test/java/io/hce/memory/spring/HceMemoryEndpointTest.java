package io.hce.memory.spring;

import io.hce.memory.CacheStatistics;
import io.hce.memory.HeapStatistics;
import io.hce.memory.PoolStatistics;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

class HceMemoryEndpointTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(HceMemoryAutoConfiguration.class, HceMemoryEndpointAutoConfiguration.class))
            .withPropertyValues("hce.memory.pools.entries.block-size=256B", "hce.memory.heaps.items.capacity=8MB",
                    "management.endpoints.web.exposure.include=hcememory");

    @Test
    void reportsTheCacheEveryPoolAndEveryHeap() {
        runner.run(context -> {
            HceMemoryEndpoint endpoint = context.getBean(HceMemoryEndpoint.class);
            HceMemoryEndpoint.MemoryReport report = endpoint.memory();
            assertThat(report.cache()).isInstanceOf(CacheStatistics.class);
            assertThat(report.cache().buckets()).hasSize(13);
            assertThat(report.pools()).containsOnlyKeys("entries");
            assertThat(((PoolStatistics) report.pools().get("entries")).blockSize()).isEqualTo(256);
            assertThat(((HeapStatistics) report.heaps().get("items")).capacity()).isEqualTo(8 << 20);
        });
    }

    @Test
    void reportsOnePoolOrHeapByNameAndNothingForAnUnknownName() {
        runner.run(context -> {
            HceMemoryEndpoint endpoint = context.getBean(HceMemoryEndpoint.class);
            assertThat(endpoint.named("entries")).isInstanceOf(PoolStatistics.class);
            assertThat(endpoint.named("items")).isInstanceOf(HeapStatistics.class);
            assertThat(endpoint.named("nothing")).isNull(); // Actuator answers 404
        });
    }

    @Test
    void isNotCreatedUnlessExposed() {
        runner.withPropertyValues("management.endpoints.web.exposure.include=health")
                .run(context -> assertThat(context).doesNotHaveBean(HceMemoryEndpoint.class));
    }

    @Test
    void isNotCreatedWhenDisabled() {
        runner.withPropertyValues("management.endpoint.hcememory.access=NONE")
                .run(context -> assertThat(context).doesNotHaveBean(HceMemoryEndpoint.class));
    }
}
