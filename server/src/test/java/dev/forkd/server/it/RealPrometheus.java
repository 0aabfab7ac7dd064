package dev.forkd.server.it;

import java.io.IOException;
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
import java.util.Comparator;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's real {@code prometheus} (the package CI installs), scraping one target every second,
 * with its storage in a temporary directory and its web API on a free loopback port.
 */
final class RealPrometheus implements AutoCloseable {

    static final Path BINARY = Path.of("/usr/bin/prometheus");
    /** The value of an instant-vector query with one series: {@code "value":[<time>,"<value>"]}. */
    private static final Pattern VALUE = Pattern.compile("\"value\":\\[[0-9.e+]+,\"([^\"]+)\"\\]");

    private final Path dir;
    private final Process process;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    RealPrometheus(int targetPort) throws IOException {
        if (!Files.isExecutable(BINARY)) {
            throw new AssertionError(BINARY + " is missing: install Debian's prometheus package (apt-get install prometheus)");
        }
        dir = Files.createTempDirectory(Path.of("/tmp"), "forkd-prom-");
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: forkd
                    static_configs:
                      - targets: ['127.0.0.1:%d']
                """.formatted(targetPort));
        process = new ProcessBuilder(BINARY.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
    }

    /** The single value {@code query} has now, or empty (no series yet, or Prometheus not up yet). */
    OptionalDouble query(String query) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8)))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            Matcher m = VALUE.matcher(r.body());
            return r.statusCode() == 200 && m.find() ? OptionalDouble.of(Double.parseDouble(m.group(1)))
                    : OptionalDouble.empty();
        } catch (IOException e) {
            return OptionalDouble.empty(); // still starting
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Waits until {@code query}'s value satisfies {@code condition}: Prometheus has no way to push
     * a change, so its API is asked until the deadline.
     */
    double await(String query, java.util.function.DoublePredicate condition, Duration limit) {
        double[] last = {Double.NaN};
        Eventually.await(limit, () -> {
            OptionalDouble v = query(query);
            v.ifPresent(x -> last[0] = x);
            return v.isPresent() && condition.test(v.getAsDouble());
        }, () -> query + " stayed at " + last[0] + log());
        return last[0];
    }

    private String log() {
        try {
            return "; prometheus log:\n" + Files.readString(dir.resolve("prometheus.log"));
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
