package io.hce.memory.benchmarks;

import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.hce.memory.PoolAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One allocate + deallocate of a 64-byte block: a {@link PoolAllocator} shared by one thread and by two,
 * against a thread-cache hit and the C allocator through critical downcalls, in the same run.
 */
@State(Scope.Benchmark)
public class PoolAllocatorBenchmark extends BenchmarkDefaults {

    private static final long SIZE = 64;

    private PoolAllocator pool;
    private CachingAllocator allocator;

    @Setup
    public void setUp() {
        pool = PoolAllocator.create("benchmark", MemoryLayout.sequenceLayout(SIZE, ValueLayout.JAVA_BYTE), 1024);
        pool.preallocate(64);
        allocator = CachingAllocator.create(CacheInfo.defaults());
    }

    @TearDown
    public void tearDown() {
        pool.close();
    }

    @Benchmark
    public long pool() {
        return poolPair();
    }

    @Benchmark
    @Threads(2)
    public long poolTwoThreads() {
        return poolPair();
    }

    private long poolPair() {
        MemorySegment block = pool.allocate();
        pool.deallocate(block);
        return block.address();
    }

    @Benchmark
    public long threadCacheHit() {
        MemorySegment block = allocator.allocate(SIZE);
        allocator.deallocate(block);
        return block.address();
    }

    @Benchmark
    public long mallocFreeCritical() throws Throwable {
        return Libc.mallocFreeCritical(SIZE);
    }

    @Benchmark
    @Threads(2)
    public long mallocFreeCriticalTwoThreads() throws Throwable {
        return Libc.mallocFreeCritical(SIZE);
    }
}
