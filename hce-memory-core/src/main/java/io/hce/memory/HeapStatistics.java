package io.hce.memory;

/**
 * A snapshot of a {@link FixedHeap}, exact: the heap's lock is held while it is taken.
 *
 * @param name             the heap's name
 * @param capacity         the size of the heap's native region, in bytes
 * @param usedBytes        bytes in allocated blocks, block headers included
 * @param freeBytes        bytes in free blocks, block headers included; {@code capacity - usedBytes - freeBytes}
 *                         is the heap's fixed overhead (border blocks, and the region's tail when it is cut
 *                         into several chunks)
 * @param largestFreeBlock the payload of the largest free block, in bytes: no larger request can succeed now
 * @param allocations      blocks handed out, by any of the allocate methods
 * @param frees            blocks given back with {@link FixedHeap#free}
 * @param failures         requests that found no room ({@link HeapExhaustedException} or {@code NULL})
 * @param evictions        blocks evicted to make room
 */
public record HeapStatistics(String name, long capacity, long usedBytes, long freeBytes, long largestFreeBlock,
                             long allocations, long frees, long failures, long evictions) {
}
