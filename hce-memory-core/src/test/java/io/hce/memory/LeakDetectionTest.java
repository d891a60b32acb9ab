package io.hce.memory;

import io.hce.memory.testing.CapturedLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Leak detection: a block whose segment is collected before it is deallocated is reported, once, through the
 * logger {@code io.hce.memory.leaks}. The reports are captured, not printed: each test leaks blocks of a size
 * of its own, so that it finds its reports and no other test's.
 */
class LeakDetectionTest {

    private CapturedLog leakLog;

    @BeforeEach
    void captureLeakReports() {
        leakLog = CapturedLog.of("io.hce.memory.leaks");
    }

    @AfterEach
    void printUncheckedReports() {
        leakLog.close();
    }

    @Test
    void aDroppedSegmentIsReportedAndADeallocatedOneIsNot() {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(),
                new AllocatorOptions(false, LeakDetection.PARANOID));
        MemorySegment kept = allocator.allocate(64);
        for (int i = 0; i < 10; i++) {
            allocator.deallocate(allocator.allocate(128)); // deallocated: never a leak
        }
        leak(allocator, 3, 17);
        Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> allocator.leaks() == 3 && leakLog.count(ofSize(17)) == 3,
                () -> "leaks " + allocator.leaks() + ", reports " + leakLog.count(ofSize(17)));
        allocator.deallocate(kept);
        System.gc();
        assertThat(allocator.leaks()).isEqualTo(3);
        List<LogRecord> reports = leakLog.take(ofSize(17));
        assertThat(reports).hasSize(3).allSatisfy(report -> {
            assertThat(report.getLevel()).isEqualTo(Level.WARNING);
            assertThat(report.getMessage()).startsWith("LEAK: a block of 17 bytes at 0x")
                    .contains(" of " + allocator + " became unreachable without being deallocated; it was allocated here:");
            assertThat(report.getThrown()).as("the allocation stack").isNotNull()
                    .hasMessageContaining("allocated by " + allocator + " on thread " + Thread.currentThread().getName());
            assertThat(Arrays.stream(report.getThrown().getStackTrace()))
                    .anyMatch(frame -> frame.getClassName().equals(LeakDetectionTest.class.getName())
                            && frame.getMethodName().equals("leak"));
        });
        assertThat(reports.stream().map(LogRecord::getMessage).distinct()).as("one report per block").hasSize(3);
        assertThat(leakLog.count(ofSize(64)) + leakLog.count(ofSize(128))).isZero();
    }

    @Test
    void blocksByAddressAreNotWatchedSoTheyAreNeverReportedFalsely() {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(),
                new AllocatorOptions(false, LeakDetection.PARANOID));
        long[] live = new long[5];
        for (int i = 0; i < live.length; i++) {
            live[i] = allocator.allocateAddress(32); // no segment to collect: must not look leaked
        }
        leak(allocator, 1, 25);
        Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> allocator.leaks() >= 1 && leakLog.count(ofSize(25)) >= 1,
                () -> "leaks " + allocator.leaks());
        System.gc();
        assertThat(allocator.leaks()).isEqualTo(1);
        assertThat(leakLog.take(ofSize(25))).hasSize(1);
        assertThat(leakLog.count(ofSize(32))).isZero();
        for (long address : live) {
            allocator.deallocateAddress(address, 32);
        }
    }

    @Test
    void poolsReportLeaksToo() {
        PoolAllocator pool = PoolAllocator.create("leaky", ValueLayout.JAVA_LONG, 4, new AllocatorOptions(false, LeakDetection.PARANOID));
        pool.allocate().set(ValueLayout.JAVA_LONG, 0, 1);
        Predicate<LogRecord> ofThisPool = report -> report.getMessage().contains(" of pool 'leaky' ");
        Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> pool.leaks() == 1 && leakLog.count(ofThisPool) == 1,
                () -> "leaks " + pool.leaks());
        assertThat(leakLog.take(ofThisPool)).singleElement().satisfies(report -> {
            assertThat(report.getMessage()).startsWith("LEAK: a block of 8 bytes at 0x");
            assertThat(report.getThrown()).hasMessageContaining("allocated by pool 'leaky'");
        });
        pool.close();
    }

    @Test
    void samplingTracksAboutOneAllocationIn128() {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), new AllocatorOptions(false, LeakDetection.SAMPLED));
        leak(allocator, 12_800, 16);
        Eventually.awaitAfterGc(Duration.ofSeconds(30), () -> allocator.leaks() >= 50, () -> "leaks " + allocator.leaks());
        settle(allocator::leaks); // every report in, before the capture ends
        assertThat(allocator.leaks()).isBetween(50L, 200L); // 100 expected; binomial spread is about ±10
        assertThat(leakLog.take(ofSize(16))).as("each leak counted is reported once").hasSize((int) allocator.leaks());
    }

    @Test
    void offTracksNothing() {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), AllocatorOptions.NONE);
        leak(allocator, 100, 40);
        System.gc();
        assertThat(allocator.leaks()).isZero();
        assertThat(leakLog.count(ofSize(40))).isZero();
    }

    private static void leak(CachingAllocator allocator, int blocks, int size) {
        for (int i = 0; i < blocks; i++) {
            allocator.allocate(size).set(ValueLayout.JAVA_BYTE, 0, (byte) i);
        }
    }

    private static Predicate<LogRecord> ofSize(int size) {
        return report -> report.getMessage().startsWith("LEAK: a block of " + size + " bytes ");
    }

    /** Collects until a count has not moved for three rounds (at most 10 s): the Cleaner has run every action due. */
    private static void settle(LongSupplier count) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long last = -1;
        for (int unchanged = 0; unchanged < 3 && System.nanoTime() < deadline; ) {
            System.gc();
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
            long now = count.getAsLong();
            unchanged = now == last ? unchanged + 1 : 0;
            last = now;
        }
    }
}
