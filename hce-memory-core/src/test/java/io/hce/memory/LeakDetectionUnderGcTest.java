package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, finding 3: with leak detection PARANOID, 4 threads looping {@code deallocate(allocate(n))} on a
 * small Java heap got leaks reported for blocks that were all given back (38 in 96M pairs): the segment was
 * collected while {@code deallocate} still ran. The allocators now keep their argument reachable until they
 * are done with it. Run in a JVM of its own with {@code -Xmx16m} and a 4 MiB young generation, so that collections land mid-call often.
 */
class LeakDetectionUnderGcTest {

    private static final long SECONDS = 8;

    /** The child: loops pairs on 4 threads for {@link #SECONDS}, then prints the leaks each allocator reported. */
    public static void main(String[] args) throws Exception {
        AllocatorOptions paranoid = new AllocatorOptions(false, LeakDetection.PARANOID);
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), paranoid);
        PoolAllocator pool = PoolAllocator.create("leaks", MemoryLayout.sequenceLayout(64, ValueLayout.JAVA_BYTE), 256, paranoid);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        List<Thread> threads = new ArrayList<>();
        long[] pairs = new long[4];
        for (int t = 0; t < 4; t++) {
            int index = t;
            threads.add(Thread.ofPlatform().start(() -> {
                long n = 0;
                while ((n & 1023) != 0 || System.nanoTime() < deadline) {
                    allocator.deallocate(allocator.allocate(16 + (n & 511)));
                    pool.deallocate(pool.allocate());
                    n++;
                }
                pairs[index] = n;
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        System.gc();
        Thread.sleep(500);
        System.out.println("pairs=" + (pairs[0] + pairs[1] + pairs[2] + pairs[3]) + " leaks=" + allocator.leaks()
                + " poolLeaks=" + pool.leaks());
    }

    @Test
    void blocksGivenBackAreNeverReportedAsLeaksWhileTheGcRunsMidCall() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-Xmx16m", "-Xmn4m", "--enable-native-access=ALL-UNNAMED",
                "-Djava.util.logging.config.file=/dev/null", "-cp", System.getProperty("java.class.path"),
                LeakDetectionUnderGcTest.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes());
        assertTrue(child.waitFor(SECONDS + 60, TimeUnit.SECONDS));
        String last = output.lines().filter(line -> line.startsWith("pairs=")).findFirst().orElse("");
        System.out.println("LeakDetectionUnderGcTest: " + last);
        assertTrue(last.contains("leaks="), "the child ran: " + output.lines().limit(20).toList());
        assertEquals(0, child.exitValue(), output);
        assertTrue(last.endsWith(" leaks=0 poolLeaks=0"), last);
    }
}
