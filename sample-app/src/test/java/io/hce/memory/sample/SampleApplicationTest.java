package io.hce.memory.sample;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SampleApplicationTest {

    @LocalServerPort
    private int port;

    @Test
    void exercisingTheAllocatorOverHttpMovesItsCounters() throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                            URI.create("http://localhost:" + port + "/memory/exercise?blocks=500"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).contains("\"hits\"", "\"reservedBytes\"", "\"blockSize\":4096");
        }
    }

    @Test
    void actuatorShowsTheEndpointAndTheMeters() throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            String bucket64 = "/actuator/metrics/hce.memory.cache.allocations?tag=bucket:64";
            double before = count(send(client, "GET", bucket64));
            send(client, "POST", "/memory/exercise?blocks=2000");
            HttpResponse<String> memory = send(client, "GET", "/actuator/hcememory");
            assertThat(memory.statusCode()).isEqualTo(200);
            assertThat(memory.body()).contains("\"cache\":{\"buckets\":[{\"blockSize\":1,\"byteLimit\":65536",
                    "\"pools\":{\"entries\":{\"name\":\"entries\",\"blockSize\":24,\"capacity\":4096",
                    "\"heaps\":{\"items\":{\"name\":\"items\",\"capacity\":67108864");
            assertThat(send(client, "GET", "/actuator/hcememory/items").body()).startsWith("{\"name\":\"items\"");
            assertThat(send(client, "GET", "/actuator/hcememory/nothing").statusCode()).isEqualTo(404);
            HttpResponse<String> profile = send(client, "GET", "/actuator/hcememory/profile");
            assertThat(profile.statusCode()).isEqualTo(200);
            assertThat(profile.body()).contains("\"leakDetection\":\"off\"", "\"sites\":[]",
                    "set hce.memory.leak-detection=sampled");

            // the exercise allocates 16 + (37 i mod 4000) bytes for i = 0 … 1999: 17 of them in (32, 64]; the meters
            // read the statistics once per scrape, and a reading lasts 500 ms: a read right after may be the old one
            long deadline = System.nanoTime() + 5_000_000_000L;
            double after;
            while ((after = count(send(client, "GET", bucket64))) == before && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(after - before).isEqualTo(17.0);
            assertThat(send(client, "GET", "/actuator/prometheus").body())
                    .contains("hce_memory_cache_allocations_total{bucket=\"64\"");
        }
    }

    private static double count(HttpResponse<String> metric) {
        assertThat(metric.statusCode()).isEqualTo(200);
        java.util.regex.Matcher matcher = java.util.regex.Pattern
                .compile("\"statistic\":\"COUNT\",\"value\":([0-9.E]+)").matcher(metric.body());
        assertThat(matcher.find()).as(metric.body()).isTrue();
        return Double.parseDouble(matcher.group(1));
    }

    private HttpResponse<String> send(HttpClient client, String method, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
