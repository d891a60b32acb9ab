package io.hce.memory.benchmarks;

import io.hce.memory.FixedHeap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One shared 64 MiB FixedHeap (default shards) against the C allocator, throughput of all threads: each
 * thread keeps 2 MiB of its own blocks live and, per pair of operations, frees a random one and allocates
 * one of 16..4096 bytes, on 1, 2 and 8 threads ({@code fixedHeap1}, {@code 2}, {@code 8}): the ratio of
 * total throughputs is the scaling (on 2 cores, 8 threads must not do less than 1).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FixedHeapThreadsBenchmark extends BenchmarkDefaults {

    private static final long CAPACITY = 64L << 20;
    private static final long LIVE_BYTES_PER_THREAD = 2L << 20;

    FixedHeap heap;
    final AtomicInteger seeds = new AtomicInteger();

    @Setup(Level.Trial)
    public void setUp() {
        heap = FixedHeap.create("shared", CAPACITY);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        heap.close();
    }

    @State(Scope.Thread)
    public static class Worker {
        long[] live;
        long[] liveMalloc;
        SplittableRandom random;
        FixedHeap heap;

        @Setup(Level.Trial)
        public void setUp(FixedHeapThreadsBenchmark shared) throws Throwable {
            heap = shared.heap;
            random = new SplittableRandom(shared.seeds.incrementAndGet());
            int count = (int) (LIVE_BYTES_PER_THREAD / 2072);
            live = new long[count];
            liveMalloc = new long[count];
            for (int i = 0; i < count; i++) {
                long size = 16 + random.nextInt(4081);
                live[i] = heap.allocateAddress(size);
                liveMalloc[i] = (long) Libc.MALLOC_CRITICAL.invokeExact(size);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Throwable {
            // the heap's blocks go with the heap when it closes
            for (long address : liveMalloc) {
                Libc.FREE_CRITICAL.invokeExact(address);
            }
        }
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(2)
    public long fixedHeap1(Worker worker) {
        return steady(worker);
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(2)
    public long fixedHeap2(Worker worker) {
        return steady(worker);
    }

    @Benchmark
    @Threads(8)
    @OperationsPerInvocation(2)
    public long fixedHeap8(Worker worker) {
        return steady(worker);
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(2)
    public long malloc1(Worker worker) throws Throwable {
        return steadyMalloc(worker);
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(2)
    public long malloc2(Worker worker) throws Throwable {
        return steadyMalloc(worker);
    }

    @Benchmark
    @Threads(8)
    @OperationsPerInvocation(2)
    public long malloc8(Worker worker) throws Throwable {
        return steadyMalloc(worker);
    }

    private static long steady(Worker worker) {
        int victim = worker.random.nextInt(worker.live.length);
        worker.heap.freeAddress(worker.live[victim]);
        return worker.live[victim] = worker.heap.allocateAddress(16 + worker.random.nextInt(4081));
    }

    private static long steadyMalloc(Worker worker) throws Throwable {
        int victim = worker.random.nextInt(worker.liveMalloc.length);
        Libc.FREE_CRITICAL.invokeExact(worker.liveMalloc[victim]);
        return worker.liveMalloc[victim] = (long) Libc.MALLOC_CRITICAL.invokeExact((long) (16 + worker.random.nextInt(4081)));
    }
}
