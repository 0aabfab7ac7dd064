package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.SpawnRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** {@code forkd events} and {@code forkd serve --metrics-listen} as a user types them, against a real server. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EventsCliTest {

    private static final Duration LIMIT = Duration.ofSeconds(30);
    private RunningServer server;
    private Cli cli;
    private ForkdClient client;

    @BeforeAll
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void startServer() throws Exception {
        server = RunningServer.start(dir -> List.of("--listen", "unix:" + dir.resolve("s.sock"),
                "--metrics-listen", "127.0.0.1:0"), java.util.Map.of(), c -> c);
        cli = Cli.against(server);
        client = ForkdClient.connect(new ListenAddress.Unix(server.socket), Optional.empty(), Optional.empty());
    }

    @AfterAll
    void stopServer() throws Exception {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    /**
     * Runs {@code forkd events ARGS} (which must end by itself, with --count) while processes labelled
     * {@code suite=LABEL} keep being spawned, so it sees some whenever its watch begins.
     */
    private Cli.Result eventsWhileSpawning(String label, String... args) throws Exception {
        CompletableFuture<Cli.Result> events = CompletableFuture.supplyAsync(() -> cli.run(args));
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (!events.isDone()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("forkd events did not end within " + LIMIT);
            }
            var p = client.processes().spawn(SpawnRequest.newBuilder().addArgv("true").putLabels("suite", label).build())
                    .getProcess();
            client.processes().join(JoinProcessRequest.newBuilder().setName(p.getId()).build());
        }
        return events.get();
    }

    @Test
    void jsonLinesCarryEachMatchingEventAndCountEndsTheStream() throws Exception {
        Cli.Result r = eventsWhileSpawning("cli-json", "events", "--json", "--count", "2",
                "--filter", "kind=process-exited,label=suite=cli-json");
        assertEquals(0, r.code(), r::toString);
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size(), r::toString);
        for (String line : lines) {
            assertTrue(line.startsWith("{") && line.contains("\"EVENT_KIND_PROCESS_EXITED\"")
                    && line.contains("\"suite\":\"cli-json\"") && line.contains("\"exit_code\":\"0\""), line);
        }
    }

    @Test
    void textLinesReadLikeDockerEvents() throws Exception {
        Cli.Result r = eventsWhileSpawning("cli-text", "events", "--count", "1",
                "--filter", "label=suite=cli-text", "--filter", "kind=process-started");
        assertEquals(0, r.code(), r::toString);
        assertTrue(Pattern.compile("^\\S+Z process-started p-\\d+ \\(agent=a-\\d+, duration=[0-9.E-]+s, label\\.suite=cli-text,"
                + " pid=\\d+, run=0\\)\\n$").matcher(r.out()).matches(), r::toString);
    }

    @Test
    void aBadFilterIsAUsageError() {
        Cli.Result r = cli.run("events", "--filter", "kind=nope");
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("no such kind"), r::toString);
        assertEquals(2, cli.run("events", "--filter", "colour=red").code());
        assertEquals(2, cli.run("events", "--filter", "label=novalue").code());
    }

    @Test
    void serveRefusesMetricsOnANetworkAddressWithoutTls() {
        Cli.Result r = cli.run("serve", "--listen", "unix:" + server.dir.resolve("other.sock"),
                "--metrics-listen", "0.0.0.0:9464");
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("not a loopback address"), r::toString);
    }

    @Test
    void theMetricsEndpointTheServerLogsServesPrometheusText() throws Exception {
        Matcher m = Pattern.compile("metrics on (http://127\\.0\\.0\\.1:\\d+/metrics)").matcher(server.stderr());
        assertTrue(m.find(), server::stderr);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(m.group(1)))
                .timeout(LIMIT).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("# TYPE forkd_process_spawns_total counter"), r.body());
        assertTrue(r.body().contains("forkd_agents 1"), r.body());
    }
}
