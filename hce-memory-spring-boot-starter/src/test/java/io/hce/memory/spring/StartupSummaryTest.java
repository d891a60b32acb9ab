package io.hce.memory.spring;

import io.hce.memory.AllocatorOptions;
import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.hce.memory.FixedHeap;
import io.hce.memory.LeakDetection;
import io.hce.memory.Memory;
import io.hce.memory.PoolAllocator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(OutputCaptureExtension.class)
class StartupSummaryTest {

    @BeforeAll
    static void fixMemorysDefault() {
        Memory.allocator();
    }

    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration(HceMemoryAutoConfiguration.class)
    static class Application {
    }

    @Test
    void startUpLogsExactlyOneInfoLineWithWhatWasConfigured(CapturedOutput output) {
        SpringApplication application = new SpringApplication(Application.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        application.setRegisterShutdownHook(false);
        try (ConfigurableApplicationContext context = application.run("--hce.memory.pools.entries.block-size=24B",
                "--hce.memory.pools.entries.alignment=64B", "--hce.memory.pools.entries.capacity=8",
                "--hce.memory.pools.entries.preallocate=true", "--hce.memory.heaps.items.capacity=1MB")) {
            List<String> lines = output.getAll().lines().filter(line -> line.contains("hce-memory: ")).toList();
            assertThat(lines).singleElement().satisfies(line -> assertThat(line).contains(" INFO ", StartupSummary.class.getName(),
                    "hce-memory: 13 buckets of 1B to 4KB, 64KB each, at most ",
                    "; pools: entries (24B blocks aligned to 64B, capacity 8, 8 cached); heaps: items (1MB, "
                            + context.getBean("items", FixedHeap.class).shards() + " shard",
                    "; checked mode off, leak detection off"));
        }
    }

    @Test
    void theLineHasTheCachesBoundForTheGivenPlatformThreads() {
        CachingAllocator allocator = CachingAllocator.create(new CacheInfo(List.of(new CacheInfo.Bucket(64, 1024),
                new CacheInfo.Bucket(1500, 256 * 1024))), new AllocatorOptions(true, LeakDetection.SAMPLED));
        PoolAllocator pool = PoolAllocator.create("frames", MemoryLayout.sequenceLayout(1500, ValueLayout.JAVA_BYTE), 4);
        try (FixedHeap heap = FixedHeap.create("values", 8 << 20, 1, false)) {
            String line = StartupSummary.line(allocator, Map.of("frames", pool), Map.of("values", heap), 10);
            assertThat(line).isEqualTo("hce-memory: 2 buckets of 64B to 1.5KB, byte limits 1KB to 256KB, at most "
                    + SizeText.of(allocator.maxCachedBytes(10)) + " cached with 10 platform threads; pools: frames"
                    + " (1.5KB blocks aligned to 16B, capacity 4); heaps: values (8MB, 1 shard); checked mode on,"
                    + " leak detection sampled");
            // the bound grows with the threads: each platform thread that allocates may fill a cache
            assertThat(allocator.maxCachedBytes(20)).isGreaterThan(allocator.maxCachedBytes(10));
        } finally {
            pool.close();
        }
    }

    @Test
    void noPoolsOrHeapsSaySo() {
        assertThat(StartupSummary.line(Memory.allocator(), Map.of(), Map.of(), 1))
                .contains("; pools: none; heaps: none; ");
    }

    @Test
    void sizesAreWrittenAsDataSizesReadThem() {
        assertThat(List.of(SizeText.of(0), SizeText.of(1023), SizeText.of(1024), SizeText.of(1536),
                SizeText.of(64L << 30), SizeText.of(100L << 40), SizeText.of((5L << 20) + (300 << 10))))
                .containsExactly("0B", "1023B", "1KB", "1.5KB", "64GB", "100TB", "5.3MB");
    }
}
