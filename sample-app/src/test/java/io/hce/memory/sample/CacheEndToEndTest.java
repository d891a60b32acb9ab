package io.hce.memory.sample;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import java.net.http.HttpResponse;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The cache over real HTTP, with a 2 MiB heap so that eviction comes quickly. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "hce.memory.heaps.items.capacity=2MB")
class CacheEndToEndTest {

    private static final int VALUE_SIZE = 50_000;

    @LocalServerPort
    private int port;

    @Test
    void storesUntilEvictionAndServesExactlyWhatIsKept() throws Exception {
        HttpClients http = new HttpClients(port);
        double evictionsBefore = http.metric("/actuator/metrics/hce.memory.heap.evictions?tag=heap:items");
        for (int i = 0; i < 100; i++) { // 5 MB into a 2 MiB heap
            assertThat(http.put("/cache/e2e-" + i, value(i)).statusCode()).isEqualTo(204);
        }
        for (int i = 0; i < 10; i++) {
            assertThat(http.getBytes("/cache/e2e-" + i).statusCode()).as("evicted key %d", i).isEqualTo(404);
        }
        for (int i = 90; i < 100; i++) {
            HttpResponse<byte[]> kept = http.getBytes("/cache/e2e-" + i);
            assertThat(kept.statusCode()).isEqualTo(200);
            assertThat(kept.body()).as("key %d", i).isEqualTo(value(i));
        }
        assertThat(http.metric("/actuator/metrics/hce.memory.heap.evictions?tag=heap:items")).isGreaterThan(evictionsBefore);
        // 50 KB response buffers bypass the buckets (4 KiB at most); 1 KB ones are served by the thread caches
        byte[] small = Arrays.copyOf(value(3), 1000);
        http.put("/cache/small", small);
        for (int i = 0; i < 20; i++) {
            assertThat(http.getBytes("/cache/small").body()).isEqualTo(small);
        }
        assertThat(http.metric("/actuator/metrics/hce.memory.cache.allocations?tag=result:hit")).isPositive();
        String prometheus = http.send("GET", "/actuator/prometheus").body();
        assertThat(prometheus).containsPattern("hce_memory_cache_allocations_total\\{bucket=\"\\d+\",result=\"hit\"")
                .containsPattern("hce_memory_cache_allocations_total\\{bucket=\"\\d+\",result=\"miss\"");
        String summary = http.send("GET", "/cache").body();
        assertThat(summary).contains("\"maxValueSize\":");
    }

    @Test
    void badRequestsGetClearErrorsAndLeaveTheStoreIntact() throws Exception {
        HttpClients http = new HttpClients(port);
        assertThat(http.put("/cache/kept", value(7)).statusCode()).isEqualTo(204);
        HttpResponse<String> tooLarge = http.put("/cache/huge", new byte[3 << 20]);
        assertThat(tooLarge.statusCode()).isEqualTo(413);
        assertThat(tooLarge.body()).contains("\"maxValueSize\":").contains("larger than the largest the heap can hold");
        assertThat(http.put("/cache/empty", new byte[0]).statusCode()).isEqualTo(400);
        HttpResponse<String> blankKey = http.put("/cache/%20", value(1));
        assertThat(blankKey.statusCode()).isEqualTo(400);
        assertThat(blankKey.body()).contains("the key must not be empty");
        assertThat(http.put("/cache/", value(1)).statusCode()).isEqualTo(400);
        assertThat(http.getBytes("/cache/huge").statusCode()).isEqualTo(404);
        byte[] form = "a=b&c=d".getBytes(java.nio.charset.StandardCharsets.US_ASCII); // as curl -d sends it
        assertThat(http.put("/cache/form", form, "application/x-www-form-urlencoded").statusCode()).isEqualTo(204);
        assertThat(http.getBytes("/cache/form").body()).isEqualTo(form);
        assertThat(http.getBytes("/cache/kept").body()).isEqualTo(value(7));
        assertThat(http.send("DELETE", "/cache/kept").statusCode()).isEqualTo(204);
        assertThat(http.send("DELETE", "/cache/kept").statusCode()).isEqualTo(404);
    }

    static byte[] value(int seed) {
        byte[] value = new byte[VALUE_SIZE];
        Arrays.fill(value, (byte) seed);
        value[0] = (byte) (seed >> 8);
        value[VALUE_SIZE - 1] = (byte) ~seed;
        return value;
    }
}
