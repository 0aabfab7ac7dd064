package dev.forkd.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.TcpSecurity;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metrics endpoint follows the server's security: loopback by default, HTTPS with its certificate. */
class MetricsEndpointTest {

    @TempDir
    Path dir;

    @Test
    void aNetworkAddressIsRefusedWithoutTlsAndLoopbackIsAllowed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MetricsEndpoint.check(new ListenAddress.Tcp("0.0.0.0", 9464), new TcpSecurity.Unset()));
        assertTrue(e.getMessage().contains("--tls-cert"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> MetricsEndpoint.check(new ListenAddress.Tcp("10.1.2.3", 9464), new TcpSecurity.InsecurePlaintext()));
        MetricsEndpoint.check(new ListenAddress.Tcp("127.0.0.1", 9464), new TcpSecurity.Unset());
        MetricsEndpoint.check(new ListenAddress.Tcp("::1", 9464), new TcpSecurity.Unset());
        MetricsEndpoint.check(new ListenAddress.Tcp("0.0.0.0", 9464),
                new TcpSecurity.Tls(dir.resolve("c.pem"), dir.resolve("k.pem"), Optional.empty()));
    }

    @Test
    void withTlsItServesHttpsWithTheServersOwnCertificate() throws Exception {
        Path cert = dir.resolve("server.pem");
        Path key = dir.resolve("server.key");
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
                .redirectErrorStream(true).start();
        String log = new String(openssl.getInputStream().readAllBytes());
        assertTrue(openssl.waitFor(60, TimeUnit.SECONDS) && openssl.exitValue() == 0, log);

        PrometheusRegistry registry = new PrometheusRegistry();
        Counter.builder().name("forkd_test_total").help("a test counter").register(registry).inc();
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(new ListenAddress.Tcp("127.0.0.1", 0),
                new TcpSecurity.Tls(cert, key, Optional.empty()), registry)) {
            HttpClient https = HttpClient.newBuilder().sslContext(trusting(cert)).build();
            HttpResponse<String> r = https.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + endpoint.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("forkd_test_total 1.0"), r.body());
            // Plain HTTP gets no metrics from a TLS endpoint.
            assertThrows(IOException.class, () -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
    }

    private static SSLContext trusting(Path cert) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(cert)) {
            trust.setCertificateEntry("forkd", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
