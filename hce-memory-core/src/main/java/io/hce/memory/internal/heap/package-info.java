/**
 * The engine behind {@code FixedHeap}: Cachelot's memalloc, a TLSF-style allocator inside one native region,
 * cut into shards that many threads share.
 *
 * <pre>
 *   ShardedHeap ── the sharing protocol (handles, pins, optimistic reads), shard choice, good fit across shards
 *      └── HeapShard ×n ── blocks per BlockLayout, a lock, a block-start bitmap, counters
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
 *       released by a release store: everything written under it is seen by the next holder.</li>
 *   <li><b>A block's state word</b> is the one word written without the lock. Every change is a
 *       compare-and-set of the whole word (stamp, pins, flags), so a change is made only by a thread that has
 *       seen the latest value, and the stamp in the expected value makes a thread that lost a race with the
 *       block's reuse fail. The lock holder writes a new block's state with a release store followed by a
 *       store-store fence, before the new owner can write the payload, and before it sets the block's used
 *       flag and start bit (each a release store; readers load them with acquire before the state): a thread
 *       that sees a header as a used block's sees its new stamp. A header merged away gets state 0 and its
 *       start bit cleared; a free block's links never have a state flag set ({@code BlockLayout}).</li>
 *   <li><b>Release</b>: whoever makes a state releasable (freed, no pins) by its compare-and-set, and only that
 *       thread, takes the lock and gives the block to the free lists. Eviction claims a block (live, no pins →
 *       evicting) by compare-and-set under the lock, so a concurrent pin either came first (and eviction
 *       passes the block by) or fails.</li>
 *   <li><b>Optimistic reads</b> read the state (volatile), copy, issue a load-load fence and read the state
 *       again. A block released and reused between the two has a new header (cleared start bit, free-list
 *       links, or a new stamp) written before any new payload (rules 2 and 3), so the second read fails.</li>
 *   <li><b>Hints</b>: {@code HeapShard.mightFit} reads the size-class bitmaps without the lock. It is used only
 *       to pass shards by; a shard it passes had no fitting block at some moment during the call.</li>
 * </ol>
 */
package io.hce.memory.internal.heap;
