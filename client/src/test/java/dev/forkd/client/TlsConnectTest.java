package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** mTLS as a user sets it up: FORKD_TLS_CA, FORKD_TLS_CERT and FORKD_TLS_KEY, certificates made by openssl. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsConnectTest {

    @Test
    void connectsWithTheClientCertificateFromTheEnvironment() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkt");
        try {
            Files.writeString(dir.resolve("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
            Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
            openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca");
            for (String name : List.of("server", "client")) {
                openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name);
                openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "2",
                        "-extfile", name + ".ext", "-out", name + ".pem");
            }
            try (TestServer server = TestServer.startMtls(dir.resolve("server.pem"), dir.resolve("server.key"),
                    dir.resolve("ca.pem"))) {
                Map<String, String> env = new HashMap<>(server.env());
                env.put("FORKD_TLS_CA", dir.resolve("ca.pem").toString());
                env.put("FORKD_TLS_CERT", dir.resolve("client.pem").toString());
                env.put("FORKD_TLS_KEY", dir.resolve("client.key").toString());
                try (Forkd forkd = Forkd.connect(ConnectOptions.fromEnvironment(env))) {
                    assertEquals(1, forkd.value(TestServer.unique("v")).incrementAndGet());
                }
                // Without a client certificate the server does not let the call through.
                env.remove("FORKD_TLS_CERT");
                env.remove("FORKD_TLS_KEY");
                ForkdException e = assertThrows(ForkdException.class, () -> Forkd.connect(ConnectOptions.fromEnvironment(env)
                        .withCallTimeout(java.time.Duration.ofSeconds(10))));
                assertTrue(e.code() == Status.Code.UNAVAILABLE || e.code() == Status.Code.UNAUTHENTICATED, e.toString());
            }
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }
}
