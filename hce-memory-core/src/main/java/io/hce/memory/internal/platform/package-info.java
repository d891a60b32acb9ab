/**
 * The native backend: the only place that calls the C allocator.
 *
 * <p>Every byte the library hands out comes from {@code malloc}, {@code aligned_alloc} and goes back
 * through {@code free}, called through FFM downcalls resolved in the default lookup. An allocator
 * preloaded into the process ({@code LD_PRELOAD=libjemalloc.so}) is therefore used unchanged.
 */
package io.hce.memory.internal.platform;
