package io.hce.memory.benchmarks;

import io.hce.memory.AllocatorOptions;
import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.netty.buffer.ByteBuf;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * Target 1a: one allocate + deallocate on one thread, a thread-cache hit, against every peer in the same
 * run. {@code hce} uses the segment locally (as a caller that allocates, uses and frees a buffer does);
 * {@code hceSegmentEscapes} hands it to the blackhole, which costs the JVM the segment object;
 * {@code hceAddresses} uses the address API, which makes no segment.
 */
@State(Scope.Thread)
public class ThreadCacheHitBenchmark extends BenchmarkDefaults {

    @Param({"64", "1024", "4096"})
    public long size;

    private CachingAllocator allocator;
    private Peers.SegmentStack floor;

    @Setup
    public void setUp() {
        allocator = CachingAllocator.create(CacheInfo.defaults(), AllocatorOptions.NONE);
        allocator.deallocate(allocator.allocate(size)); // warm the cache: the benchmark measures hits
        floor = new Peers.SegmentStack(16, size);
    }

    @Benchmark
    public long hce() {
        MemorySegment segment = allocator.allocate(size);
        allocator.deallocate(segment);
        return segment.address();
    }

    @Benchmark
    public MemorySegment hceSegmentEscapes() {
        MemorySegment segment = allocator.allocate(size);
        allocator.deallocate(segment);
        return segment;
    }

    @Benchmark
    public long hceAddresses() {
        long address = allocator.allocateAddress(size);
        allocator.deallocateAddress(address, size);
        return address;
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

    @Benchmark
    public ByteBuffer byteBufferAllocateDirect() {
        return ByteBuffer.allocateDirect((int) size); // freed by the GC's cleaner, later
    }

    @Benchmark
    public int nettyPooled() {
        ByteBuf buffer = Peers.NETTY_POOLED.directBuffer((int) size);
        int capacity = buffer.capacity();
        buffer.release();
        return capacity;
    }

    @Benchmark
    public int nettyAdaptive() {
        ByteBuf buffer = Peers.NETTY_ADAPTIVE.directBuffer((int) size);
        int capacity = buffer.capacity();
        buffer.release();
        return capacity;
    }

    @Benchmark
    public MemorySegment floor() {
        MemorySegment segment = floor.pop();
        floor.push(segment);
        return segment;
    }
}
