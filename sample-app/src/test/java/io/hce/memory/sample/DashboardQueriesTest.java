package io.hce.memory.sample;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every query of {@code dashboards/hce-memory.json} answers from a real Prometheus (the {@code prometheus}
 * binary, a child process) that scrapes this app every second while the load generator runs: a query that
 * names a meter the app does not have, or a label it does not set, comes back empty and fails here. The app is
 * started here rather than by {@code @SpringBootTest}: nothing starts when Prometheus is missing, and the
 * context closes (with its heap) only once the load generator's workers are done.
 */
class DashboardQueriesTest {

    private static final Path DASHBOARD = Path.of("..", "dashboards", "hce-memory.json");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /**
     * What {@code $__rate_interval} stands for here. Grafana makes it at least four scrape intervals (of the data
     * source's setting, 15 s by default, so 1 min); with 1 s scrapes, 10 s windows hold ten samples and fill
     * quickly enough for a test.
     */
    private static final String RATE_INTERVAL = "10s";
    private static final Map<String, String> VARIABLES = Map.of(
            "$__rate_interval", RATE_INTERVAL,
            "$instance", ".*"); // what the variable's "All" (allValue) sends
    private static final int LOAD_SECONDS = 20;
    /** The longest the meters may take to move, the load restarted as it ends: long enough for a loaded CI machine. */
    private static final int MAX_WAIT_SECONDS = 120;
    private static final Pattern RANGE = Pattern.compile("\\[([^\\]]*)\\]");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((\\w+),\\s*(\\w+)\\)");

    @Test
    void everyPanelQueryAnswersFromAPrometheusThatScrapesTheApp(@TempDir Path dir) throws Exception {
        Path prometheus = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(directory -> !directory.isEmpty())
                .map(directory -> Path.of(directory, "prometheus"))
                .filter(Files::isExecutable)
                .findFirst().orElse(null);
        assumeTrue(prometheus != null, "no prometheus on the PATH: install it to run this test, e.g."
                + " sudo apt-get install --no-install-recommends prometheus (Debian, Ubuntu)");
        JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
        List<Target> targets = importableTargets(dashboard);
        // Arguments, not default properties: they must win over the sample's application.yml (port 8080)
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(SampleApplication.class).run(
                "--server.port=0",
                "--server.address=127.0.0.1",
                "--hce.memory.heaps.items.capacity=16MB",                  // full, so evicting, within a second or two of load
                "--logging.level.io.hce.memory.sample.LoadGenerator=warn")) { // its progress line a second; errors still show
            int port = context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
            queryWhileScraping(dashboard, targets, port, prometheus, dir);
        }
    }

    private static void queryWhileScraping(JsonNode dashboard, List<Target> targets, int port, Path prometheus, Path dir)
            throws Exception {
        int prometheusPort = freePort();
        Path log = dir.resolve("prometheus.log");
        Files.writeString(dir.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: hce-memory-sample
                    metrics_path: /actuator/prometheus
                    static_configs:
                      - targets: ['127.0.0.1:%d']
                """.formatted(port));
        Process process = new ProcessBuilder(prometheus.toString(),
                "--config.file=" + dir.resolve("prometheus.yml"),
                "--web.listen-address=127.0.0.1:" + prometheusPort,
                "--storage.tsdb.path=" + dir.resolve("data"))
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        HttpClients app = new HttpClients(port);
        try {
            Prometheus server = new Prometheus(prometheusPort, process, log);
            server.awaitReady();
            startLoad(app);
            awaitEveryMeterMoving(server, app, System.nanoTime() + TimeUnit.SECONDS.toNanos(MAX_WAIT_SECONDS));

            List<String> problems = new ArrayList<>();
            for (Target target : targets) {
                JsonNode result = server.query(target.expr());
                if (result.isEmpty()) {
                    problems.add(target + ": no series");
                }
                for (JsonNode series : result) {
                    if (series.path("value").path(1).asString().equals("NaN")) {
                        problems.add(target + ": NaN for " + series.path("metric"));
                    }
                }
            }
            for (String query : variableQueries(dashboard)) {
                Matcher labelValues = LABEL_VALUES.matcher(query);
                assertThat(labelValues.matches()).as("a variable query of the form label_values(metric, label): %s", query).isTrue();
                assertThat(server.labelValues(labelValues.group(2), labelValues.group(1))).as(query)
                        .contains("127.0.0.1:" + port);
            }
            assertThat(problems).as("dashboard queries evaluated with %s", VARIABLES).isEmpty();
        } finally {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            awaitLoadDone(app); // the workers use the heap, which closes with the context
        }
    }

    /** The dashboard as Grafana 10 imports it, and each panel target with its variables substituted. */
    private static List<Target> importableTargets(JsonNode dashboard) {
        assertThat(dashboard.path("uid").asString()).isEqualTo("hce-memory");
        assertThat(dashboard.path("title").asString()).isNotBlank();
        assertThat(dashboard.path("schemaVersion").asInt()).as("schemaVersion: Grafana 10.0's is 38").isBetween(36, 38);
        assertThat(dashboard.path("templating").path("list").valueStream()
                .filter(v -> v.path("type").asString().equals("datasource"))
                .map(v -> v.path("name").asString() + "=" + v.path("query").asString()))
                .containsExactly("datasource=prometheus");
        List<Target> targets = new ArrayList<>();
        for (JsonNode panel : panels(dashboard)) {
            String title = panel.path("title").asString();
            if (panel.path("type").asString().equals("row")) {
                continue;
            }
            assertThat(panel.path("datasource").path("uid").asString()).as(title).isEqualTo("${datasource}");
            assertThat(panel.path("targets")).as("%s has targets", title).isNotEmpty();
            for (JsonNode target : panel.path("targets")) {
                String refId = target.path("refId").asString();
                String expr = target.path("expr").asString();
                assertThat(target.path("datasource").path("uid").asString()).as("%s %s", title, refId).isEqualTo("${datasource}");
                Matcher range = RANGE.matcher(expr);
                while (range.find()) {
                    assertThat(range.group(1)).as("%s %s: a range is $__rate_interval, as Grafana users expect", title, refId)
                            .isEqualTo("$__rate_interval");
                }
                String substituted = expr;
                for (Map.Entry<String, String> variable : VARIABLES.entrySet()) {
                    substituted = substituted.replace(variable.getKey(), variable.getValue());
                }
                assertThat(substituted).as("%s %s: a variable this test does not know", title, refId).doesNotContain("$");
                targets.add(new Target(title, refId, substituted));
            }
        }
        assertThat(targets).as("panel targets").hasSizeGreaterThanOrEqualTo(10);
        return targets;
    }

    /** Panels, and the panels inside collapsed rows. */
    private static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> panels = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            panels.add(panel);
            panel.path("panels").forEach(panels::add);
        }
        return panels;
    }

    private static List<String> variableQueries(JsonNode dashboard) {
        return dashboard.path("templating").path("list").valueStream()
                .filter(v -> v.path("type").asString().equals("query"))
                .map(v -> v.path("query").isString() ? v.path("query").asString() : v.path("query").path("query").asString())
                .toList();
    }

    /**
     * Waits until Prometheus has a full rate window and sees every meter the load can move moving, also calling
     * the allocator exercise for the small buckets the load does not use. The heap's failures and the leaks
     * cannot move in the sample (too large a value is refused before it reaches the heap; leak detection is
     * off): their queries must still answer, with zeros.
     */
    private static void awaitEveryMeterMoving(Prometheus server, HttpClients app, long deadline) throws Exception {
        Map<String, String> moving = new LinkedHashMap<>();
        moving.put("a full rate window of scrapes", "count_over_time(hce_memory_reserved_bytes[" + RATE_INTERVAL + "]) >= 8");
        // Not the misses: warm caches stop missing, and a series at rate 0 is still an answer
        for (String counter : List.of("hce_memory_cache_allocations_total{result=\"hit\"}",
                "hce_memory_pool_allocations_total{result=\"hit\"}",
                "hce_memory_heap_evictions_total",
                "hce_memory_direct_allocations_total",
                "hce_memory_direct_frees_total")) {
            moving.put(counter + " increasing", "increase(" + counter + "[" + RATE_INTERVAL + "]) > 0");
        }
        List<String> waiting = new ArrayList<>(moving.keySet());
        while (true) {
            assertThat(app.send("POST", "/memory/exercise?blocks=2000").statusCode()).isEqualTo(200);
            if (!app.send("GET", "/load").body().contains("\"running\":true")) {
                startLoad(app); // a slow machine: the meters wait on the condition, not on the load's length
            }
            waiting.removeIf(name -> !server.query(moving.get(name)).isEmpty());
            if (waiting.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("under load, Prometheus never saw " + waiting);
            }
            Thread.sleep(500);
        }
    }

    private static void startLoad(HttpClients app) throws Exception {
        assertThat(app.send("POST", "/load?seconds=" + LOAD_SECONDS + "&threads=2").statusCode()).isEqualTo(202);
    }

    private static void awaitLoadDone(HttpClients app) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LOAD_SECONDS + 10);
        while (app.send("GET", "/load").body().contains("\"running\":true") && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private record Target(String panel, String refId, String expr) {
        @Override
        public String toString() {
            return "panel \"" + panel + "\" " + refId + " `" + expr.replace('\n', ' ') + "`";
        }
    }

    /** The child Prometheus's HTTP API. */
    private record Prometheus(int port, Process process, Path log) {

        void awaitReady() throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    fail("prometheus exited with " + process.exitValue() + ":\n" + Files.readString(log));
                }
                try {
                    if (get("/-/ready").statusCode() == 200) {
                        return;
                    }
                } catch (IOException notListeningYet) {
                    // polled again
                }
                Thread.sleep(100);
            }
            fail("prometheus not ready within 20 s:\n" + Files.readString(log));
        }

        /** @return the instant vector of a query evaluated now */
        JsonNode query(String expr) {
            return data("/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8), expr).path("result");
        }

        List<String> labelValues(String label, String metric) {
            return data("/api/v1/label/" + label + "/values?match%5B%5D=" + URLEncoder.encode(metric, StandardCharsets.UTF_8),
                    metric).valueStream().map(JsonNode::asString).toList();
        }

        private JsonNode data(String path, String what) {
            try {
                HttpResponse<String> response = get(path);
                JsonNode body = JSON.readTree(response.body());
                assertThat(body.path("status").asString()).as("%s: %s", what, response.body()).isEqualTo("success");
                return body.path("data");
            } catch (IOException e) {
                throw new IllegalStateException("prometheus did not answer " + path, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        private HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
