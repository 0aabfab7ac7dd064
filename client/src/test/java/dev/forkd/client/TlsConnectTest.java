package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.testing.TestCertificates;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
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
            TestCertificates certs = TestCertificates.make(dir);
            try (TestServer server = TestServer.startMtls(certs.serverCert(), certs.serverKey(), certs.ca())) {
                Map<String, String> env = new HashMap<>(server.env());
                env.put("FORKD_TLS_CA", certs.ca().toString());
                env.put("FORKD_TLS_CERT", certs.clientCert().toString());
                env.put("FORKD_TLS_KEY", certs.clientKey().toString());
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
}
