/**
 * Native memory allocation for Java: hce's memory caching tiers on the Foreign Function &amp; Memory API.
 *
 * <ul>
 *   <li>{@link io.hce.memory.CachingAllocator}, configured by {@link io.hce.memory.CacheInfo}: per-thread
 *       caches of power-of-two blocks in front of {@code malloc}/{@code free}, with a shared depot that
 *       brings blocks freed on one thread back to another. {@link io.hce.memory.Memory} is the process-wide
 *       default. Its {@link io.hce.memory.CachingAllocator#newArena() arenas} draw from the same caches.</li>
 *   <li>{@link io.hce.memory.PoolAllocator}: a private cache of fixed-size blocks for one use case.</li>
 *   <li>{@link io.hce.memory.FixedHeap}: one fixed native region managed in constant time (Cachelot's
 *       allocator), with least-recently-used eviction when it is full.</li>
 * </ul>
 *
 * <p>Every type here is thread-safe unless its documentation says otherwise. Methods reject bad input
 * (negative sizes, alignments that are not powers of two, {@code null}, segments that cannot be theirs)
 * with an exception that names the argument and its value, and change nothing when they do.
 */
package io.hce.memory;
