package io.hce.memory.benchmarks;

import io.hce.memory.FixedHeap;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Target 5, Cachelot's own benchmark shapes, per operation (an allocation or a free), FixedHeap against the
 * C allocator through critical downcalls in the same run, for a 16 MiB and a 1 GiB heap:
 * <ul>
 *   <li>{@code fill*}: sizes uniform in [4, 4080] allocated until about 95% of the heap is used, then all
 *       freed in shuffled order;</li>
 *   <li>{@code steady*}: the heap kept at about 80%: each operation pair frees a random live block and
 *       allocates a new one of random size.</li>
 * </ul>
 * The fill benchmarks count their operations in {@link Operations}: read {@code fill*:operations}, in
 * operations per microsecond; the steady ones score nanoseconds per operation directly.
 */
@State(Scope.Thread)
public class FixedHeapBenchmark extends BenchmarkDefaults {

    @Param({"16", "1024"})
    public int heapMiB;

    private long[] sizes;
    private int[] freeOrder;
    private MemorySegment[] segments;
    private long[] addresses;
    private int fillBlocks;
    private int steadyBlocks;
    private FixedHeap heap;

    @Setup(Level.Trial)
    public void setUp() {
        long capacity = (long) heapMiB << 20;
        SplittableRandom random = new SplittableRandom(42);
        int max = (int) (capacity / 1800);
        sizes = new long[max];
        long used = 0;
        int n = 0;
        while (n < max && used + 4096 < capacity * 95 / 100) {
            sizes[n] = 4 + random.nextInt(4077);
            used += (sizes[n] + 16 + 15) & -16;
            n++;
        }
        fillBlocks = n;
        steadyBlocks = (int) (n * 80L / 95);
        freeOrder = shuffled(fillBlocks, random);
        segments = new MemorySegment[fillBlocks];
        addresses = new long[fillBlocks];
        heap = FixedHeap.create("benchmark", capacity);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        heap.close();
    }

    /** Counts the allocations and frees of the fill benchmarks, whose invocations vary in size. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Operations {
        public long operations;

        @Setup(Level.Iteration)
        public void reset() {
            operations = 0;
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void fillFixedHeap(Blackhole blackhole, Operations counter) {
        for (int i = 0; i < fillBlocks; i++) {
            segments[i] = heap.allocate(sizes[i]);
        }
        for (int index : freeOrder) {
            heap.free(segments[index]);
        }
        blackhole.consume(fillBlocks);
        counter.operations += 2L * fillBlocks;
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void fillMallocFreeCritical(Blackhole blackhole, Operations counter) throws Throwable {
        for (int i = 0; i < fillBlocks; i++) {
            addresses[i] = (long) Libc.MALLOC_CRITICAL.invokeExact(sizes[i]);
        }
        for (int index : freeOrder) {
            Libc.FREE_CRITICAL.invokeExact(addresses[index]);
        }
        blackhole.consume(fillBlocks);
        counter.operations += 2L * fillBlocks;
    }

    @State(Scope.Thread)
    public static class Steady {
        MemorySegment[] live;
        long[] liveAddresses;
        FixedHeap heap;
        SplittableRandom random = new SplittableRandom(7);

        @Setup(Level.Trial)
        public void setUp(FixedHeapBenchmark benchmark) throws Throwable {
            heap = FixedHeap.create("steady", (long) benchmark.heapMiB << 20);
            live = new MemorySegment[benchmark.steadyBlocks];
            liveAddresses = new long[benchmark.steadyBlocks];
            for (int i = 0; i < live.length; i++) {
                live[i] = heap.allocate(benchmark.sizes[i]);
                liveAddresses[i] = (long) Libc.MALLOC_CRITICAL.invokeExact(benchmark.sizes[i]);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Throwable {
            heap.close();
            for (long address : liveAddresses) {
                Libc.FREE_CRITICAL.invokeExact(address);
            }
        }
    }

    /** One free of a random live block and one allocation of a random size: two operations. */
    @Benchmark
    @OperationsPerInvocation(2)
    public MemorySegment steadyFixedHeap(Steady steady) {
        int victim = steady.random.nextInt(steady.live.length);
        steady.heap.free(steady.live[victim]);
        return steady.live[victim] = steady.heap.allocate(4 + steady.random.nextInt(4077));
    }

    /** The same with the C allocator. */
    @Benchmark
    @OperationsPerInvocation(2)
    public long steadyMallocFreeCritical(Steady steady) throws Throwable {
        int victim = steady.random.nextInt(steady.liveAddresses.length);
        Libc.FREE_CRITICAL.invokeExact(steady.liveAddresses[victim]);
        return steady.liveAddresses[victim] = (long) Libc.MALLOC_CRITICAL.invokeExact((long) (4 + steady.random.nextInt(4077)));
    }

    private static int[] shuffled(int count, SplittableRandom random) {
        int[] order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        for (int i = count - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }
}
