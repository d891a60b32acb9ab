package io.hce.memory.internal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * One request of a FixedHeap that evicted: the duration is the whole request's. A full cache evicts on most
 * requests, so the event is off unless a recording turns it on ({@code +io.hce.memory.HeapEviction#enabled=true}),
 * and then records requests of a millisecond or more (as the JDK does for {@code jdk.JavaMonitorEnter});
 * {@code #threshold=0 ms} records every one.
 */
@Name("io.hce.memory.HeapEviction")
@Label("Heap Eviction")
@Category("hce-memory")
@Description("A FixedHeap request that evicted blocks to make room")
@StackTrace
@Threshold("1 ms")
@Enabled(false)
final class HeapEvictionEvent extends jdk.jfr.Event {

    @Label("Heap")
    String heap;

    @Label("Requested")
    @DataAmount
    long requested;

    @Label("Blocks")
    @Description("Blocks evicted")
    long blocks;

    @Label("Bytes")
    @Description("Payload bytes evicted")
    @DataAmount
    long bytes;
}
