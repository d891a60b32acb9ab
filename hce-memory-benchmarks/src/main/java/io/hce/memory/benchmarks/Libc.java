package io.hce.memory.benchmarks;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The peer every benchmark measures against: the C allocator through FFM downcalls. */
final class Libc {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemorySegment MALLOC_SYMBOL = LINKER.defaultLookup().find("malloc").orElseThrow();
    private static final MemorySegment FREE_SYMBOL = LINKER.defaultLookup().find("free").orElseThrow();

    /** {@code long malloc(long)}, critical: no thread-state transition. */
    static final MethodHandle MALLOC_CRITICAL = LINKER.downcallHandle(MALLOC_SYMBOL,
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG), Linker.Option.critical(false));
    /** {@code void free(long)}, critical. */
    static final MethodHandle FREE_CRITICAL = LINKER.downcallHandle(FREE_SYMBOL,
            FunctionDescriptor.ofVoid(JAVA_LONG), Linker.Option.critical(false));
    /** {@code long malloc(long)}, a plain downcall. */
    static final MethodHandle MALLOC = LINKER.downcallHandle(MALLOC_SYMBOL, FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
    /** {@code void free(long)}, a plain downcall. */
    static final MethodHandle FREE = LINKER.downcallHandle(FREE_SYMBOL, FunctionDescriptor.ofVoid(JAVA_LONG));

    private Libc() {
    }

    /**
     * One {@code malloc} + {@code free} pair through the critical handles: the peer of every single-block
     * benchmark.
     *
     * @return the address, for the blackhole
     */
    static long mallocFreeCritical(long size) throws Throwable {
        long address = (long) MALLOC_CRITICAL.invokeExact(size);
        FREE_CRITICAL.invokeExact(address);
        return address;
    }
}
