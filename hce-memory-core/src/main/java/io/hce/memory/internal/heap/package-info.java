/**
 * The engine behind {@code FixedHeap}: Cachelot's memalloc, a TLSF-style allocator inside one native region.
 *
 * <pre>
 *   TlsfHeap ── blocks laid out per BlockLayout, chained by size and left offset, chunk by chunk
 *      ├── SizeClassIndex: (first level, second level) → free list head, with two levels of bitmaps
 *      └── LRU list of used blocks, linked through their headers: the eviction order
 * </pre>
 *
 * <p>Nothing here is thread-safe: {@code FixedHeap} serializes every call.
 */
package io.hce.memory.internal.heap;
