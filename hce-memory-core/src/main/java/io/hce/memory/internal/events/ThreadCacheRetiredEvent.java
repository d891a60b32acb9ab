package io.hce.memory.internal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** The cache of a platform thread that ended, freed once the thread was collected (on the cleaner's thread). */
@Name("io.hce.memory.ThreadCacheRetired")
@Label("Thread Cache Retired")
@Category("hce-memory")
@Description("The cache of a platform thread that ended was freed")
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
