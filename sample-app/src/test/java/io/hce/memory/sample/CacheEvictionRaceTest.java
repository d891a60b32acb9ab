package io.hce.memory.sample;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Readers race with eviction over real HTTP. Two writers keep replacing the values of 256 keys (each key
 * has one writer, so its versions only grow) with values of 16 to 160 KB: about 22 MB of values for a heap
 * of 8 MiB (two shards, whatever the processor count), so once it is full most puts evict, while six
 * readers fetch random keys. Every value encodes its key and version, and its bytes are a function of both,
 * so every byte of every 200 is checked against the value it claims to be; the version must be one its
 * writer has put, and never older than one the same reader saw before (the index never goes back). No
 * response may be a server error. When all is quiet, every key holds its latest version or nothing, and
 * the summary's count and bytes are exact. (Over HTTP a get seldom loses a race between its index lookup
 * and its copy; {@link OffHeapCacheRaceTest} makes that happen without HTTP.)
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "hce.memory.heaps.items.capacity=8MB")
class CacheEvictionRaceTest {

    private static final int KEYS = 256;
    private static final int WRITERS = 2;
    private static final int READERS = 6;
    private static final int PUTS_PER_WRITER = 200;
    private static final int MIN_PAYLOAD = 16 << 10;
    private static final int MAX_PAYLOAD = 160 << 10;
    private static final Pattern SUMMARY = Pattern.compile("\"count\":(\\d+),\"bytes\":(\\d+)");

    @LocalServerPort
    private int port;

    @Autowired
    private OffHeapCache cache;

    @Test
    void readersSeeExactValuesOrMissesWhileWritersForceEviction() throws Exception {
        HttpClients http = new HttpClients(port);
        double evictionsBefore = http.metric("/actuator/metrics/hce.memory.heap.evictions?tag=heap:items");
        AtomicLongArray started = new AtomicLongArray(KEYS);  // the latest version a writer began to put
        AtomicLongArray stored = new AtomicLongArray(KEYS);   // the latest version put and not deleted since, or 0
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger serverErrors = new AtomicInteger();
        AtomicInteger verified = new AtomicInteger();
        AtomicInteger misses = new AtomicInteger();
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Thread> writers = new ArrayList<>();
        List<Thread> readers = new ArrayList<>();
        long startNanos = System.nanoTime();
        long lostReadsBefore = cache.lostReads();

        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            writers.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                HttpClients client = new HttpClients(port);
                SplittableRandom random = new SplittableRandom(100 + writer);
                try {
                    for (int p = 0; p < PUTS_PER_WRITER && failure.get() == null; p++) {
                        int k = random.nextInt(KEYS / WRITERS) * WRITERS + writer; // this writer's keys only
                        String key = key(k);
                        if (random.nextInt(20) == 0) {
                            int status = status(client.send("DELETE", "/cache/" + key).statusCode(), serverErrors);
                            assertThat(status).as("DELETE %s", key).isIn(204, 404);
                            stored.set(k, 0);
                            assertThat(status(client.getBytes("/cache/" + key).statusCode(), serverErrors))
                                    .as("GET %s after its DELETE", key).isEqualTo(404);
                            continue;
                        }
                        long version = started.get(k) + 1;
                        started.set(k, version); // before the PUT: a reader may see it as soon as it is sent
                        assertThat(status(client.put("/cache/" + key, value(key, version)).statusCode(), serverErrors))
                                .as("PUT %s v%d", key, version).isEqualTo(204);
                        stored.set(k, version);
                        if (random.nextInt(4) == 0) { // read your own write: it, or a miss if evicted already
                            HttpResponse<byte[]> own = client.getBytes("/cache/" + key);
                            if (status(own.statusCode(), serverErrors) == 200) {
                                assertThat(check(key, own.body())).as("GET %s after its PUT", key).isEqualTo(version);
                            } else {
                                assertThat(own.statusCode()).isEqualTo(404);
                            }
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (int r = 0; r < READERS; r++) {
            long seed = r;
            readers.add(Thread.ofPlatform().name("reader-" + r).start(() -> {
                HttpClients client = new HttpClients(port);
                SplittableRandom random = new SplittableRandom(seed);
                long[] seen = new long[KEYS];
                try {
                    while (writing.get() && failure.get() == null) {
                        int k = random.nextInt(KEYS);
                        String key = key(k);
                        HttpResponse<byte[]> response = client.getBytes("/cache/" + key);
                        int status = status(response.statusCode(), serverErrors);
                        if (status == 404) {
                            misses.incrementAndGet();
                            continue;
                        }
                        assertThat(status).as("GET %s", key).isEqualTo(200);
                        long version = check(key, response.body());
                        assertThat(version).as("version of %s: put by its writer", key).isBetween(1L, started.get(k));
                        assertThat(version).as("version of %s: not older than one this reader saw", key)
                                .isGreaterThanOrEqualTo(seen[k]);
                        seen[k] = version;
                        verified.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread writer : writers) {
            writer.join();
        }
        writing.set(false);
        for (Thread reader : readers) {
            reader.join();
        }

        double evictions = http.metric("/actuator/metrics/hce.memory.heap.evictions?tag=heap:items") - evictionsBefore;
        System.out.printf("eviction race: %d ms, %d puts, %d GETs checked byte for byte, %d misses (%d reads lost a race"
                        + " after the index lookup), %.0f evictions, %d server errors%n", (System.nanoTime() - startNanos) / 1_000_000,
                WRITERS * PUTS_PER_WRITER, verified.get(), misses.get(), cache.lostReads() - lostReadsBefore, evictions,
                serverErrors.get());
        assertThat(failure.get()).isNull();
        assertThat(serverErrors.get()).as("server errors").isZero();
        assertThat(verified.get()).as("GETs whose every byte was checked").isGreaterThan(200);
        assertThat(misses.get()).as("GETs that missed an evicted value").isPositive();
        assertThat(evictions).as("evictions").isGreaterThan(100);

        // Quiet now: each key holds its latest version or nothing, and the summary adds up exactly.
        long present = 0;
        long presentBytes = 0;
        for (int k = 0; k < KEYS; k++) {
            HttpResponse<byte[]> response = http.getBytes("/cache/" + key(k));
            if (response.statusCode() == 404) {
                continue;
            }
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(check(key(k), response.body())).as("version of %s at rest", key(k)).isEqualTo(stored.get(k));
            present++;
            presentBytes += response.body().length;
        }
        assertThat(present).as("keys present at rest").isPositive().isLessThan(KEYS);
        Matcher summary = SUMMARY.matcher(http.send("GET", "/cache").body());
        assertThat(summary.find()).isTrue();
        assertThat(Long.parseLong(summary.group(1))).as("summary count").isEqualTo(present);
        assertThat(Long.parseLong(summary.group(2))).as("summary bytes").isEqualTo(presentBytes).isLessThan(8L << 20);
    }

    private static String key(int k) {
        return "race-" + k;
    }

    private static int status(int status, AtomicInteger serverErrors) {
        if (status >= 500) {
            serverErrors.incrementAndGet();
        }
        return status;
    }

    /**
     * {@code [key length][key][version][payload length][payload]}, the payload's bytes drawn from a generator
     * seeded with the key and the version, its length too: the value is a function of (key, version).
     */
    static byte[] value(String key, long version) {
        byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
        SplittableRandom random = new SplittableRandom(key.hashCode() * 0x9E37_79B9_7F4A_7C15L ^ version);
        byte[] payload = new byte[random.nextInt(MIN_PAYLOAD, MAX_PAYLOAD + 1)];
        random.nextBytes(payload);
        return ByteBuffer.allocate(4 + keyBytes.length + 8 + 4 + payload.length)
                .putInt(keyBytes.length).put(keyBytes).putLong(version).putInt(payload.length).put(payload).array();
    }

    /** @return the version of a value of {@code key} whose every byte is as {@link #value} makes it */
    private static long check(String key, byte[] body) {
        ByteBuffer value = ByteBuffer.wrap(body);
        int keyLength = value.getInt();
        assertThat(keyLength).as("key length in a value of %s", key).isBetween(0, body.length - 4);
        String found = new String(body, 4, keyLength, StandardCharsets.UTF_8);
        assertThat(found).as("key in a value of %s", key).isEqualTo(key);
        long version = value.getLong(4 + keyLength);
        byte[] expected = value(key, version);
        assertThat(Arrays.mismatch(body, expected)).as("first wrong byte of %s v%d (%d bytes, %d expected)", key,
                version, body.length, expected.length).isEqualTo(-1);
        return version;
    }
}
