package io.hce.memory.internal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Throttle;

/** A pool allocation that found no cached block and called malloc. */
@Name("io.hce.memory.PoolMiss")
@Label("Pool Miss")
@Category("hce-memory")
@Description("A pool allocation that found no cached block and called malloc")
@StackTrace
@Throttle("100/s")
final class PoolMissEvent extends jdk.jfr.Event {

    @Label("Pool")
    String pool;

    @Label("Block Size")
    @DataAmount
    long blockSize;
}
