package io.hce.memory.benchmarks;

import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.hce.memory.PoolAllocator;
import io.netty.buffer.ByteBuf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Native memory per live byte: 256 MiB of live blocks of one size, each written once, made by one allocator
 * in a fresh JVM, and how much more memory the C allocator took from the system for them (glibc's
 * {@code mallinfo2()}: its heaps plus its mmapped chunks; every peer here gets its memory from glibc). The
 * Java heap, where the segment objects live, is not counted. Prints a Markdown table: rows are block sizes,
 * columns the allocators, each cell the growth in MiB and its ratio to {@code malloc}'s.
 *
 * <pre>{@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
 *     -cp hce-memory-benchmarks/target/benchmarks.jar io.hce.memory.benchmarks.FootprintTable}</pre>
 */
public final class FootprintTable {

    private static final long LIVE_BYTES = 256L << 20;
    private static final String[] ALLOCATORS = {"malloc", "CachingAllocator", "PoolAllocator", "Arena.ofConfined", "Netty pooled"};
    private static final int[] SIZES = {64, 256, 1024, 4096};

    private FootprintTable() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length == 2) {
            child(args[0], Integer.parseInt(args[1]));
            return;
        }
        StringBuilder table = new StringBuilder("| block size | live | ");
        table.append(String.join(" | ", ALLOCATORS)).append(" |\n|---|---|").append("---|".repeat(ALLOCATORS.length)).append('\n');
        for (int size : SIZES) {
            table.append("| ").append(size).append(" B | ").append(LIVE_BYTES >> 20).append(" MiB |");
            double malloc = 0;
            for (String allocator : ALLOCATORS) {
                double grown = measure(allocator, size) / 1048576.0;
                if (malloc == 0) {
                    malloc = grown;
                }
                table.append(String.format(" %.0f MiB (%.2fx) |", grown, grown / malloc));
            }
            table.append('\n');
        }
        System.out.print(table);
    }

    private static long measure(String allocator, int size) throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx2g",
                "-Dio.netty.allocator.type=pooled", "-cp", System.getProperty("java.class.path"),
                FootprintTable.class.getName(), allocator, String.valueOf(size)).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes());
        child.waitFor();
        return Long.parseLong(output.lines().filter(line -> line.startsWith("grown=")).findFirst()
                .orElseThrow(() -> new IllegalStateException(output)).substring("grown=".length()));
    }

    private static final java.lang.invoke.MethodHandle MALLINFO2 = java.lang.foreign.Linker.nativeLinker().downcallHandle(
            java.lang.foreign.Linker.nativeLinker().defaultLookup().find("mallinfo2").orElseThrow(),
            java.lang.foreign.FunctionDescriptor.of(MemoryLayout.structLayout(MemoryLayout.sequenceLayout(10, ValueLayout.JAVA_LONG))));

    /** @return the bytes glibc has taken from the system (its heaps and its mmapped chunks): native, not the Java heap */
    private static long taken() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = (MemorySegment) MALLINFO2.invokeExact((java.lang.foreign.SegmentAllocator) arena);
            return info.getAtIndex(ValueLayout.JAVA_LONG, 0) + info.getAtIndex(ValueLayout.JAVA_LONG, 4);
        }
    }

    private static void child(String allocator, int size) throws Throwable {
        int count = (int) (LIVE_BYTES / size);
        List<Object> keep = new ArrayList<>(count);
        CachingAllocator caching = CachingAllocator.create(CacheInfo.defaults());
        PoolAllocator pool = PoolAllocator.create("footprint", MemoryLayout.sequenceLayout(size, ValueLayout.JAVA_BYTE), 64);
        Arena arena = Arena.ofConfined();
        System.gc();
        long before = taken();
        for (int i = 0; i < count; i++) {
            switch (allocator) {
                case "malloc" -> {
                    long address = (long) Libc.MALLOC_CRITICAL.invokeExact((long) size);
                    MemorySegment.ofAddress(address).reinterpret(size).fill((byte) 1);
                }
                case "CachingAllocator" -> keep.add(fill(caching.allocate(size)));
                case "PoolAllocator" -> keep.add(fill(pool.allocate()));
                case "Arena.ofConfined" -> fill(arena.allocate(size, 8));
                case "Netty pooled" -> {
                    ByteBuf buffer = Peers.NETTY_POOLED.directBuffer(size, size);
                    buffer.setZero(0, size);
                    keep.add(buffer);
                }
                default -> throw new IllegalArgumentException(allocator);
            }
        }
        System.out.println("grown=" + (taken() - before));
        System.out.println(keep.size() + " " + arena.scope().isAlive());
    }

    private static MemorySegment fill(MemorySegment segment) {
        segment.fill((byte) 1);
        return segment;
    }
}
