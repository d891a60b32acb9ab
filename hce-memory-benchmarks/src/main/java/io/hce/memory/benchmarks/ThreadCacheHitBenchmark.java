package io.hce.memory.benchmarks;

import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One allocate + deallocate on one thread: a thread-cache hit against the C allocator called through FFM
 * (critical and plain downcalls) and {@code Arena.ofConfined()}, all in the same run.
 */
@State(Scope.Thread)
public class ThreadCacheHitBenchmark extends BenchmarkDefaults {

    @Param({"64", "1024", "4096"})
    public long size;

    private CachingAllocator allocator;

    @Setup
    public void setUp() {
        allocator = CachingAllocator.create(CacheInfo.defaults());
        allocator.deallocate(allocator.allocate(size)); // warm the cache: the benchmark measures hits
    }

    @Benchmark
    public MemorySegment cachingAllocator() {
        MemorySegment segment = allocator.allocate(size);
        allocator.deallocate(segment);
        return segment;
    }

    @Benchmark
    public long cachingAllocatorAddress() {
        MemorySegment segment = allocator.allocate(size);
        allocator.deallocate(segment);
        return segment.address();
    }

    @Benchmark
    public long mallocFreeCritical() throws Throwable {
        return Libc.mallocFreeCritical(size);
    }

    @Benchmark
    public long mallocFree() throws Throwable {
        long address = (long) Libc.MALLOC.invokeExact(size);
        Libc.FREE.invokeExact(address);
        return address;
    }

    @Benchmark
    public long arenaOfConfined() {
        try (Arena arena = Arena.ofConfined()) {
            return arena.allocate(size).address();
        }
    }
}
