package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.testing.TestCertificates;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * forkd is for every language: the Node.js client in examples/node (plain @grpc/grpc-js and
 * @grpc/proto-loader from npm, installed here by `npm ci` from its lock file) spawns, watches and
 * joins a process against a real server.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class NodeInteropTest {

    private static RunningServer server;
    private static Path example;

    @BeforeAll
    static void start() throws Exception {
        example = repoRoot().resolve("examples/node");
        if (!Files.isDirectory(example.resolve("node_modules/@grpc/grpc-js"))) {
            // The project installs what it needs: the lock file pins the versions.
            Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund")
                    .directory(example.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(example.resolve("npm-ci.log").toFile())
                    .start();
            assertTrue(npm.waitFor(240, TimeUnit.SECONDS), "npm ci took too long");
            assertEquals(0, npm.exitValue(), () -> "npm ci failed: " + read(example.resolve("npm-ci.log")));
        }
        server = RunningServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void nodeClientSpawnsWatchesAndJoins() throws Exception {
        Path out = Files.createTempFile("node-client", ".json");
        Process node = new ProcessBuilder(List.of("node", "client.js", "unix:" + server.socket, "--",
                "sh", "-c", "echo hello from node; echo to stderr >&2; exit 7"))
                .directory(example.toFile())
                .redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        assertTrue(node.waitFor(60, TimeUnit.SECONDS), "the node client did not finish");
        String json = read(out);
        Files.delete(out);
        assertEquals(0, node.exitValue(), json);
        var result = com.google.gson.JsonParser.parseString(json.strip()).getAsJsonObject();
        assertEquals(7, result.get("exit_code").getAsInt(), json);
        assertEquals("PROCESS_STATE_EXITED", result.get("state").getAsString());
        assertTrue(result.get("pid").getAsInt() > 0);
        assertEquals("hello from node\n", result.get("stdout").getAsString());
        assertEquals("to stderr\n", result.get("stderr").getAsString());
        var states = result.get("states").getAsJsonArray().toString();
        assertTrue(states.endsWith("\"PROCESS_STATE_EXITED\"]"), states);
    }

    @Test
    void nodeClientSendsItsTokenOverTlsAndOverLoopbackPlaintext() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkn");
        try {
            TestCertificates certs = TestCertificates.make(dir);
            Path token = dir.resolve("token");
            String tokenText = "node-token-" + System.nanoTime();
            Files.writeString(token, tokenText);
            Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            try (RunningServer tls = RunningServer.start(d -> List.of("--listen", "127.0.0.1:0",
                    "--tls-cert", certs.serverCert().toString(), "--tls-key", certs.serverKey().toString(),
                    "--token-file", token.toString()), java.util.Map.of(), c -> c)) {
                String json = runNode(tls.address(), java.util.Map.of("FORKD_TOKEN", tokenText,
                        "FORKD_TLS_CA", certs.ca().toString()));
                assertTrue(json.contains("\"stdout\":\"hello from node\\n\""), json);
            }
            // Before: grpc-js refused call credentials on a plaintext channel ("Cannot compose insecure credentials").
            try (RunningServer plain = RunningServer.startTcp(token)) {
                String json = runNode(plain.address(), java.util.Map.of("FORKD_TOKEN", tokenText));
                assertTrue(json.contains("\"exit_code\":7"), json);
            }
        } finally {
            RunningServer.deleteTree(dir);
        }
    }

    private static String runNode(String address, java.util.Map<String, String> env) throws Exception {
        Path out = Files.createTempFile("node-client", ".json");
        try {
            ProcessBuilder pb = new ProcessBuilder(List.of("node", "client.js", address, "--",
                    "sh", "-c", "echo hello from node; exit 7"))
                    .directory(example.toFile())
                    .redirectOutput(out.toFile())
                    .redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().keySet().removeIf(k -> k.startsWith("FORKD_"));
            pb.environment().putAll(env);
            Process node = pb.start();
            assertTrue(node.waitFor(60, TimeUnit.SECONDS), "the node client did not finish");
            String json = read(out);
            assertEquals(0, node.exitValue(), json);
            return json;
        } finally {
            Files.delete(out);
        }
    }

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("mvnw"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find the repository root from " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
