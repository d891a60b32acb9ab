package io.hce.memory.internal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Throttle;

/** A FixedHeap request that found no room. */
@Name("io.hce.memory.HeapAllocationFailure")
@Label("Heap Allocation Failure")
@Category("hce-memory")
@Description("A FixedHeap request that found no room: no free block fitted, or only pinned blocks were left to evict")
@StackTrace
@Throttle("100/s")
final class HeapAllocationFailureEvent extends jdk.jfr.Event {

    @Label("Heap")
    String heap;

    @Label("Requested")
    @DataAmount
    long requested;

    @Label("Reason")
    String reason;
}
