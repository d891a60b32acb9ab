package io.hce.memory.benchmarks;

import io.hce.memory.Memory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.lang.foreign.Arena;

/**
 * An arena's whole life: open, four allocations of mixed sizes, close. {@code Memory.newArena()} (blocks
 * from the thread cache) against {@code Arena.ofConfined()} (a {@code malloc} per allocation), same run.
 */
@State(Scope.Thread)
public class ArenaBenchmark extends BenchmarkDefaults {

    @Benchmark
    public long cachingArena() {
        try (Arena arena = Memory.newArena()) {
            return fourAllocations(arena);
        }
    }

    @Benchmark
    public long confinedArena() {
        try (Arena arena = Arena.ofConfined()) {
            return fourAllocations(arena);
        }
    }

    private static long fourAllocations(Arena arena) {
        return arena.allocate(16).address() ^ arena.allocate(64).address()
                ^ arena.allocate(200).address() ^ arena.allocate(1024).address();
    }
}
