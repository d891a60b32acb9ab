package io.hce.memory.benchmarks;

import io.hce.memory.FixedHeap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * A full cache taking new values: a 64 MiB FixedHeap, full, takes values of 100..8000 bytes with
 * {@code allocateAddressOrEvict}, evicting what its CLOCK hand chooses; its peer keeps the same bytes live in
 * the C allocator and, for each new value, frees the oldest and mallocs the new one (a FIFO cache on malloc).
 * Per new value: one allocation, and the evictions or the free it takes.
 */
@State(Scope.Thread)
public class FixedHeapEvictionBenchmark extends BenchmarkDefaults {

    private static final long CAPACITY = 64L << 20;

    private final SplittableRandom random = new SplittableRandom(11);
    private final long[] sizes = new long[1 << 16];
    private int next;
    private FixedHeap heap;
    private long evicted;
    private final LongConsumer onEvict = address -> evicted++;
    private long[] fifo;
    private int oldest;

    @Setup(Level.Trial)
    public void setUp() throws Throwable {
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = 100 + random.nextInt(7901);
        }
        heap = FixedHeap.create("evicting", CAPACITY, 1, false);
        long used = 0;
        int count = 0;
        while (heap.tryAllocateAddress(sizes[count & (sizes.length - 1)]) != 0) {
            used += sizes[count++ & (sizes.length - 1)];
        }
        fifo = new long[count];
        for (int i = 0; i < count; i++) {
            fifo[i] = (long) Libc.MALLOC_CRITICAL.invokeExact(sizes[i & (sizes.length - 1)]);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Throwable {
        heap.close();
        for (long address : fifo) {
            Libc.FREE_CRITICAL.invokeExact(address);
        }
    }

    @Benchmark
    public long putFixedHeap() {
        return heap.allocateAddressOrEvict(sizes[next++ & (sizes.length - 1)], onEvict);
    }

    @Benchmark
    public long putMalloc() throws Throwable {
        Libc.FREE_CRITICAL.invokeExact(fifo[oldest]);
        long address = (long) Libc.MALLOC_CRITICAL.invokeExact(sizes[next++ & (sizes.length - 1)]);
        fifo[oldest] = address;
        oldest = oldest + 1 == fifo.length ? 0 : oldest + 1;
        return address;
    }
}
