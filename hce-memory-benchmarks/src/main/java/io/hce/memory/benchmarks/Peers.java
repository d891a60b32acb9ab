package io.hce.memory.benchmarks;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

import java.lang.foreign.MemorySegment;

/** The peers besides the C allocator (see {@link Libc}): Netty's allocators and the physical floor. */
final class Peers {

    /** Netty's pooled allocator, direct buffers: what most JVM network services use. */
    static final ByteBufAllocator NETTY_POOLED = PooledByteBufAllocator.DEFAULT;

    /** Netty 4.2's adaptive allocator, direct buffers, caching for threads that are not event loops too. */
    static final ByteBufAllocator NETTY_ADAPTIVE = new AdaptiveByteBufAllocator(true, true);

    private Peers() {
    }

    /**
     * The floor of a cache hit: a plain array stack of segments made in advance, popped and pushed back.
     * Nothing allocates, nothing is checked; no allocator can do less.
     */
    static final class SegmentStack {
        private final MemorySegment[] segments;
        private int count;

        SegmentStack(int capacity, long size) {
            segments = new MemorySegment[capacity];
            for (int i = 0; i < capacity; i++) {
                segments[i] = MemorySegment.ofArray(new byte[(int) size]);
            }
            count = capacity;
        }

        MemorySegment pop() {
            return segments[--count];
        }

        void push(MemorySegment segment) {
            segments[count++] = segment;
        }
    }
}
