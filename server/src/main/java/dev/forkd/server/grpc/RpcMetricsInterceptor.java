package dev.forkd.server.grpc;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts gRPC server calls by service, method and status code into the server's Prometheus
 * registry, with the names of the widely used go-grpc-prometheus convention
 * ({@code grpc_server_started_total}, {@code grpc_server_handled_total},
 * {@code grpc_server_handling_seconds}). Label values are bounded: methods are the ones the server
 * registers (an unknown method never reaches an interceptor), codes are gRPC's 17.
 *
 * <p>Chosen over grpc-java's OpenTelemetry module: that needs the OpenTelemetry SDK and its
 * Prometheus bridge beside the Prometheus client, a second registry and exporter for the same
 * endpoint; one interceptor on the one registry does the same job.
 */
public final class RpcMetricsInterceptor implements ServerInterceptor {

    private final Counter started;
    private final Counter handled;
    private final Histogram seconds;

    public RpcMetricsInterceptor(PrometheusRegistry registry) {
        started = Counter.builder().name("grpc_server_started_total").help("gRPC calls started on the server")
                .labelNames("grpc_service", "grpc_method", "grpc_type").register(registry);
        handled = Counter.builder().name("grpc_server_handled_total")
                .help("gRPC calls completed on the server, by status code")
                .labelNames("grpc_service", "grpc_method", "grpc_type", "grpc_code").register(registry);
        seconds = Histogram.builder().name("grpc_server_handling_seconds")
                .help("Time from a call's start to its status (streams: their whole life)")
                .classicOnly().classicUpperBounds(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300)
                .labelNames("grpc_service", "grpc_method", "grpc_type").register(registry);
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
            ServerCallHandler<Q, A> next) {
        MethodDescriptor<Q, A> method = call.getMethodDescriptor();
        String service = String.valueOf(method.getServiceName());
        String name = String.valueOf(method.getBareMethodName());
        String type = type(method.getType());
        started.labelValues(service, name, type).inc();
        long begin = System.nanoTime();
        AtomicBoolean counted = new AtomicBoolean();
        ServerCall.Listener<Q> listener = next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                count(counted, service, name, type, status.getCode(), begin);
                super.close(status, trailers);
            }
        }, headers);
        // A call the client cancels is never closed by the server: counted here as CANCELLED.
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onCancel() {
                count(counted, service, name, type, Status.Code.CANCELLED, begin);
                super.onCancel();
            }
        };
    }

    private void count(AtomicBoolean counted, String service, String name, String type, Status.Code code, long begin) {
        if (counted.compareAndSet(false, true)) {
            handled.labelValues(service, name, type, code.name()).inc();
            seconds.labelValues(service, name, type).observe((System.nanoTime() - begin) / 1e9);
        }
    }

    private static String type(MethodDescriptor.MethodType t) {
        return switch (t) {
            case UNARY -> "unary";
            case CLIENT_STREAMING -> "client_stream";
            case SERVER_STREAMING -> "server_stream";
            case BIDI_STREAMING -> "bidi_stream";
            case UNKNOWN -> "unknown";
        };
    }
}
