package io.hce.memory.internal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** One request of a FixedHeap that evicted: the duration is the whole request's. */
@Name("io.hce.memory.HeapEviction")
@Label("Heap Eviction")
@Category("hce-memory")
@Description("A FixedHeap request that evicted blocks to make room")
@StackTrace
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
