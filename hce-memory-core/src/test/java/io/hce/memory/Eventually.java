package io.hce.memory;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.fail;

/** Waits for a condition that depends on garbage collection (a {@code Cleaner}), collecting while it waits. */
final class Eventually {

    private Eventually() {
    }

    static void awaitAfterGc(Duration timeout, BooleanSupplier condition, Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("condition not reached within " + timeout + ": " + state.get());
            }
            System.gc();
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
    }
}
