package io.hce.memory;

import java.util.List;
import java.util.Objects;

/**
 * A place in the program that holds live native memory, as an allocator's {@code profile()} sees it: the
 * blocks allocated there that leak detection (or checked mode) watches and that are not given back yet.
 *
 * <p>Under {@link LeakDetection#SAMPLED} one allocation in {@value LeakDetection#SAMPLING_INTERVAL} is watched,
 * so {@code estimatedBytes} is the sampled bytes scaled by that interval: an estimate, like the heap profiles
 * of tcmalloc and jemalloc. Under {@link LeakDetection#PARANOID} every segment is watched, and in checked mode
 * every block, those handed out by address too; there the figures are exact. Leak detection watches segments
 * only (an address has no object whose collection would show a leak), so without checked mode blocks of
 * {@code allocateAddress} are not in the profile.
 *
 * @param stack          the allocating call's frames, the first outside hce-memory first (at most
 *                       {@value #MAX_FRAMES})
 * @param sampledBlocks  watched live blocks allocated there
 * @param sampledBytes   their bytes
 * @param estimatedBytes the live bytes allocated there, estimated from the sample
 */
public record AllocationSite(List<StackTraceElement> stack, long sampledBlocks, long sampledBytes, long estimatedBytes) {

    /** The most frames a site keeps: enough to tell call paths apart, few enough to group them. */
    public static final int MAX_FRAMES = 8;

    /**
     * @throws NullPointerException if {@code stack} is {@code null}
     */
    public AllocationSite {
        stack = List.copyOf(Objects.requireNonNull(stack, "stack"));
    }

    /** @return the first frame, as {@code Class.method(File.java:line)}, or {@code "(unknown)"} without frames */
    public String site() {
        return stack.isEmpty() ? "(unknown)" : stack.getFirst().toString();
    }
}
