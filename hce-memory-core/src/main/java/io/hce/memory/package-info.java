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
 * with an exception that names the argument and its value, and change nothing when they do (a factory's
 * argument checks throw {@link io.hce.memory.InvalidArgumentException}, which says which parameter failed).
 *
 * <h2>Vocabulary</h2>
 * The words the code and its documentation use in one sense each, as Caffeine defines its entry states.
 * <dl>
 *   <dt>block</dt><dd>a piece of native memory an allocator hands out: a bucket's, a pool's or part of a heap.</dd>
 *   <dt>bucket</dt><dd>one block size of a {@code CachingAllocator} ({@code CacheInfo.Bucket}); a request takes
 *       the first bucket its size fits.</dd>
 *   <dt>direct</dt><dd>a request larger than every bucket: {@code malloc} and {@code free()} serve it, no cache.</dd>
 *   <dt>hit</dt><dd>an allocation served from blocks cached for reuse, without calling {@code malloc}.</dd>
 *   <dt>miss</dt><dd>an allocation that called {@code malloc}.</dd>
 *   <dt>frees</dt><dd>of a bucket or pool: deallocations that called {@code free()} because the cache was full;
 *       of a heap: every {@code free}.</dd>
 *   <dt>reserved</dt><dd>bytes an allocator took from {@code malloc} and has not given back, in use or cached.</dd>
 *   <dt>thread cache</dt><dd>one platform thread's buckets of cached blocks, written by that thread alone.</dd>
 *   <dt>stripe</dt><dd>one of a few parts that threads hash to instead of each having its own: a thread cache
 *       that virtual threads share behind a spin lock, or one ring of a striped ring.</dd>
 *   <dt>depot</dt><dd>a bucket's lock-free store of batches, shared by the allocator's threads: how blocks freed
 *       on one thread reach another.</dd>
 *   <dt>batch</dt><dd>the blocks a thread cache moves to or from the depot at once.</dd>
 *   <dt>magazine</dt><dd>a pool's small per-thread stack of blocks at hand, as a thread cache is a bucket's.</dd>
 *   <dt>place</dt><dd>a unit of a pool's capacity, room for one cached block: each place is in one magazine or
 *       the pool's count of free places, so the blocks cached never exceed the capacity.</dd>
 *   <dt>books</dt><dd>an allocator's bookkeeping beside its memory (live caches, the totals of ended threads,
 *       checked mode's records): what statistics and checks read.</dd>
 *   <dt>engine</dt><dd>the internal object that holds a public allocator's memory, which cleaners may keep
 *       without keeping the public object reachable.</dd>
 *   <dt>watch</dt><dd>a {@code Cleaner} registration that notices an object (a thread, an allocator, a leak
 *       detection's segment) becoming unreachable; watched blocks are those leak detection or checked mode track.</dd>
 *   <dt>dropped</dt><dd>become unreachable without {@code close()}: its cleaner gives its memory back.</dd>
 *   <dt>retired</dt><dd>of a thread cache whose thread ended (or whose allocator went): its blocks freed, its
 *       counters added to the totals of ended threads.</dd>
 *   <dt>trim</dt><dd>give the calling thread's cached blocks back to the C allocator now.</dd>
 *   <dt>checked mode</dt><dd>the expensive checks: double and foreign frees everywhere, freed memory poisoned.</dd>
 *   <dt>poison</dt><dd>the byte checked mode fills freed blocks with, verified before their memory is reused.</dd>
 *   <dt>quarantine</dt><dd>in checked mode, the freed, poisoned blocks held back from reuse for a while, so a
 *       write after free is caught when they leave it.</dd>
 *   <dt>shard</dt><dd>one of the parts a {@code FixedHeap}'s region is cut into, each with its own lock.</dd>
 *   <dt>border</dt><dd>the block at each end of a shard that is never free, so merging never looks past it.</dd>
 *   <dt>quick list</dt><dd>a heap's list of small freed blocks kept whole for the next request of their class.</dd>
 *   <dt>handle</dt><dd>a {@code long} that names one allocation of a heap block, safe to keep after it.</dd>
 *   <dt>stamp</dt><dd>the part of a handle that tells one allocation of a block from every other there.</dd>
 *   <dt>stale</dt><dd>of a handle or segment whose block was freed or evicted since: recognised, never read.</dd>
 *   <dt>pin</dt><dd>a claim that a heap block's memory is not reused: a pinned block is never evicted, and a
 *       free of it is completed by the last unpin.</dd>
 *   <dt>victim</dt><dd>a heap block eviction chose; its owner is told while its memory is still intact.</dd>
 *   <dt>hand</dt><dd>CLOCK's position in a shard, sweeping it in address order for victims.</dd>
 * </dl>
 */
package io.hce.memory;
