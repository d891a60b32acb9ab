/**
 * The thread caches behind {@code CachingAllocator}.
 *
 * <h2>Architecture</h2>
 * <pre>
 *   ThreadCaches ── per platform thread ──▶ ThreadCache ── per bucket ──▶ BlockStack (long[] of addresses)
 *        │          virtual threads ───────▶ StripedCaches (a few ThreadCaches behind spin locks)
 *        │                                        │ full / empty
 *        │                                        ▼
 *        └── CacheRegistry (books) ──── per bucket ──▶ TransferDepot ──▶ BatchRing (lock-free MPMC)
 *   SizeClasses: request size → bucket, and each bucket's block size, alignment and capacity.
 * </pre>
 *
 * <h2>Memory-ordering rules</h2>
 * These rules are stated once, here; the classes refer to them.
 * <ol>
 *   <li><b>One writer per cache.</b> A {@link io.hce.memory.internal.cache.ThreadCache} and its
 *       {@code BlockStack}s are written by one thread at a time with plain stores: the owning platform
 *       thread; or, for a stripe, the virtual thread holding its lock (a CAS to take it, a release store to
 *       give it back, so each holder sees all its predecessors' writes); or, once the owner is gone, the
 *       registry under its lock. A thread's end and the {@code Cleaner} that retires its cache are
 *       separated by the garbage collection that found the thread unreachable.</li>
 *   <li><b>Counters are read opaquely.</b> Statistics read other threads' counters with opaque loads: never
 *       torn (64-bit fields are written atomically on the 64-bit JVMs the FFM API runs on), possibly a
 *       moment old. Writers pay nothing for this: no fences, no atomics, no shared cache lines.</li>
 *   <li><b>Blocks cross threads only through the depot.</b> A batch is filled with plain stores and
 *       published by {@code BatchRing}'s release store of the slot's sequence; the taker's acquire load of
 *       that sequence makes the addresses visible. Memory handed from thread to thread inside the blocks
 *       is the application's to order, as with {@code malloc}.</li>
 *   <li><b>The registry is locked.</b> Registration, retirement and snapshots synchronize on the
 *       {@code CacheRegistry}; none is on an allocation path.</li>
 * </ol>
 */
package io.hce.memory.internal.cache;
