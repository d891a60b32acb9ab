package io.hce.memory.sample;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Eight clients, each with 250 requests of mixed put/get/delete on 16 shared keys, values of random sizes.
 * Every value carries its key and a checksum; every successful GET must return a whole, intact value of
 * the key asked for, i.e. exactly the bytes of one of the PUTs made for that key.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "hce.memory.heaps.items.capacity=2MB")
class CacheConcurrentClientsTest {

    @LocalServerPort
    private int port;

    @Test
    void everyGetReturnsExactlyOneOfThePutsForItsKey() throws Exception {
        int clients = 8;
        int requests = 250;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger verified = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            long seed = c;
            threads.add(Thread.ofPlatform().start(() -> {
                HttpClients http = new HttpClients(port);
                SplittableRandom random = new SplittableRandom(seed);
                try {
                    for (int r = 0; r < requests; r++) {
                        String key = "concurrent-" + random.nextInt(16);
                        int action = random.nextInt(10);
                        if (action < 4) {
                            assertThat(http.put("/cache/" + key, value(key, random)).statusCode()).isEqualTo(204);
                        } else if (action < 9) {
                            HttpResponse<byte[]> response = http.getBytes("/cache/" + key);
                            if (response.statusCode() == 200) {
                                check(key, response.body());
                                verified.incrementAndGet();
                            } else {
                                assertThat(response.statusCode()).isEqualTo(404);
                            }
                        } else {
                            assertThat(http.send("DELETE", "/cache/" + key).statusCode()).isIn(204, 404);
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failure.get()).isNull();
        assertThat(verified.get()).as("successful GETs checked").isGreaterThan(100);
    }

    /** [key length][key][payload][CRC32C of all before it], 8-byte checksum last. */
    private static byte[] value(String key, SplittableRandom random) {
        byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
        byte[] payload = new byte[random.nextInt(1, 30_000)];
        random.nextBytes(payload);
        ByteBuffer value = ByteBuffer.allocate(4 + keyBytes.length + payload.length + 8);
        value.putInt(keyBytes.length).put(keyBytes).put(payload);
        CRC32C crc = new CRC32C();
        crc.update(value.array(), 0, value.position());
        value.putLong(crc.getValue());
        return value.array();
    }

    private static void check(String key, byte[] body) {
        ByteBuffer value = ByteBuffer.wrap(body);
        byte[] keyBytes = new byte[value.getInt()];
        value.get(keyBytes);
        assertThat(new String(keyBytes, StandardCharsets.UTF_8)).isEqualTo(key);
        CRC32C crc = new CRC32C();
        crc.update(body, 0, body.length - 8);
        assertThat(ByteBuffer.wrap(body, body.length - 8, 8).getLong()).as("checksum of a value of " + key)
                .isEqualTo(crc.getValue());
    }
}
