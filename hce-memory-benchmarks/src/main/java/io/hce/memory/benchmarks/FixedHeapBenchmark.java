package io.hce.memory.benchmarks;

import io.hce.memory.FixedHeap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Cachelot's own benchmark shape: allocate blocks of sizes uniform in [4, 4080], then free them in
 * shuffled order; scores are per operation (an allocation or a free). {@code large*}: 100,000 blocks,
 * about 200 MB, far more than the CPU caches; {@code small*}: 10,000 blocks, about 20 MB. FixedHeap against
 * the C allocator through critical downcalls, in the same run.
 */
@State(Scope.Thread)
public class FixedHeapBenchmark extends BenchmarkDefaults {

    private static final int LARGE = 100_000;
    private static final int SMALL = 10_000;

    private final long[] sizes = new long[LARGE];
    private final int[] largeFreeOrder = shuffled(LARGE, 7);
    private final int[] smallFreeOrder = shuffled(SMALL, 11);
    private final MemorySegment[] segments = new MemorySegment[LARGE];
    private final long[] addresses = new long[LARGE];
    private FixedHeap heap;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < LARGE; i++) {
            sizes[i] = 4 + random.nextInt(4077);
        }
        heap = FixedHeap.create("benchmark", 256L << 20); // the large run fills about 80% of it
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        heap.close();
    }

    @Benchmark
    @OperationsPerInvocation(2 * LARGE)
    public void largeFixedHeap() {
        fixedHeap(largeFreeOrder);
    }

    @Benchmark
    @OperationsPerInvocation(2 * LARGE)
    public void largeMallocFreeCritical() throws Throwable {
        mallocFree(largeFreeOrder);
    }

    @Benchmark
    @OperationsPerInvocation(2 * SMALL)
    public void smallFixedHeap() {
        fixedHeap(smallFreeOrder);
    }

    @Benchmark
    @OperationsPerInvocation(2 * SMALL)
    public void smallMallocFreeCritical() throws Throwable {
        mallocFree(smallFreeOrder);
    }

    private void fixedHeap(int[] freeOrder) {
        for (int i = 0; i < freeOrder.length; i++) {
            segments[i] = heap.allocate(sizes[i]);
        }
        for (int index : freeOrder) {
            heap.free(segments[index]);
        }
    }

    private void mallocFree(int[] freeOrder) throws Throwable {
        for (int i = 0; i < freeOrder.length; i++) {
            addresses[i] = (long) Libc.MALLOC_CRITICAL.invokeExact(sizes[i]);
        }
        for (int index : freeOrder) {
            Libc.FREE_CRITICAL.invokeExact(addresses[index]);
        }
    }

    private static int[] shuffled(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
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
