package io.hce.memory.benchmarks;

import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One allocate + deallocate on one thread: a thread-cache hit against the C allocator called through FFM
 * (critical and plain downcalls) and {@code Arena.ofConfined()}, all in the same run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ThreadCacheHitBenchmark {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemorySegment MALLOC = LINKER.defaultLookup().find("malloc").orElseThrow();
    private static final MemorySegment FREE = LINKER.defaultLookup().find("free").orElseThrow();
    private static final MethodHandle MALLOC_CRITICAL = LINKER.downcallHandle(MALLOC,
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG), Linker.Option.critical(false));
    private static final MethodHandle FREE_CRITICAL = LINKER.downcallHandle(FREE,
            FunctionDescriptor.ofVoid(JAVA_LONG), Linker.Option.critical(false));
    private static final MethodHandle MALLOC_PLAIN = LINKER.downcallHandle(MALLOC,
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FREE_PLAIN = LINKER.downcallHandle(FREE, FunctionDescriptor.ofVoid(JAVA_LONG));

    @Param({"64", "1024", "4096"})
    public long size;

    private CachingAllocator allocator;

    @Setup
    public void setUp() {
        allocator = CachingAllocator.create(CacheInfo.defaults());
        allocator.deallocate(allocator.allocate(size)); // warm the cache: the benchmark measures hits
    }

    @Benchmark
    public MemorySegment cachingAllocator() {
        MemorySegment segment = allocator.allocate(size);
        allocator.deallocate(segment);
        return segment;
    }

    @Benchmark
    public long cachingAllocatorAddress() {
        MemorySegment segment = allocator.allocate(size);
        allocator.deallocate(segment);
        return segment.address();
    }

    @Benchmark
    public long mallocFreeCritical() throws Throwable {
        long address = (long) MALLOC_CRITICAL.invokeExact(size);
        FREE_CRITICAL.invokeExact(address);
        return address;
    }

    @Benchmark
    public long mallocFree() throws Throwable {
        long address = (long) MALLOC_PLAIN.invokeExact(size);
        FREE_PLAIN.invokeExact(address);
        return address;
    }

    @Benchmark
    public long arenaOfConfined() {
        try (Arena arena = Arena.ofConfined()) {
            return arena.allocate(size).address();
        }
    }
}
