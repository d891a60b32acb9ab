package io.hce.memory.sample;

import io.hce.memory.FixedHeap;
import io.hce.memory.PoolAllocator;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cache itself, without HTTP, so that gets really do lose races: over HTTP a get is almost never in the
 * microseconds between its index lookup and the end of its copy when its value goes; here tens of thousands
 * of operations a second, half of them on eight hot keys, make it happen tens of times a run. Writers own
 * their keys (versions only grow) and replace,
 * delete and, by overfilling a heap of two shards, evict; readers check every byte of every value against
 * the value its key and version make, and that a key's version never goes back. At rest the summary is
 * exact and the heap consistent.
 */
class OffHeapCacheRaceTest {

    private static final int KEYS = 512;
    private static final int WRITERS = 2;
    private static final int READERS = 2;
    /** Keys of each writer that get half of its puts and, with the other writer's, half of the gets. */
    private static final int HOT = 4;
    private static final long MILLIS = 3_000;
    /**
     * Puts the writers make at least, however slow the machine (about 4 in 10 evict), and they go on until a read
     * has lost a race after its index lookup: the run races, whatever the machine's speed.
     */
    private static final long MIN_PUTS = 8_000;
    /** The longest the writers go on to make {@link #MIN_PUTS}. */
    private static final long MAX_MILLIS = 60_000;

    @Test
    void getsThatRaceWithEvictionAndReplacementReturnExactValuesOrMisses() throws Exception {
        try (FixedHeap heap = FixedHeap.create("race-items", 4 << 20, 2, false);
             PoolAllocator pool = PoolAllocator.create("race-entries", OffHeapCache.HEADER, 64)) {
            OffHeapCache cache = new OffHeapCache(heap, pool);
            AtomicLongArray started = new AtomicLongArray(KEYS);
            AtomicLongArray stored = new AtomicLongArray(KEYS);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong hits = new AtomicLong();
            AtomicLong misses = new AtomicLong();
            AtomicLong puts = new AtomicLong();
            long start = System.nanoTime();
            long deadline = start + MILLIS * 1_000_000;
            long lastChance = start + MAX_MILLIS * 1_000_000;
            AtomicBoolean writing = new AtomicBoolean(true);
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                threads.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                    SplittableRandom random = new SplittableRandom(writer);
                    try {
                        for (long now; failure.get() == null && ((now = System.nanoTime()) < deadline
                                || ((puts.get() < MIN_PUTS || cache.lostReads() == 0) && now < lastChance)); ) {
                            int k = random.nextInt(random.nextBoolean() ? HOT : KEYS / WRITERS) * WRITERS + writer;
                            if (random.nextInt(50) == 0) {
                                cache.delete(key(k));
                                stored.set(k, 0);
                                assertThat(cache.get(key(k))).as("get of %s after its delete", key(k)).isEmpty();
                                continue;
                            }
                            long version = started.get(k) + 1;
                            started.set(k, version);
                            cache.put(key(k), value(key(k), version));
                            stored.set(k, version);
                            puts.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (int r = 0; r < READERS; r++) {
                long seed = 100 + r;
                threads.add(Thread.ofPlatform().name("reader-" + r).start(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    long[] seen = new long[KEYS];
                    try {
                        while (writing.get() && failure.get() == null) {
                            int k = random.nextInt(random.nextBoolean() ? HOT * WRITERS : KEYS);
                            Optional<byte[]> value = cache.get(key(k));
                            if (value.isEmpty()) {
                                misses.incrementAndGet();
                                continue;
                            }
                            long version = check(key(k), value.get());
                            assertThat(version).as("version of %s", key(k)).isBetween(Math.max(1, seen[k]), started.get(k));
                            seen[k] = version;
                            hits.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread writer : threads.subList(0, WRITERS)) {
                writer.join();
            }
            writing.set(false);
            for (Thread thread : threads) {
                thread.join();
            }
            long evictions = heap.statistics().evictions();
            System.out.printf("cache race: %d puts, %d gets checked byte for byte, %d misses, %d reads lost a race after"
                    + " the index lookup, %d evictions%n", puts.get(), hits.get(), misses.get(), cache.lostReads(), evictions);
            assertThat(failure.get()).isNull();
            assertThat(hits.get()).isGreaterThan(1000);
            assertThat(evictions).isGreaterThan(1000);
            assertThat(cache.lostReads()).as("gets that lost a race after the index lookup").isPositive();

            long present = 0;
            long bytes = 0;
            for (int k = 0; k < KEYS; k++) {
                Optional<byte[]> value = cache.get(key(k));
                if (value.isPresent()) {
                    assertThat(check(key(k), value.get())).as("version of %s at rest", key(k)).isEqualTo(stored.get(k));
                    present++;
                    bytes += value.get().length;
                }
            }
            assertThat(cache.summary().count()).as("count at rest").isEqualTo(present);
            assertThat(cache.summary().bytes()).as("bytes at rest").isEqualTo(bytes);
            heap.verify();
        }
    }

    private static String key(int k) {
        return "stress-" + k;
    }

    /** As {@link CacheEvictionRaceTest#value}, smaller: 1 to 32 KB. */
    private static byte[] value(String key, long version) {
        byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
        SplittableRandom random = new SplittableRandom(key.hashCode() * 0x9E37_79B9_7F4A_7C15L ^ version);
        byte[] payload = new byte[random.nextInt(1 << 10, 32 << 10)];
        random.nextBytes(payload);
        return ByteBuffer.allocate(4 + keyBytes.length + 8 + 4 + payload.length)
                .putInt(keyBytes.length).put(keyBytes).putLong(version).putInt(payload.length).put(payload).array();
    }

    private static long check(String key, byte[] body) {
        ByteBuffer value = ByteBuffer.wrap(body);
        int keyLength = value.getInt();
        assertThat(keyLength).as("key length in a value of %s", key).isBetween(0, body.length - 4);
        assertThat(new String(body, 4, keyLength, StandardCharsets.UTF_8)).as("key in a value of %s", key).isEqualTo(key);
        long version = value.getLong(4 + keyLength);
        byte[] expected = value(key, version);
        assertThat(Arrays.mismatch(body, expected)).as("first wrong byte of %s v%d", key, version).isEqualTo(-1);
        return version;
    }
}
