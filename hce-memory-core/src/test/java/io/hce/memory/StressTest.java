package io.hce.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests that try to break the caching allocator: four threads, random sizes (1 B … 64 KiB, some past the
 * largest bucket) and alignments, about half the frees on another thread than the allocation, every block
 * filled with a pattern derived from its id and checked before it is freed. Then thread churn.
 * Rerun a failure with {@code -Dhce.test.seed=<the printed seed>}.
 */
class StressTest {

    private static final int THREADS = 4;
    private static final MemorySegment[] PATTERNS = new MemorySegment[256];

    static {
        for (int b = 0; b < 256; b++) {
            PATTERNS[b] = MemorySegment.ofArray(new byte[64 * 1024]).fill((byte) b);
        }
    }

    private record Block(long id, MemorySegment segment) {
    }

    @Test
    void tenMillionOperationsOnFourThreadsLeaveNothingBehind() throws Exception {
        Result result = run(CachingAllocator.create(CacheInfo.defaults(), AllocatorOptions.NONE), 10_000_000, 0);
        assertThat(result.operations).isEqualTo(10_000_000);
        System.out.printf("stress: %,d operations, %,d cross-thread frees, %d bytes reserved at the end%n",
                result.operations, result.crossThreadFrees, result.reservedAtEnd);
        assertThat(result.reservedAtEnd).isZero();
    }

    @Test
    void checkedModeReportsInjectedMisuseAndStaysConsistent() throws Exception {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), new AllocatorOptions(true, LeakDetection.OFF));
        Result result = run(allocator, 400_000, 200);
        System.out.printf("checked stress: %,d operations, %,d misuses injected, %,d reported, %d bytes reserved at the end%n",
                result.operations, result.misusesInjected, result.misusesReported, result.reservedAtEnd);
        assertThat(result.misusesInjected).isPositive();
        assertThat(result.misusesReported).isEqualTo(result.misusesInjected);
        assertThat(result.reservedAtEnd).isZero();
    }

    @Test
    void tenThousandShortLivedThreadsGiveTheirCachesBack() throws Exception {
        CachingAllocator allocator = CachingAllocator.create(CacheInfo.defaults(), AllocatorOptions.NONE);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int wave = 0; wave < 100; wave++) {
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 100; t++) {
                int seed = wave * 100 + t;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        MemorySegment a = allocator.allocate(1 + seed % 5000);
                        MemorySegment b = allocator.allocate(64);
                        allocator.deallocate(a);
                        allocator.deallocate(b); // both stay in this thread's cache
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
        }
        assertThat(failure.get()).isNull();
        Eventually.awaitAfterGc(Duration.ofSeconds(60), () -> {
            allocator.trim(); // the depot's blocks, once every ended thread's cache is retired
            return allocator.statistics().reservedBytes() == 0;
        }, () -> allocator.statistics().toString());
        assertThat(allocator.statistics().hits() + allocator.statistics().misses()
                + allocator.statistics().directAllocations()).isEqualTo(20_000);
    }

    private record Result(long operations, long crossThreadFrees, long misusesInjected, long misusesReported,
                          long reservedAtEnd) {
    }

    /**
     * @param misuseEvery inject a misuse every this many frees on each thread; 0 for none
     */
    private static Result run(CachingAllocator allocator, int operations, int misuseEvery) throws Exception {
        long seed = Long.getLong("hce.test.seed", System.nanoTime());
        System.out.println("StressTest seed: " + seed);
        List<ConcurrentLinkedQueue<Block>> inboxes = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            inboxes.add(new ConcurrentLinkedQueue<>());
        }
        AtomicLong done = new AtomicLong();
        AtomicLong crossThread = new AtomicLong();
        AtomicLong injected = new AtomicLong();
        AtomicLong reported = new AtomicLong();
        AtomicInteger nextId = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Phaser allDone = new Phaser(THREADS); // a failing thread deregisters, so the others never hang
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int self = t;
            SplittableRandom random = new SplittableRandom(seed + t);
            threads.add(Thread.ofPlatform().start(() -> {
                List<Block> held = new ArrayList<>();
                try {
                    int frees = 0;
                    for (int i = 0; i < operations / THREADS / 2; i++) {
                        held.add(allocate(allocator, random, nextId.incrementAndGet()));
                        done.incrementAndGet();
                        for (Block mine; (mine = inboxes.get(self).poll()) != null; ) {
                            free(allocator, mine);
                            done.incrementAndGet();
                        }
                        if (held.size() > 64 || random.nextInt(4) == 0) {
                            Block block = held.remove(random.nextInt(held.size()));
                            if (random.nextBoolean()) {
                                inboxes.get((self + 1 + random.nextInt(THREADS - 1)) % THREADS).add(block);
                                crossThread.incrementAndGet();
                            } else {
                                free(allocator, block);
                                done.incrementAndGet();
                                if (misuseEvery > 0 && ++frees % misuseEvery == 0) {
                                    injected.incrementAndGet();
                                    if (injectMisuse(allocator, self, random.nextInt(3))) {
                                        reported.incrementAndGet();
                                    }
                                }
                            }
                        }
                    }
                    for (Block block : held) {
                        free(allocator, block);
                        done.incrementAndGet();
                    }
                    allDone.arriveAndAwaitAdvance();
                    for (Block mine; (mine = inboxes.get(self).poll()) != null; ) {
                        free(allocator, mine);
                        done.incrementAndGet();
                    }
                    allDone.arriveAndAwaitAdvance();
                    allocator.trim();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    allDone.arriveAndDeregister();
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failure.get()).isNull();
        allocator.trim(); // the depot, and in checked mode the quarantine
        return new Result(done.get(), crossThread.get(), injected.get(), reported.get(),
                allocator.statistics().reservedBytes());
    }

    private static Block allocate(CachingAllocator allocator, SplittableRandom random, long id) {
        long size = random.nextInt(20) == 0 ? 4097 + random.nextInt(61_440) : 1 + random.nextInt(1 << (1 + random.nextInt(12)));
        long alignment = random.nextInt(8) == 0 ? 1L << random.nextInt(13) : 1;
        MemorySegment segment = allocator.allocate(size, alignment);
        if (segment.address() % alignment != 0) {
            throw new AssertionError("block " + id + " not aligned to " + alignment);
        }
        segment.fill((byte) id);
        if (size >= 8) {
            segment.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, id);
        }
        return new Block(id, segment);
    }

    private static void free(CachingAllocator allocator, Block block) {
        MemorySegment segment = block.segment();
        long size = segment.byteSize();
        long start = size >= 8 ? 8 : 0;
        if ((size >= 8 && segment.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) != block.id())
                || MemorySegment.mismatch(segment, start, size, PATTERNS[(int) block.id() & 0xFF], start, size) != -1) {
            throw new AssertionError("block " + block.id() + " of " + size + " bytes was overwritten while live");
        }
        allocator.deallocate(segment);
    }

    /**
     * Injects one misuse on blocks of a size the random sizes never take (past 64 KiB + 4 KiB, one per
     * thread), so that even a block that has left quarantine and been reused is never another thread's
     * block of the same size, which no allocator could tell from a legitimate one.
     *
     * @return whether the misuse was reported by an exception
     */
    private static boolean injectMisuse(CachingAllocator allocator, int thread, int kind) {
        long size = 70_000 + thread;
        try {
            switch (kind) {
                case 0 -> {
                    MemorySegment freed = allocator.allocate(size);
                    allocator.deallocate(freed);
                    allocator.deallocate(freed); // double free
                }
                case 1 -> allocator.deallocate(MemorySegment.ofAddress((1L << 40) + 4096L * thread)
                        .reinterpret(size)); // a foreign segment
                default -> {
                    MemorySegment live = allocator.allocate(96);
                    try {
                        allocator.deallocate(live.asSlice(0, 48)); // a slice
                    } finally {
                        allocator.deallocate(live);
                    }
                }
            }
            return false;
        } catch (IllegalArgumentException | IllegalStateException reported) {
            return true;
        }
    }
}
