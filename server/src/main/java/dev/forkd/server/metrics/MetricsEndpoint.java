package dev.forkd.server.metrics;

import com.sun.net.httpserver.HttpsConfigurator;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.TcpSecurity;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The HTTP endpoint Prometheus scrapes ({@code forkd serve --metrics-listen HOST:PORT}), following
 * the server's security: on a loopback address it serves plain HTTP (HTTPS if the server has TLS);
 * any other address is refused unless the server has TLS, and then it serves HTTPS with the
 * server's own certificate. It only ever shows metrics.
 */
public final class MetricsEndpoint implements AutoCloseable {

    private final HTTPServer server;

    private MetricsEndpoint(HTTPServer server) {
        this.server = server;
    }

    /**
     * Checks the address against the server's security without starting anything.
     *
     * @throws IllegalArgumentException for a non-loopback address when the server has no TLS
     */
    public static void check(ListenAddress.Tcp address, TcpSecurity security) {
        if (!TcpSecurity.isLoopback(address.host()) && !(security instanceof TcpSecurity.Tls)) {
            throw new IllegalArgumentException("--metrics-listen " + address + " is not a loopback address:"
                    + " the metrics endpoint serves a network only over HTTPS, with the server's TLS certificate"
                    + " (give --tls-cert and --tls-key), or use 127.0.0.1");
        }
    }

    /** Starts serving {@code registry} at {@code address} ({@code /metrics}; port 0 picks one). */
    public static MetricsEndpoint start(ListenAddress.Tcp address, TcpSecurity security, PrometheusRegistry registry)
            throws IOException {
        check(address, security);
        // One thread: scrapes are rare and small; the server shuts it down on close.
        ExecutorService executor = Executors.newFixedThreadPool(1,
                Thread.ofPlatform().name("forkd-metrics").daemon().factory());
        HTTPServer.Builder builder = HTTPServer.builder().hostname(address.host()).port(address.port())
                .registry(registry).executorService(executor);
        if (security instanceof TcpSecurity.Tls tls) {
            builder.httpsConfigurator(new HttpsConfigurator(PemTls.serverContext(tls.certChain(), tls.privateKey())));
        }
        try {
            return new MetricsEndpoint(builder.buildAndStart());
        } catch (IOException e) {
            executor.shutdownNow();
            throw new IOException("cannot serve metrics on " + address + ": " + e.getMessage(), e);
        }
    }

    /** The port it listens on (the real one when 0 was asked). */
    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
    }
}
