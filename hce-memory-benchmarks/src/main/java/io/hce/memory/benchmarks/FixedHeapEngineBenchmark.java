package io.hce.memory.benchmarks;

import io.hce.memory.internal.heap.ShardedHeap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;

/**
 * Where the time of {@link FixedHeapBenchmark}'s shuffled fill at 1 MiB goes: the engine behind FixedHeap (the
 * internal {@code ShardedHeap}: one shard, its lock, quick lists and bitmaps, none of the public API's checks)
 * driven directly, with the same shape. Run as it is, then with larger compiled methods inlined into their
 * callers ({@code -jvmArgsAppend -XX:InlineSmallCode=16000}), or with the engine's two entry points forced
 * inline ({@code -XX:CompileCommand=inline,io.hce.memory.internal.heap.ShardedHeap::allocate} and
 * {@code ::freeOwned}): BENCHMARKS.md, rounds 5 and 7. Whether C2 inlines the entry points into their caller by
 * default depends on their compiled size ("already compiled into a big method" when above
 * {@code InlineSmallCode}), and a caller of FixedHeap has the same calls. The engine's region here
 * is not backed by huge pages, as FixedHeap's is from 2 MiB, so larger heaps are not the engine as FixedHeap
 * runs it.
 */
@State(Scope.Thread)
public class FixedHeapEngineBenchmark extends BenchmarkDefaults {

    /** The heap's size: 1 MiB, the shape this benchmark explains (see the class documentation for others). */
    @Param("1")
    public int heapMiB;

    private long[] sizes;
    private int[] shuffledOrder;
    private long[] payloads;
    private int fillBlocks;
    private Arena arena;
    private ShardedHeap engine;

    @Setup(Level.Trial)
    public void setUp() {
        FixedHeapBenchmark.Fill fill = FixedHeapBenchmark.Fill.of(heapMiB);
        sizes = fill.sizes();
        fillBlocks = fill.blocks();
        shuffledOrder = fill.shuffledOrder();
        payloads = new long[fillBlocks];
        long capacity = (long) heapMiB << 20;
        arena = Arena.ofShared();
        engine = new ShardedHeap("engine", arena.allocate(ShardedHeap.bytesFor(capacity, 1), 4096), capacity, 1, null);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** {@link FixedHeapBenchmark#shuffledFixedHeap}'s operations on the engine. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long shuffledEngine(FixedHeapBenchmark.Operations counter) {
        ShardedHeap engine = this.engine;
        long[] payloads = this.payloads;
        for (int i = 0; i < fillBlocks; i++) {
            payloads[i] = engine.payloadOffset(engine.allocate(sizes[i], 0));
        }
        for (int index : shuffledOrder) {
            engine.freeOwned(payloads[index], 1);
        }
        counter.operations += 2L * fillBlocks;
        return payloads[0];
    }
}
