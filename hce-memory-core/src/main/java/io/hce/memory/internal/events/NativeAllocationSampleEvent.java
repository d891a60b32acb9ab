package io.hce.memory.internal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** The native counterpart of {@code jdk.ObjectAllocationSample}: which code takes memory from the C allocator. */
@Name("io.hce.memory.NativeAllocationSample")
@Label("Native Allocation Sample")
@Category("hce-memory")
@Description("A sample of the allocations that took memory from the C allocator (malloc): one per sample"
        + " interval of bytes on each thread, the first at a random point")
@StackTrace
final class NativeAllocationSampleEvent extends jdk.jfr.Event {

    @Label("Tier")
    @Description("cache (a thread-cache miss), direct (larger than every bucket), pool (a pool miss) or heap"
            + " (a FixedHeap's region)")
    String tier;

    @Label("Allocator")
    String allocator;

    @Label("Size")
    @DataAmount
    long size;

    @Label("Weight")
    @Description("The bytes this sample stands for: the sample interval times the sample points this allocation"
            + " reached; sum it by stack to estimate which code takes native memory")
    @DataAmount
    long weight;
}
