package io.hce.memory.benchmarks;

import io.hce.memory.AllocatorOptions;
import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.netty.buffer.ByteBuf;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.lang.foreign.MemorySegment;

/**
 * Target 1b: a burst of {@value #BURST} allocations, then {@value #BURST} deallocations, per operation:
 * more than glibc's per-thread cache keeps (7 blocks per size). {@code hce} keeps the segments in an
 * array, so each costs its object; {@code hceAddresses} keeps addresses, as the C allocator's peer does.
 */
@State(Scope.Thread)
public class BurstBenchmark extends BenchmarkDefaults {

    static final int BURST = 64;

    @Param({"64", "1024"})
    public long size;

    private final long[] addresses = new long[BURST];
    private final MemorySegment[] segments = new MemorySegment[BURST];
    private final ByteBuf[] buffers = new ByteBuf[BURST];
    private CachingAllocator allocator;
    private Peers.SegmentStack floor;

    @Setup
    public void setUp() {
        allocator = CachingAllocator.create(CacheInfo.defaults(), AllocatorOptions.NONE);
        floor = new Peers.SegmentStack(BURST, size);
    }

    @Benchmark
    @OperationsPerInvocation(2 * BURST)
    public long hce() {
        for (int i = 0; i < BURST; i++) {
            segments[i] = allocator.allocate(size);
        }
        long sum = 0;
        for (int i = 0; i < BURST; i++) {
            sum += segments[i].address();
            allocator.deallocate(segments[i]);
        }
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(2 * BURST)
    public long hceAddresses() {
        for (int i = 0; i < BURST; i++) {
            addresses[i] = allocator.allocateAddress(size);
        }
        long sum = 0;
        for (int i = 0; i < BURST; i++) {
            sum += addresses[i];
            allocator.deallocateAddress(addresses[i], size);
        }
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(2 * BURST)
    public long mallocFreeCritical() throws Throwable {
        for (int i = 0; i < BURST; i++) {
            addresses[i] = (long) Libc.MALLOC_CRITICAL.invokeExact(size);
        }
        long sum = 0;
        for (int i = 0; i < BURST; i++) {
            sum += addresses[i];
            Libc.FREE_CRITICAL.invokeExact(addresses[i]);
        }
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(2 * BURST)
    public long nettyPooled() {
        for (int i = 0; i < BURST; i++) {
            buffers[i] = Peers.NETTY_POOLED.directBuffer((int) size);
        }
        long sum = 0;
        for (int i = 0; i < BURST; i++) {
            sum += buffers[i].capacity();
            buffers[i].release();
        }
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(2 * BURST)
    public long floor() {
        for (int i = 0; i < BURST; i++) {
            segments[i] = floor.pop();
        }
        long sum = 0;
        for (int i = BURST - 1; i >= 0; i--) {
            sum += segments[i].byteSize();
            floor.push(segments[i]);
        }
        return sum;
    }
}
