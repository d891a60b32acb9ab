package io.hce.memory.benchmarks;

import io.hce.memory.AllocatorOptions;
import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.hce.memory.LeakDetection;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.lang.foreign.MemorySegment;

/**
 * What checked mode and leak detection cost: one allocate + deallocate of 64 B with each setting, in the
 * same run. {@code none} is the shipped default.
 */
@State(Scope.Thread)
public class DebuggingAidsBenchmark extends BenchmarkDefaults {

    @Param({"none", "sampled", "paranoid", "checked"})
    public String aids;

    private CachingAllocator allocator;

    @Setup
    public void setUp() {
        AllocatorOptions options = switch (aids) {
            case "none" -> AllocatorOptions.NONE;
            case "sampled" -> new AllocatorOptions(false, LeakDetection.SAMPLED);
            case "paranoid" -> new AllocatorOptions(false, LeakDetection.PARANOID);
            case "checked" -> new AllocatorOptions(true, LeakDetection.OFF);
            default -> throw new IllegalArgumentException(aids);
        };
        allocator = CachingAllocator.create(CacheInfo.defaults(), options);
    }

    @Benchmark
    public long allocateDeallocate() {
        MemorySegment segment = allocator.allocate(64);
        allocator.deallocate(segment);
        return segment.address();
    }
}
