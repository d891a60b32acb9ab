/**
 * JDK Flight Recorder events, named {@code io.hce.memory.<Event>}, in the category "hce-memory".
 *
 * <p>Every event is emitted on a slow path only: a call to {@code malloc} or {@code free}, an eviction, a
 * failed request, a cache given back. Each path asks {@link io.hce.memory.internal.events.NativeEvents} first,
 * which reads one flag per event type ({@code EventType.isEnabled()}, set by the recorder) before doing any
 * work, so with no recording running the paths allocate nothing and change nothing. The hit paths of the
 * caches, pools and heaps have no event at all.
 *
 * <table>
 *   <caption>Events</caption>
 *   <tr><th>event</th><th>when</th><th>fields</th></tr>
 *   <tr><td>{@code NativeAllocationSample}</td><td>one in about every {@code hce.memory.jfr.sample-interval} bytes
 *       (default 512 KB) that the allocators take from the C allocator, per thread, the first at a random point</td>
 *       <td>tier, allocator, size, weight; stack trace</td></tr>
 *   <tr><td>{@code HeapEviction}</td><td>a request of a {@code FixedHeap} that evicted</td>
 *       <td>heap, requested, blocks, bytes; duration, stack trace; off by default, threshold 1 ms</td></tr>
 *   <tr><td>{@code HeapAllocationFailure}</td><td>a request of a {@code FixedHeap} that found no room</td>
 *       <td>heap, requested, reason; stack trace; at most 100 a second</td></tr>
 *   <tr><td>{@code PoolMiss}</td><td>a pool allocation that called {@code malloc}</td>
 *       <td>pool, block size; stack trace; at most 100 a second</td></tr>
 *   <tr><td>{@code ThreadCacheRetired}</td><td>a thread's cache freed: its thread ended, or the allocator was dropped</td>
 *       <td>allocator, thread, bytes returned</td></tr>
 *   <tr><td>{@code ThreadCacheTrimmed}</td><td>{@code CachingAllocator.trim()}</td>
 *       <td>allocator, bytes returned; stack trace</td></tr>
 * </table>
 */
package io.hce.memory.internal.events;
