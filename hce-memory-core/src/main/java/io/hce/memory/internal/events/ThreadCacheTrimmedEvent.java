package io.hce.memory.internal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A {@code CachingAllocator.trim()}: the caller's cache, the depots and the virtual threads' stripes. */
@Name("io.hce.memory.ThreadCacheTrimmed")
@Label("Thread Cache Trimmed")
@Category("hce-memory")
@Description("CachingAllocator.trim(): the calling thread's cache, the shared depots and the virtual threads'"
        + " stripes were freed")
@StackTrace
final class ThreadCacheTrimmedEvent extends jdk.jfr.Event {

    @Label("Allocator")
    String allocator;

    @Label("Bytes Returned")
    @Description("Cached bytes given back to the C allocator")
    @DataAmount
    long bytes;
}
