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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * FixedHeap against the C allocator through critical downcalls, in the same run, one thread, by address
 * (the API a cache's index of {@code long}s uses; no segment is made). Per operation, an allocation or a free:
 * <ul>
 *   <li>{@code shuffled*}: sizes uniform in [16, 4096] ([4, 4096] at 1 GiB) allocated until 80% of the heap
 *       is used, then all freed in shuffled order; at 1 MiB the heap stays in the CPU caches;</li>
 *   <li>{@code inOrder*}: the same, freed in allocation order: Cachelot's {@code benchmark_memalloc.cpp},
 *       one heap reused round after round;</li>
 *   <li>{@code steady*}: the heap kept at 80%: each pair of operations frees a random live block and
 *       allocates one of a random size.</li>
 * </ul>
 * The fill benchmarks count their operations in {@link Operations}: read {@code *:operations}, in
 * operations per microsecond; the steady ones score nanoseconds per operation directly. The heaps have one
 * shard, as a single thread uses them (FixedHeapThreadsBenchmark measures sharing), unless {@link #shards} says.
 */
@State(Scope.Thread)
public class FixedHeapBenchmark extends BenchmarkDefaults {

    @Param({"1", "16", "1024"})
    public int heapMiB;

    /** The heaps' shards: one, as one thread uses them; {@code -p shards=8} is a 1 GiB heap's default on 2 processors. */
    @Param("1")
    public int shards;

    private long[] sizes;
    private int[] shuffledOrder;
    private long[] addresses;
    private int fillBlocks;
    private FixedHeap heap;

    @Setup(Level.Trial)
    public void setUp() {
        Fill fill = Fill.of(heapMiB);
        sizes = fill.sizes();
        fillBlocks = fill.blocks();
        shuffledOrder = fill.shuffledOrder();
        addresses = new long[fillBlocks];
        heap = FixedHeap.create("benchmark", (long) heapMiB << 20, shards, false);
    }

    /**
     * The fills' shape: the sizes of the first {@code blocks} blocks, which fill a heap to 80%, and the order
     * to free them in when shuffled; the same for every build.
     */
    record Fill(long[] sizes, int blocks, int[] shuffledOrder) {

        static Fill of(int heapMiB) {
            long capacity = (long) heapMiB << 20;
            SplittableRandom random = new SplittableRandom(42);
            int minSize = heapMiB >= 1024 ? 4 : 16;
            long[] sizes = new long[(int) (capacity / 1000)];
            long used = 0;
            int n = 0;
            while (n < sizes.length && used + 4096 + 16 < capacity * 80 / 100) {
                sizes[n] = minSize + random.nextInt(4096 - minSize + 1);
                used += (sizes[n] + 16 + 15) & -16;
                n++;
            }
            return new Fill(sizes, n, shuffled(n, random));
        }
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
    public long shuffledFixedHeap(Operations counter) {
        FixedHeap heap = this.heap;
        long[] addresses = this.addresses;
        for (int i = 0; i < fillBlocks; i++) {
            addresses[i] = heap.tryAllocateAddress(sizes[i]);
        }
        for (int index : shuffledOrder) {
            heap.freeAddress(addresses[index]);
        }
        counter.operations += 2L * fillBlocks;
        return addresses[0];
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long shuffledMalloc(Operations counter) throws Throwable {
        long[] addresses = this.addresses;
        for (int i = 0; i < fillBlocks; i++) {
            addresses[i] = (long) Libc.MALLOC_CRITICAL.invokeExact(sizes[i]);
        }
        for (int index : shuffledOrder) {
            Libc.FREE_CRITICAL.invokeExact(addresses[index]);
        }
        counter.operations += 2L * fillBlocks;
        return addresses[0];
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long inOrderFixedHeap(Operations counter) {
        FixedHeap heap = this.heap;
        long[] addresses = this.addresses;
        for (int i = 0; i < fillBlocks; i++) {
            addresses[i] = heap.tryAllocateAddress(sizes[i]);
        }
        for (int i = 0; i < fillBlocks; i++) {
            heap.freeAddress(addresses[i]);
        }
        counter.operations += 2L * fillBlocks;
        return addresses[0];
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long inOrderMalloc(Operations counter) throws Throwable {
        long[] addresses = this.addresses;
        for (int i = 0; i < fillBlocks; i++) {
            addresses[i] = (long) Libc.MALLOC_CRITICAL.invokeExact(sizes[i]);
        }
        for (int i = 0; i < fillBlocks; i++) {
            Libc.FREE_CRITICAL.invokeExact(addresses[i]);
        }
        counter.operations += 2L * fillBlocks;
        return addresses[0];
    }

    /** The heap at 80%, for the steady mix: its own heap, and as many blocks live in the C allocator. */
    @State(Scope.Thread)
    public static class Steady {
        long[] live;
        long[] liveMalloc;
        FixedHeap heap;
        int minSize;
        final SplittableRandom random = new SplittableRandom(7);

        @Setup(Level.Trial)
        public void setUp(FixedHeapBenchmark benchmark) throws Throwable {
            heap = FixedHeap.create("steady", (long) benchmark.heapMiB << 20, benchmark.shards, false);
            minSize = benchmark.heapMiB >= 1024 ? 4 : 16;
            live = new long[benchmark.fillBlocks];
            liveMalloc = new long[benchmark.fillBlocks];
            for (int i = 0; i < live.length; i++) {
                live[i] = heap.tryAllocateAddress(benchmark.sizes[i]);
                liveMalloc[i] = (long) Libc.MALLOC_CRITICAL.invokeExact(benchmark.sizes[i]);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Throwable {
            heap.close();
            for (long address : liveMalloc) {
                Libc.FREE_CRITICAL.invokeExact(address);
            }
        }
    }

    /** One free of a random live block and one allocation of a random size: two operations. */
    @Benchmark
    @OperationsPerInvocation(2)
    public long steadyFixedHeap(Steady steady) {
        int victim = steady.random.nextInt(steady.live.length);
        steady.heap.freeAddress(steady.live[victim]);
        long address = steady.heap.tryAllocateAddress(steady.minSize + steady.random.nextInt(4097 - steady.minSize));
        if (address == 0) { // fragmentation: rare at 80%; a block of the smallest size always fits
            address = steady.heap.allocateAddress(steady.minSize);
        }
        return steady.live[victim] = address;
    }

    /** The same with the C allocator. */
    @Benchmark
    @OperationsPerInvocation(2)
    public long steadyMalloc(Steady steady) throws Throwable {
        int victim = steady.random.nextInt(steady.liveMalloc.length);
        Libc.FREE_CRITICAL.invokeExact(steady.liveMalloc[victim]);
        return steady.liveMalloc[victim] = (long) Libc.MALLOC_CRITICAL.invokeExact(
                (long) (steady.minSize + steady.random.nextInt(4097 - steady.minSize)));
    }

    static int[] shuffled(int count, SplittableRandom random) {
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
