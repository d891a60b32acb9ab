/**
 * The engine behind {@code PoolAllocator}.
 *
 * <h2>Architecture</h2>
 * <pre>
 *   BlockPool ── first platform threads (ThreadTable) ──▶ Magazine (long[] of addresses + places held)
 *       │            other threads, virtual threads ───┐
 *       ├── shared blocks: StripedLongRing ◀───────────┘ (lock-free MPMC rings of addresses)
 *       └── freePlaces: the capacity nobody holds (an AtomicLong; per half magazine, or per ring call)
 * </pre>
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
 *   <li><b>Places cross threads with the blocks in the ring, or through {@code freePlaces}</b> by atomic
 *       add or CAS: a place is never in two spots, so the blocks cached never exceed the capacity.</li>
 *   <li><b>Counters are read opaquely</b>: possibly a moment old, never torn.</li>
 * </ol>
 */
package io.hce.memory.internal.pool;
