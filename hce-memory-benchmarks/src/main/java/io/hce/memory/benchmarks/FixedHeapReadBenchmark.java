package io.hce.memory.benchmarks;

import io.hce.memory.FixedHeap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * What a reader of a shared heap pays, per read of one value of {@code size} bytes, in the same run: a
 * {@code touch} alone (the cheapest mark of use), an optimistic {@code read} (validated copy, no lock, no pin),
 * a {@code pin} + copy + {@code unpin}, and the bare copy from the same memory with no protocol at all.
 * 1024 live values are read in turn, so the headers are not all in L1.
 */
@State(Scope.Thread)
public class FixedHeapReadBenchmark extends BenchmarkDefaults {

    @Param({"64", "1024"})
    public int size;

    private FixedHeap heap;
    private long[] handles;
    private MemorySegment[] views;
    private MemorySegment buffer;
    private Arena arena;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        heap = FixedHeap.create("reads", 16L << 20);
        handles = new long[1024];
        views = new MemorySegment[handles.length];
        for (int i = 0; i < handles.length; i++) {
            handles[i] = heap.allocateHandle(size);
            views[i] = heap.segment(handles[i]);
            views[i].fill((byte) i);
            heap.unpin(handles[i]);
        }
        arena = Arena.ofConfined();
        buffer = arena.allocate(size, 16);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        heap.close();
        arena.close();
    }

    private long nextHandle() {
        return handles[next++ & (handles.length - 1)];
    }

    @Benchmark
    public boolean touch() {
        return heap.touch(nextHandle());
    }

    @Benchmark
    public boolean read() {
        return heap.read(nextHandle(), 0, buffer, 0, size);
    }

    @Benchmark
    public boolean pinCopyUnpin() {
        long handle = nextHandle();
        if (!heap.pin(handle)) {
            return false;
        }
        MemorySegment.copy(views[next - 1 & (handles.length - 1)], 0, buffer, 0, size);
        heap.unpin(handle);
        return true;
    }

    /** The floor: the same copy with no validation (unsafe if another thread could evict). */
    @Benchmark
    public MemorySegment copyOnly() {
        MemorySegment view = views[next++ & (handles.length - 1)];
        MemorySegment.copy(view, 0, buffer, 0, size);
        return buffer;
    }
}
