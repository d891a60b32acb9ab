package io.hce.memory.spring;

import io.hce.memory.AllocatorOptions;
import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.hce.memory.FixedHeap;
import io.hce.memory.LeakDetection;
import io.hce.memory.Memory;
import io.hce.memory.PoolAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

class HceMemoryAutoConfigurationTest {

    /** Memory's default is process-wide: fix it first, as an application that used Memory early would. */
    @BeforeAll
    static void fixMemorysDefault() {
        Memory.allocator();
    }

    /** The adoption warning, and Spring's warning for a context that fails to start: checked, not printed. */
    private CapturedLog log;

    @BeforeEach
    void captureWarnings() {
        log = CapturedLog.of("io.hce.memory.spring", "org.springframework.context");
    }

    @AfterEach
    void printUncheckedRecords() {
        log.close();
    }

    private List<String> warnings() {
        return log.take(record -> record.getLevel().intValue() >= Level.WARNING.intValue()).stream()
                .map(LogRecord::getMessage).toList();
    }

    private void assertAdoptionWarning(String configured) {
        assertThat(warnings()).singleElement(as(STRING))
                .startsWith("Memory's default allocator was fixed before this context configured " + configured)
                .contains("Memory.* keeps using it, and this context's CachingAllocator bean is a separate allocator");
    }

    private void assertStartUpFailureWarning(String naming) {
        assertThat(warnings()).singleElement(as(STRING))
                .startsWith("Exception encountered during context initialization - cancelling refresh attempt")
                .contains(naming);
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(HceMemoryAutoConfiguration.class,
                    HceMemoryMetricsAutoConfiguration.class, HceMemoryEndpointAutoConfiguration.class));

    @Test
    void defaultsAreHcesAndTheAllocatorIsMemorysDefault() {
        runner.run(context -> {
            assertThat(context).getBean(CacheInfo.class).isEqualTo(CacheInfo.defaults());
            assertThat(context).getBean(CachingAllocator.class).isSameAs(Memory.allocator());
            assertThat(context.getBean(PoolAllocators.class).asMap()).isEmpty();
            assertThat(context.getBean(FixedHeaps.class).asMap()).isEmpty();
            assertThat(context).hasSingleBean(HceMemoryMeterBinder.class);
        });
        assertThat(warnings()).as("the same layout shares the default, silently").isEmpty();
    }

    @Test
    void aContextWithAnotherLayoutGetsItsOwnAllocatorAndLeavesMemorysDefaultAlone() {
        CachingAllocator before = Memory.allocator();
        runner.withPropertyValues("hce.memory.cache.bucket-count=5").run(context -> {
            CachingAllocator bean = context.getBean(CachingAllocator.class);
            assertThat(bean).isNotSameAs(Memory.allocator());
            assertThat(bean.info()).isEqualTo(CacheInfo.of(5, 64 * 1024));
        });
        assertAdoptionWarning("5 buckets with AllocatorOptions[checked=false, leakDetection=OFF]");
        runner.run(context -> assertThat(context).getBean(CachingAllocator.class).isSameAs(before));
        assertThat(Memory.allocator()).isSameAs(before);
        assertThat(warnings()).isEmpty();
    }

    @Test
    void everyCachePropertyIsMapped() {
        runner.withPropertyValues("hce.memory.cache.bucket-count=8", "hce.memory.cache.bucket-byte-limit=1MB",
                        "hce.memory.cache.buckets.2.byte-limit=4KB", "hce.memory.cache.buckets.7.block-size=200B",
                        "hce.memory.cache.buckets.7.byte-limit=0")
                .run(context -> {
                    List<CacheInfo.Bucket> buckets = context.getBean(CacheInfo.class).buckets();
                    assertThat(buckets).hasSize(8);
                    assertThat(buckets.get(0)).isEqualTo(new CacheInfo.Bucket(1, 1 << 20));
                    assertThat(buckets.get(2)).isEqualTo(new CacheInfo.Bucket(4, 4096));
                    assertThat(buckets.get(7)).isEqualTo(new CacheInfo.Bucket(200, 0));
                    assertThat(context.getBean(CachingAllocator.class).info().buckets()).isEqualTo(buckets);
                });
        assertAdoptionWarning("8 buckets");
    }

    @Test
    void aCacheInfoBeanOfTheApplicationReplacesTheProperties() {
        CacheInfo own = new CacheInfo(List.of(new CacheInfo.Bucket(48, 4096), new CacheInfo.Bucket(1500, 1 << 20)));
        runner.withPropertyValues("hce.memory.cache.bucket-count=4")
                .withBean(CacheInfo.class, () -> own)
                .run(context -> {
                    assertThat(context).getBean(CacheInfo.class).isSameAs(own);
                    assertThat(context.getBean(CachingAllocator.class).info()).isEqualTo(own);
                });
        assertAdoptionWarning("2 buckets");
    }

    @Test
    void customizersAdjustThePropertiesLayout() {
        runner.withBean(CacheInfoCustomizer.class, () -> info -> CacheInfo.of(info.buckets().size() - 1, 1024))
                .run(context -> assertThat(context.getBean(CacheInfo.class)).isEqualTo(CacheInfo.of(12, 1024)));
        assertAdoptionWarning("12 buckets");
    }

    @Configuration(proxyBeanMethods = false)
    static class PoolAndHeapUser {

        @Bean
        String injected(@Qualifier("entries") PoolAllocator entries, @Qualifier("items") FixedHeap items) {
            return entries.name() + "+" + items.name();
        }
    }

    @Test
    void poolsAndHeapsFromPropertiesAreInjectableByQualifier() {
        runner.withUserConfiguration(PoolAndHeapUser.class)
                .withPropertyValues("hce.memory.pools.entries.block-size=48B", "hce.memory.pools.entries.alignment=64",
                        "hce.memory.pools.entries.capacity=8", "hce.memory.pools.entries.preallocate=true",
                        "hce.memory.pools.scratch.block-size=1KB", "hce.memory.heaps.items.capacity=1MB")
                .run(context -> {
                    assertThat(context.getBean("injected", String.class)).isEqualTo("entries+items");
                    PoolAllocator entries = context.getBean(PoolAllocators.class).get("entries");
                    assertThat(entries.blockSize()).isEqualTo(48);
                    assertThat(entries.blockAlignment()).isEqualTo(64);
                    assertThat(entries.statistics().cachedBlocks()).isEqualTo(8);
                    assertThat(context.getBean(PoolAllocators.class).get("scratch").capacity()).isEqualTo(64);
                    assertThat(context.getBean(FixedHeaps.class).get("items").capacity()).isEqualTo(1 << 20);
                });
    }

    @Test
    void heapsAreClosedAndPoolsDrainedWhenTheContextCloses() {
        FixedHeap[] heap = new FixedHeap[1];
        PoolAllocator[] pool = new PoolAllocator[1];
        runner.withPropertyValues("hce.memory.pools.p.block-size=64B", "hce.memory.pools.p.preallocate=true",
                        "hce.memory.heaps.h.capacity=64KB")
                .run(context -> {
                    heap[0] = context.getBean("h", FixedHeap.class);
                    pool[0] = context.getBean("p", PoolAllocator.class);
                    assertThat(pool[0].statistics().cachedBlocks()).isEqualTo(64);
                });
        assertThat(pool[0].statistics().cachedBlocks()).isZero();
        assertThat(heap[0].statistics().usedBytes() + heap[0].statistics().freeBytes()).isZero();
    }

    @Test
    void checkedModeAndLeakDetectionReachEveryAllocator() {
        runner.withPropertyValues("hce.memory.checked=true", "hce.memory.leak-detection=paranoid",
                        "hce.memory.pools.p.block-size=64B")
                .run(context -> {
                    AllocatorOptions expected = new AllocatorOptions(true, LeakDetection.PARANOID);
                    CachingAllocator allocator = context.getBean(CachingAllocator.class);
                    assertThat(allocator.options()).isEqualTo(expected);
                    assertThat(allocator).isNotSameAs(Memory.allocator()); // the default is unchecked
                    MemorySegment block = allocator.allocate(16);
                    allocator.deallocate(block);
                    assertThatThrownBy(() -> allocator.deallocate(block)).hasMessageContaining("double free");
                    PoolAllocator pool = context.getBean("p", PoolAllocator.class);
                    MemorySegment pooled = pool.allocate();
                    pool.deallocate(pooled);
                    assertThatThrownBy(() -> pool.deallocate(pooled)).hasMessageContaining("double free");
                });
        assertAdoptionWarning("13 buckets with AllocatorOptions[checked=true, leakDetection=PARANOID]");
    }

    @Test
    void aBadLeakDetectionModeStopsStartUp() {
        runner.withPropertyValues("hce.memory.leak-detection=always")
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .hasMessageContaining("hce.memory.leak-detection"));
        assertStartUpFailureWarning("hce.memory.leak-detection");
    }

    @Test
    void disabledMeansNoBeans() {
        runner.withPropertyValues("hce.memory.enabled=false", "hce.memory.pools.p.block-size=64B")
                .run(context -> assertThat(context).doesNotHaveBean(CachingAllocator.class)
                        .doesNotHaveBean(PoolAllocator.class).doesNotHaveBean(HceMemoryMeterBinder.class));
    }

    @Test
    void metricsCanBeSwitchedOff() {
        runner.withPropertyValues("hce.memory.metrics.enabled=false")
                .run(context -> assertThat(context).hasSingleBean(CachingAllocator.class)
                        .doesNotHaveBean(HceMemoryMeterBinder.class));
    }

    @Test
    void startsWithoutMicrometerOrActuator() {
        runner.withClassLoader(new FilteredClassLoader("io.micrometer", "org.springframework.boot.actuate"))
                .withPropertyValues("hce.memory.heaps.h.capacity=64KB")
                .run(context -> assertThat(context).hasNotFailed().hasSingleBean(CachingAllocator.class)
                        .hasSingleBean(FixedHeap.class).doesNotHaveBean(HceMemoryMeterBinder.class)
                        .doesNotHaveBean(HceMemoryEndpoint.class));
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "hce.memory.cache.bucket-count | 0 | hce.memory.cache.bucket-count=0: must be between 1 and 31",
            "hce.memory.cache.bucket-count | 64 | hce.memory.cache.bucket-count=64: must be between 1 and 31",
            "hce.memory.cache.bucket-byte-limit | -1B | hce.memory.cache.bucket-byte-limit=-1B: must not be negative",
            "hce.memory.cache.buckets.13.byte-limit | 1KB | hce.memory.cache.buckets.13: unknown bucket index 13",
            "hce.memory.cache.buckets.3.block-size | 2B | hce.memory.cache.buckets: must increase strictly in block size, but bucket 3 (2 B) follows bucket 2 (4 B)",
            "hce.memory.cache.buckets.3.block-size | 0B | hce.memory.cache.buckets.3.block-size=0B: must be between 1 and 1073741824 bytes",
            "hce.memory.cache.buckets.3.byte-limit | -1KB | hce.memory.cache.buckets.3.byte-limit=-1KB: must not be negative",
            "hce.memory.pools.p.block-size | 0B | hce.memory.pools.p.block-size=0B: must be at least 1 byte",
            "hce.memory.heaps.h.capacity | 1KB | hce.memory.heaps.h.capacity=1KB: must be between 4KB and 64GB",
            "hce.memory.heaps.h.capacity | 100TB | hce.memory.heaps.h.capacity=100TB: must be between 4KB and 64GB"})
    void invalidValuesStopStartUpNamingThePropertyValueAsWrittenAndReason(String property, String value, String message) {
        runner.withPropertyValues(property + "=" + value, "hce.memory.pools.ok.block-size=8B")
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .isInstanceOf(HceMemoryConfigurationException.class).hasMessageContaining(message));
        assertStartUpFailureWarning(message);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "hce.memory.pools.p.alignment | 3 | hce.memory.pools.p.alignment=3: must be a power of two",
            "hce.memory.pools.p.alignment | 48B | hce.memory.pools.p.alignment=48B: must be a power of two",
            "hce.memory.pools.p.capacity | 0 | hce.memory.pools.p.capacity=0: must be at least 1",
            "hce.memory.pools.p.block-size | -8B | hce.memory.pools.p.block-size=-8B: must be at least 1 byte"})
    void invalidPoolValuesStopStartUp(String property, String value, String message) {
        runner.withPropertyValues("hce.memory.pools.p.block-size=8B", property + "=" + value)
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .isInstanceOf(HceMemoryConfigurationException.class).hasMessageContaining(message));
        assertStartUpFailureWarning(message);
    }

    @Test
    void aPoolWithoutItsBlockSizeStopsStartUp() {
        runner.withPropertyValues("hce.memory.pools.p.capacity=8")
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .hasMessageContaining("hce.memory.pools.p.block-size: must be set"));
        assertStartUpFailureWarning("hce.memory.pools.p.block-size: must be set");
    }

    @ParameterizedTest(name = "alignment={0}")
    @CsvSource({"64, 64", "64B, 64", "1KB, 1024"})
    void alignmentIsADataSizeAndAPlainNumberIsBytes(String alignment, long bytes) {
        runner.withPropertyValues("hce.memory.pools.p.block-size=48B", "hce.memory.pools.p.alignment=" + alignment)
                .run(context -> assertThat(context.getBean("p", PoolAllocator.class).blockAlignment()).isEqualTo(bytes));
    }

    @Test
    void alignmentDefaultsTo16Bytes() {
        runner.withPropertyValues("hce.memory.pools.p.block-size=48B")
                .run(context -> assertThat(context.getBean("p", PoolAllocator.class).blockAlignment()).isEqualTo(16));
    }
}
