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
@Description("A sample of the allocations that took memory from the C allocator (malloc), about one per sample"
        + " interval of bytes on each thread")
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
    @Description("Bytes this thread took from the C allocator since the previous sample, this one included:"
            + " what the sample stands for")
    @DataAmount
    long weight;
}
