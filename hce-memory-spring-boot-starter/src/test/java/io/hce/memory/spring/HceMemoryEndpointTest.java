package io.hce.memory.spring;

import io.hce.memory.CacheStatistics;
import io.hce.memory.CachingAllocator;
import io.hce.memory.PoolAllocator;
import io.hce.memory.HeapStatistics;
import io.hce.memory.PoolStatistics;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

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
            assertThat(report.pools().get("entries").blockSize()).isEqualTo(256);
            assertThat(report.heaps().get("items").capacity()).isEqualTo(8 << 20);
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
    void theProfileListsTheSitesThatHoldSampledLiveBlocks() {
        runner.withPropertyValues("hce.memory.leak-detection=paranoid").run(context -> {
            HceMemoryEndpoint endpoint = context.getBean(HceMemoryEndpoint.class);
            CachingAllocator allocator = context.getBean(CachingAllocator.class);
            PoolAllocator pool = context.getBean(PoolAllocators.class).get("entries");
            List<MemorySegment> held = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                held.add(holdFromTheCache(allocator));
            }
            MemorySegment pooled = pool.allocate();

            HceMemoryEndpoint.ProfileReport report = (HceMemoryEndpoint.ProfileReport) endpoint.named("profile");
            assertThat(report.leakDetection()).isEqualTo("paranoid");
            assertThat(report.samplingInterval()).isEqualTo(1);
            assertThat(report.hint()).isNull();
            assertThat(report.sites()).hasSize(2);
            assertThat(report.sites().get(0)).satisfies(site -> {
                assertThat(site.allocator()).isEqualTo("cache");
                assertThat(site.site()).contains("holdFromTheCache");
                assertThat(site.sampledBlocks()).isEqualTo(4);
                assertThat(site.estimatedBytes()).isEqualTo(4 * 1000);
            });
            assertThat(report.sites().get(1).allocator()).isEqualTo("pool entries");
            assertThat(report.sites().get(1).estimatedBytes()).isEqualTo(256);
            held.forEach(allocator::deallocate);
            pool.deallocate(pooled);
            assertThat(((HceMemoryEndpoint.ProfileReport) endpoint.named("profile")).sites()).isEmpty();
        });
    }

    @Test
    void withoutLeakDetectionTheProfileIsEmptyWithAHint() {
        runner.run(context -> {
            HceMemoryEndpoint.ProfileReport report = (HceMemoryEndpoint.ProfileReport) context.getBean(HceMemoryEndpoint.class)
                    .named("profile");
            assertThat(report.sites()).isEmpty();
            assertThat(report.hint()).contains("hce.memory.leak-detection=sampled");
        });
    }

    private static MemorySegment holdFromTheCache(CachingAllocator allocator) {
        return allocator.allocate(1000);
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
