package io.hce.memory.sample;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Requests to the app under test, over real HTTP. */
final class HttpClients {

    private static final Pattern COUNT = Pattern.compile("\"statistic\":\"(?:COUNT|VALUE)\",\"value\":([0-9.E]+)");

    private final HttpClient client = HttpClient.newHttpClient();
    private final int port;

    HttpClients(int port) {
        this.port = port;
    }

    HttpResponse<String> send(String method, String path) throws Exception {
        return client.send(request(path).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> put(String path, byte[] body) throws Exception {
        return put(path, body, "application/octet-stream");
    }

    HttpResponse<String> put(String path, byte[] body, String contentType) throws Exception {
        return client.send(request(path).PUT(HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", contentType).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<byte[]> getBytes(String path) throws Exception {
        return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** @return the first COUNT or VALUE measurement of an {@code /actuator/metrics/...} answer */
    double metric(String path) throws Exception {
        HttpResponse<String> response = send("GET", path);
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        Matcher matcher = COUNT.matcher(response.body());
        assertThat(matcher.find()).as(response.body()).isTrue();
        return Double.parseDouble(matcher.group(1));
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://localhost:" + port + path));
    }
}
