/**
 * The engine behind {@code FixedHeap}: Cachelot's memalloc, a TLSF-style allocator inside one native region,
 * cut into shards that many threads share.
 *
 * <pre>
 *   ShardedHeap ── the sharing protocol (handles, pins, optimistic reads), shard choice, good fit across shards
 *      └── HeapShard ×n ── blocks per BlockLayout, a lock, bitmaps (starts, references, owned), quick lists, counters
 *             ├── SizeClassIndex: (first level, second level) → free list head, with two levels of bitmaps
 *             └── EvictionPolicy (ClockEviction): which used blocks to evict, a hand in address order
 *   BlockState ── the state word of a used block and the handle format
 * </pre>
 *
 * <h2>Memory-ordering rules</h2>
 * These are the only places where threads meet in this package; every other field and every other byte of
 * a shard is read and written under the shard's lock.
 * <ol>
 *   <li><b>The shard lock</b> ({@code HeapShard.lock}) is acquired by a compare-and-set of its holder and
 *       released by a release store: everything written under it is seen by the next holder. Headers, state
 *       words included, and the owned bitmap are written only under it: allocation, free, pin, unpin,
 *       eviction, resize. An owned block's owner reads its owned bit without the lock (to find the block of a
 *       segment it holds): the bit was set before the block was handed to it, and only its free or its
 *       eviction clears it, both under the lock. The owned bit, not the state, says whether an owned block is
 *       live: freed onto a quick list it keeps its state, and handed out again from one it gets none new, since
 *       no handle a caller holds names an owned block's stamp (rules 2 and 3 are for handles' blocks).</li>
 *   <li><b>Publication of a block</b>: the holder writes a new block's state (its stamp) with a release store
 *       followed by a store-store fence, then its used flag and start bit, each with a release store. Readers
 *       without the lock load the start bit and the used flag with acquire before the state: a thread that
 *       sees a header as a used block's sees its new stamp, and the new owner's payload comes after both.</li>
 *   <li><b>Retirement of a block</b>: before any byte of a released block changes (poison, merge, links), its
 *       state is set to 0 with a release store; a header merged away gets state 0 and loses its start bit; a
 *       free block's links never read as a live, readable or pinned state ({@code BlockLayout}). A block freed by
 *       handle onto a quick list gets state 0 as well. An owned victim of an eviction sweep keeps its state:
 *       merged away it has lost its start bit, and kept as the frontier's header it has lost its used flag
 *       until it is listed (which writes its links over the state) or handed out again (a new stamp before the
 *       used flag), either of which handles check before the state; no handle names an owned block's stamp in
 *       any case. The frontier's state word may hold anything, as a carved block's header before its stamp.</li>
 *   <li><b>Optimistic reads</b> ({@code HeapShard.read}) load the start bit, the used flag and the state, copy,
 *       issue a load-load fence, and load them again. A block retired or reused between the two loads fails
 *       the second (rules 2 and 3), so a read that returns true copied the block's own bytes. Readers write
 *       nothing shared but the reference bitmap.</li>
 *   <li><b>Reference bits</b> are set by readers with opaque read-modify-writes of the reference bitmap, and
 *       cleared by the eviction hand under the lock. A race may lose or keep a bit: CLOCK's accuracy, never
 *       memory safety, is at stake, as the bitmap holds nothing else.</li>
 *   <li><b>Hints</b>: {@code HeapShard.mightFit} reads the size-class bitmaps and the quick-list count without
 *       the lock, whether an eviction sweep runs, and the frontier's size (the frontier is in no list; its size
 *       stays published while it merges with a neighbour). It is used only to pass shards by; a shard it passes
 *       had no fitting block at some moment during the call.</li>
 *   <li><b>Close</b>: under every shard's lock, each shard is marked closed before the region is freed, and a
 *       lock taken after that is given back at once and the request refused. The bitmaps (and, in a heap of
 *       at most 4 MiB, a freed block's size in its header) are accessed by address, with no scope check, only
 *       under the lock; every access without it goes through a scoped segment, which refuses it once the
 *       region is closed. A request that the hints (rule 6) pass by every shard takes no lock and reads only
 *       Java fields; it fails, and {@code FixedHeap} checks for a close before it reports the failure.</li>
 * </ol>
 */
package io.hce.memory.internal.heap;
