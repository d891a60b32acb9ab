/**
 * The engine behind {@code PoolAllocator}.
 *
 * <h2>Architecture</h2>
 * <pre>
 *   BlockPool ── first platform threads (ThreadTable) ──▶ Magazine (long[] of addresses + places held)
 *       │            other threads, virtual threads ───┐
 *       ├── shared blocks: StripedLongRing ◀───────────┘ (lock-free MPMC rings of addresses)
 *       ├── PlaceLedger: the free places nobody holds (per half magazine, or per ring call), the magazines
 *       └── PoolBooks: misses, frees, the polls that were not hits; hits and cached blocks derived
 * </pre>
 *
 * <h2>Parts</h2>
 * <ul>
 *   <li>{@link io.hce.memory.internal.pool.BlockPool}: the hot path (a magazine pop or push, or a ring call)
 *       and its slow paths, preallocation, and the lifecycle: close, a thread's end, the pool's drop.</li>
 *   <li>{@link io.hce.memory.internal.pool.Magazine}: one thread's blocks and places.</li>
 *   <li>{@link io.hce.memory.internal.pool.PlaceLedger}: where the places are that do not travel with a block
 *       in the ring: the free count, and the live magazines (which of them have room).</li>
 *   <li>{@link io.hce.memory.internal.pool.PoolBooks}: the counters and the statistics derived from them.</li>
 * </ul>
 * The fields a hit reads stay in {@code BlockPool}; the ledger and the books keep their counters in their
 * own fields, so reaching one costs the load an {@code AtomicLong} in the pool did.
 *
 * <h2>Memory-ordering rules</h2>
 * <ol>
 *   <li><b>One writer per magazine.</b> A {@link io.hce.memory.internal.pool.Magazine} is written with plain
 *       stores by its owning thread; once the owner has ended (separated from the {@code Cleaner} that
 *       retires the magazine by the collection that found the thread unreachable), or once the pool is
 *       unreachable (no operation can be running: the pool fences its own reachability), by the pool under
 *       its lock.</li>
 *   <li><b>Blocks cross threads only through the ring.</b> Its ordering rules are
 *       {@code MpmcSequence}'s.</li>
 *   <li><b>Places cross threads with the blocks in the ring, or through the ledger's free count</b> by
 *       atomic add or CAS: a place is never in two spots, so the blocks cached never exceed the capacity.</li>
 *   <li><b>Counters are read opaquely</b>: possibly a moment old, never torn.</li>
 *   <li><b>The magazines' registry is guarded by the pool's lock</b>: admitting, retiring and walking them
 *       (for statistics, or to drop the pool) are synchronized on the {@code BlockPool}.</li>
 * </ol>
 */
package io.hce.memory.internal.pool;
