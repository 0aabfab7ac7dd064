package dev.forkd.client.direct;

import dev.forkd.client.RetryPolicy;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * One unary call of a {@link DirectChannel}: the request framed as gRPC over HTTP/2 (headers,
 * a 5-byte-prefixed message), the answer's status, message and trailers read back, failures turned
 * into the statuses grpc-java's own transport gives, and repeats on UNAVAILABLE as {@link RetryPolicy}
 * says. The exchange runs in {@link #halfClose}, on the caller's thread; the listener is called
 * on the call's executor when it has one (a blocking stub's), else at once.
 */
final class DirectCall<Q, A> extends ClientCall<Q, A> {

    /** Lowest-first units of grpc-timeout (gRPC over HTTP/2: at most 8 digits). */
    private static final String TIMEOUT_UNITS = "numSMH";
    private static final long[] TIMEOUT_UNIT_NANOS = {1L, 1_000L, 1_000_000L, 1_000_000_000L, 60_000_000_000L,
            3_600_000_000_000L};
    private static final long NO_DEADLINE_NANOS = TimeUnit.DAYS.toNanos(365);

    private final DirectChannel channel;
    private final MethodDescriptor<Q, A> method;
    private final CallOptions options;
    private final RandomGenerator random;
    private Listener<A> listener;
    private Metadata headers;
    private byte[] message;
    private boolean finished;
    /** The time the call was given, from its deadline. */
    private long timeoutNanos;

    DirectCall(DirectChannel channel, MethodDescriptor<Q, A> method, CallOptions options, RandomGenerator random) {
        this.channel = channel;
        this.method = method;
        this.options = options;
        this.random = random;
    }

    @Override
    public void start(Listener<A> listener, Metadata headers) {
        this.listener = listener;
        this.headers = headers;
    }

    @Override
    public void request(int numMessages) {
        // The one answer is delivered when it is whole.
    }

    @Override
    public void sendMessage(Q request) {
        try (InputStream in = method.streamRequest(request)) {
            byte[] bytes = in.readAllBytes();
            message = new byte[5 + bytes.length];
            message[1] = (byte) (bytes.length >>> 24);
            message[2] = (byte) (bytes.length >>> 16);
            message[3] = (byte) (bytes.length >>> 8);
            message[4] = (byte) bytes.length;
            System.arraycopy(bytes, 0, message, 5, bytes.length);
        } catch (IOException e) {
            finish(Status.INTERNAL.withDescription("cannot serialise the request").withCause(e), new Metadata());
        }
    }

    @Override
    public void halfClose() {
        if (finished) {
            return;
        }
        if (message == null) {
            finish(Status.INTERNAL.withDescription("a unary call without its request"), new Metadata());
            return;
        }
        Deadline deadline = options.getDeadline();
        timeoutNanos = deadline == null ? NO_DEADLINE_NANOS : deadline.timeRemaining(TimeUnit.NANOSECONDS);
        long deadlineNanos = System.nanoTime() + timeoutNanos;
        long backoffBoundNanos = RetryPolicy.INITIAL_BACKOFF.toNanos();
        boolean repeats = RetryPolicy.repeats(method.getFullMethodName());
        boolean transparentRetryLeft = true;
        for (int attempt = 1; ; attempt++) {
            Outcome<A> outcome = attempt(deadlineNanos);
            if (outcome.transparentlyRetriable() && transparentRetryLeft) {
                transparentRetryLeft = false; // the server never saw it: once more at once, as grpc does
                attempt--;
                continue;
            }
            boolean retry = repeats && outcome.status().getCode() == Status.Code.UNAVAILABLE
                    && !outcome.committed() && attempt < RetryPolicy.MAX_ATTEMPTS;
            long waitNanos = retry ? random.nextLong(backoffBoundNanos + 1) : 0;
            if (!retry || System.nanoTime() + waitNanos >= deadlineNanos) {
                if (retry) { // the back-off outlasts the deadline: the call ends when it would have
                    pause(deadlineNanos - System.nanoTime());
                    outcome = new Outcome<>(deadlineExceeded(), new Metadata(), null, true, false);
                }
                deliver(outcome);
                return;
            }
            pause(waitNanos);
            backoffBoundNanos = Math.min((long) (backoffBoundNanos * RetryPolicy.MULTIPLIER),
                    RetryPolicy.MAX_BACKOFF.toNanos());
        }
    }

    private static void pause(long nanos) {
        if (nanos > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(nanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * What one attempt came to.
     *
     * @param committed the server began an answer (a repeat could do the work twice: gRPC does not repeat then)
     * @param transparentlyRetriable the server never processed the request (GOAWAY past it, REFUSED_STREAM)
     */
    private record Outcome<A>(Status status, Metadata trailers, A answer, boolean committed,
            boolean transparentlyRetriable) {}

    private Outcome<A> attempt(long deadlineNanos) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            return new Outcome<>(deadlineExceeded(), new Metadata(), null, false, false);
        }
        H2Connection.Response response;
        try {
            response = channel.exchange(requestHeaders(left), message, 5 + DirectChannel.MAX_MESSAGE_BYTES,
                    deadlineNanos);
        } catch (ExchangeFailed e) {
            return failed(e.reason());
        }
        return answered(response);
    }

    private List<Header> requestHeaders(long timeoutNanos) {
        List<Header> h = new ArrayList<>(12);
        h.add(new Header(":method", "POST"));
        h.add(new Header(":scheme", "http"));
        h.add(new Header(":path", "/" + method.getFullMethodName()));
        h.add(new Header(":authority", channel.authority()));
        h.add(new Header("content-type", "application/grpc"));
        h.add(new Header("te", "trailers"));
        h.add(new Header("grpc-timeout", timeout(timeoutNanos)));
        for (String name : headers.keys()) {
            if (name.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
                for (byte[] value : headers.getAll(Metadata.Key.of(name, Metadata.BINARY_BYTE_MARSHALLER))) {
                    h.add(new Header(name, Base64.getEncoder().withoutPadding().encodeToString(value)));
                }
            } else {
                for (String value : headers.getAll(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER))) {
                    h.add(new Header(name, value));
                }
            }
        }
        return h;
    }

    /** A grpc-timeout value: the finest unit that keeps it to 8 digits. */
    static String timeout(long nanos) {
        for (int i = 0; i < TIMEOUT_UNIT_NANOS.length; i++) {
            long value = (nanos + TIMEOUT_UNIT_NANOS[i] - 1) / TIMEOUT_UNIT_NANOS[i];
            if (value < 100_000_000L) {
                return value + String.valueOf(TIMEOUT_UNITS.charAt(i));
            }
        }
        return "99999999H";
    }

    /** A whole answer: its status, from the trailers (or the headers of a trailers-only answer). */
    private Outcome<A> answered(H2Connection.Response response) {
        boolean trailersOnly = response.trailers().isEmpty();
        List<Header> statusFrom = trailersOnly ? response.headers() : response.trailers();
        String httpStatus = value(response.headers(), ":status");
        Metadata trailers = metadata(statusFrom);
        if (!"200".equals(httpStatus)) {
            return new Outcome<>(GrpcStatuses.ofHttpStatus(httpStatus), trailers, null, !trailersOnly, false);
        }
        String code = value(statusFrom, "grpc-status");
        if (code == null) {
            return new Outcome<>(Status.UNKNOWN.withDescription("missing GRPC status in response"), trailers, null,
                    !trailersOnly, false);
        }
        Status status = GrpcStatuses.of(code, value(statusFrom, "grpc-message"));
        if (!status.isOk()) {
            return new Outcome<>(status, trailers, null, !trailersOnly, false);
        }
        byte[] body = response.body();
        if (body.length < 5 || body[0] != 0) {
            return new Outcome<>(Status.INTERNAL.withDescription(body.length < 5 ? "No value received for unary call"
                    : "Can't decode compressed gRPC message as compression not configured"), trailers, null, true, false);
        }
        int length = length(body);
        if (length != body.length - 5) {
            return new Outcome<>(Status.INTERNAL.withDescription("a unary answer of other than one message"),
                    trailers, null, true, false);
        }
        try {
            A answer = method.parseResponse(new ByteArrayInputStream(body, 5, length));
            return new Outcome<>(Status.OK, trailers, answer, true, false);
        } catch (RuntimeException e) {
            return new Outcome<>(Status.INTERNAL.withDescription("Failed to read message.").withCause(e), trailers,
                    null, true, false);
        }
    }

    private static int length(byte[] prefixed) {
        return (prefixed[1] & 0xff) << 24 | (prefixed[2] & 0xff) << 16 | (prefixed[3] & 0xff) << 8 | (prefixed[4] & 0xff);
    }

    private Outcome<A> failed(ExchangeFailed.Reason reason) {
        return switch (reason) {
            case ExchangeFailed.TimedOut t -> new Outcome<>(deadlineExceeded(), new Metadata(), null, false, false);
            case ExchangeFailed.TooLarge big -> new Outcome<>(Status.RESOURCE_EXHAUSTED.withDescription(String.format(
                    Locale.ROOT, "gRPC message exceeds maximum size %d: %d", DirectChannel.MAX_MESSAGE_BYTES,
                    length(big.start()))), new Metadata(), null, true, false);
            case ExchangeFailed.Reset r -> new Outcome<>(GrpcStatuses.ofReset(r.code()),
                    new Metadata(), null, false, r.code() == GrpcStatuses.REFUSED_STREAM);
            case ExchangeFailed.GoingAway g -> new Outcome<>(GrpcStatuses.ofGoAway(g.code(), g.debug()),
                    new Metadata(), null, false, g.unprocessed());
            default -> new Outcome<>(GrpcStatuses.ofTransport(reason), new Metadata(), null, false, false);
        };
    }

    /** As grpc-java words it: the time the call was given. */
    private Status deadlineExceeded() {
        return Status.DEADLINE_EXCEEDED.withDescription(String.format(Locale.ROOT,
                "deadline exceeded after %.9fs", 1e-9 * timeoutNanos));
    }

    /** Headers as gRPC metadata, without HTTP/2's pseudo-headers and the status gRPC reads itself. */
    private static Metadata metadata(List<Header> fields) {
        Metadata md = new Metadata();
        for (Header f : fields) {
            String name = f.name();
            if (name.startsWith(":") || name.equals("grpc-status") || name.equals("grpc-message")) {
                continue;
            }
            try {
                if (name.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
                    md.put(Metadata.Key.of(name, Metadata.BINARY_BYTE_MARSHALLER), Base64.getDecoder().decode(f.value()));
                } else {
                    md.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), f.value());
                }
            } catch (IllegalArgumentException malformed) {
                // A name gRPC cannot hold, or bad base64: dropped, as grpc-java drops what it cannot parse.
            }
        }
        return md;
    }

    private static String value(List<Header> fields, String name) {
        for (Header f : fields) {
            if (f.name().equals(name)) {
                return f.value();
            }
        }
        return null;
    }

    private void deliver(Outcome<A> outcome) {
        if (outcome.status().isOk()) {
            run(() -> {
                listener.onHeaders(new Metadata());
                listener.onMessage(outcome.answer());
            });
        }
        finish(outcome.status(), outcome.trailers());
    }

    private void finish(Status status, Metadata trailers) {
        if (finished) {
            return;
        }
        finished = true;
        run(() -> listener.onClose(status, trailers));
    }

    private void run(Runnable r) {
        Executor executor = options.getExecutor();
        if (executor == null) {
            r.run();
        } else {
            executor.execute(r);
        }
    }

    @Override
    public void cancel(String message, Throwable cause) {
        if (listener == null) {
            finished = true; // not started: there is no one to tell
            return;
        }
        Status status = Status.CANCELLED;
        if (message != null) {
            status = status.withDescription(message);
        }
        if (cause != null) {
            status = status.withCause(cause);
        }
        finish(status, new Metadata());
    }

    @Override
    public boolean isReady() {
        return !finished;
    }
}
