package io.hce.memory.internal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A platform thread's cache freed: once the thread ended and was collected (on the cleaner's thread), or when its allocator was dropped. */
@Name("io.hce.memory.ThreadCacheRetired")
@Label("Thread Cache Retired")
@Category("hce-memory")
@Description("A platform thread's cache was freed: its thread ended, or its allocator was dropped")
@StackTrace(false)
final class ThreadCacheRetiredEvent extends jdk.jfr.Event {

    @Label("Allocator")
    String allocator;

    @Label("Thread Id")
    @Description("The id of the thread that owned the cache")
    long ownerThreadId;

    @Label("Bytes Returned")
    @Description("Cached bytes given back to the C allocator")
    @DataAmount
    long bytes;
}
