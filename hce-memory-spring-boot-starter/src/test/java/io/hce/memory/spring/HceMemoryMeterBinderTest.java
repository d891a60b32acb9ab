package io.hce.memory.spring;

import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.hce.memory.FixedHeap;
import io.hce.memory.PoolAllocator;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HceMemoryMeterBinderTest {

    private final MockClock clock = new MockClock();
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(HceMemoryAutoConfiguration.class, HceMemoryMetricsAutoConfiguration.class));

    /**
     * One bucket of 64 B with a 128 B limit (2 blocks per thread, a depot of 4): 8 allocations, 8 frees,
     * 8 allocations make 10 misses, 6 hits and 2 frees, as in CachingAllocatorTest's script.
     */
    @Test
    void perBucketCountersMatchAScriptedSequenceExactly() {
        runner.withBean(CachingAllocator.class, () -> CachingAllocator.create(new CacheInfo(List.of(new CacheInfo.Bucket(64, 128)))))
                .run(context -> {
                    MeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
                    context.getBean(HceMemoryMeterBinder.class).bindTo(registry);
                    CachingAllocator allocator = context.getBean(CachingAllocator.class);
                    assertThat(count(registry, "hit")).isZero(); // the meters exist before any use
                    List<MemorySegment> held = new ArrayList<>();
                    for (int round = 0; round < 2; round++) {
                        for (int i = 0; i < 8; i++) {
                            held.add(allocator.allocate(64));
                        }
                        if (round == 0) {
                            held.forEach(allocator::deallocate);
                            held.clear();
                        }
                    }
                    nextScrape();
                    assertThat(count(registry, "miss")).isEqualTo(10);
                    assertThat(count(registry, "hit")).isEqualTo(6);
                    assertThat(registry.get("hce.memory.cache.frees").tag("bucket", "64").functionCounter().count()).isEqualTo(2);
                    assertThat(registry.get("hce.memory.cache.cached").tag("bucket", "64").gauge().value()).isZero();
                    assertThat(registry.get("hce.memory.reserved").gauge().value()).isEqualTo(8 * 64);
                    held.forEach(allocator::deallocate);
                    nextScrape();
                    assertThat(registry.get("hce.memory.cache.cached").tag("bucket", "64").gauge().value()).isEqualTo(6 * 64);
                    assertThat(registry.get("hce.memory.cache.cached").gauge().getId().getBaseUnit()).isEqualTo("bytes");
                    assertThat(registry.get("hce.memory.leaks").functionCounter().count()).isZero();
                });
    }

    @Test
    void poolAndHeapMetersFollowTheirStatistics() {
        runner.withPropertyValues("hce.memory.pools.entries.block-size=32B", "hce.memory.pools.entries.capacity=1",
                        "hce.memory.heaps.items.capacity=64KB")
                .run(context -> {
                    MeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
                    context.getBean(HceMemoryMeterBinder.class).bindTo(registry);
                    PoolAllocator pool = context.getBean(PoolAllocators.class).get("entries");
                    MemorySegment a = pool.allocate();
                    MemorySegment b = pool.allocate();
                    pool.deallocate(a);
                    pool.deallocate(b); // the pool holds one: b is freed
                    pool.deallocate(pool.allocate());
                    nextScrape();
                    assertThat(registry.get("hce.memory.pool.allocations").tags("pool", "entries", "result", "miss")
                            .functionCounter().count()).isEqualTo(2);
                    assertThat(registry.get("hce.memory.pool.allocations").tags("pool", "entries", "result", "hit")
                            .functionCounter().count()).isEqualTo(1);
                    assertThat(registry.get("hce.memory.pool.frees").tag("pool", "entries").functionCounter().count()).isEqualTo(1);
                    assertThat(registry.get("hce.memory.pool.cached").tag("pool", "entries").gauge().value()).isEqualTo(1);

                    FixedHeap heap = context.getBean(FixedHeaps.class).get("items");
                    heap.allocate(heap.maxAllocation());
                    heap.tryAllocate(100);
                    heap.allocateOrEvict(100, victim -> { });
                    nextScrape();
                    assertThat(registry.get("hce.memory.heap.capacity").tag("heap", "items").gauge().value()).isEqualTo(64 * 1024);
                    assertThat(registry.get("hce.memory.heap.used").tag("heap", "items").gauge().value())
                            .isEqualTo(heap.statistics().usedBytes());
                    assertThat(registry.get("hce.memory.heap.failures").tag("heap", "items").functionCounter().count()).isEqualTo(1);
                    assertThat(registry.get("hce.memory.heap.evictions").tag("heap", "items").functionCounter().count()).isEqualTo(1);
                    assertThat(registry.get("hce.memory.heap.largest.free").tag("heap", "items").gauge().value())
                            .isEqualTo(heap.statistics().largestFreeBlock());
                    assertThat(registry.getMeters()).allSatisfy(meter ->
                            assertThat(meter.getId().getDescription()).as(meter.getId().getName()).isNotBlank());
                });
    }

    @Test
    void directAllocationsAreCountedApart() {
        runner.withBean(CachingAllocator.class, () -> CachingAllocator.create(new CacheInfo(List.of(new CacheInfo.Bucket(64, 128)))))
                .run(context -> {
                    MeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
                    context.getBean(HceMemoryMeterBinder.class).bindTo(registry);
                    CachingAllocator allocator = context.getBean(CachingAllocator.class);
                    allocator.deallocate(allocator.allocate(65));
                    allocator.allocate(1000); // still live
                    nextScrape();
                    assertThat(registry.get("hce.memory.direct.allocations").functionCounter().count()).isEqualTo(2);
                    assertThat(registry.get("hce.memory.direct.frees").functionCounter().count()).isEqualTo(1);
                    assertThat(registry.get("hce.memory.reserved").gauge().value()).isEqualTo(1000);
                });
    }

    /** The meters of one scrape share one reading of each allocator's statistics. */
    @Test
    void oneScrapeReadsTheStatisticsOnceAndTheNextScrapeAgain() {
        runner.run(context -> {
            MeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
            context.getBean(HceMemoryMeterBinder.class).bindTo(registry);
            CachingAllocator allocator = context.getBean(CachingAllocator.class);
            double before = registry.get("hce.memory.reserved").gauge().value();
            allocator.allocate(64); // a miss, live
            assertThat(registry.get("hce.memory.reserved").gauge().value()).as("the same scrape").isEqualTo(before);
            nextScrape();
            assertThat(registry.get("hce.memory.reserved").gauge().value()).as("the next scrape").isEqualTo(before + 64);
        });
    }

    /** Moves the registry's clock past a snapshot's age: the next meter read takes new statistics. */
    private void nextScrape() {
        clock.add(StatisticsSnapshot.MAX_AGE.plus(Duration.ofMillis(1)));
    }

    private static double count(MeterRegistry registry, String result) {
        return registry.get("hce.memory.cache.allocations").tags("bucket", "64", "result", result).functionCounter().count();
    }
}
