package dev.forkd.client.direct;

import dev.forkd.client.RetryPolicy;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;
import java.net.SocketAddress;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * A gRPC {@link Channel} for unary calls made on the caller's thread over a plain HTTP/2 cleartext
 * connection of its own ({@link H2Connection}), without netty or grpc-core: what a one-shot
 * command needs, at a fraction of the start-up cost. The connection is dialled at the first call and
 * kept for the next ones; calls take turns on it.
 *
 * <p>It serves blocking stubs: a call's whole exchange happens inside {@code halfClose()}. Calls that
 * change nothing ({@link RetryPolicy#repeats}) are repeated on UNAVAILABLE with the policy's
 * back-off, as the grpc channel does. Streaming calls are refused: use the grpc channel for them.
 */
public final class DirectChannel extends Channel implements AutoCloseable {

    /** What one answer may hold: grpc-java's default bound of an inbound message. */
    public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
    /** Flow-control window we give the server, per stream and for the connection. */
    static final int RECEIVE_WINDOW = 1024 * 1024;
    /** The bound of one header or trailer block (grpc-java's client takes 8 KiB; details may need more). */
    static final int MAX_HEADER_LIST_BYTES = 64 * 1024;

    private final SocketAddress address;
    private final String authority;
    private final int receiveWindow;
    private final RandomGenerator random;
    private final Object lock = new Object();
    // Guarded by lock: one exchange at a time.
    private H2Connection connection;
    private boolean closed;

    /**
     * @param address a {@code UnixDomainSocketAddress} or an {@code InetSocketAddress}
     * @param authority the {@code :authority} sent
     */
    public DirectChannel(SocketAddress address, String authority) {
        this(address, authority, RECEIVE_WINDOW, new SplittableRandom());
    }

    /** With a receive window of one's choosing (tests make it small so answers cross it). */
    DirectChannel(SocketAddress address, String authority, int receiveWindow, RandomGenerator random) {
        this.address = address;
        this.authority = authority;
        this.receiveWindow = receiveWindow;
        this.random = random;
    }

    @Override
    public <Q, A> ClientCall<Q, A> newCall(MethodDescriptor<Q, A> method, CallOptions options) {
        if (method.getType() != MethodDescriptor.MethodType.UNARY) {
            throw new IllegalArgumentException(method.getFullMethodName() + " is not unary: use the grpc channel");
        }
        return new DirectCall<>(this, method, options, random);
    }

    @Override
    public String authority() {
        return authority;
    }

    /** One HTTP/2 exchange on the kept connection, dialling a new one when there is none usable. */
    H2Connection.Response exchange(List<Header> headers, byte[] body, int maxBody, long deadlineNanos)
            throws ExchangeFailed {
        synchronized (lock) {
            if (closed) {
                throw new ExchangeFailed(new ExchangeFailed.Unreachable(address,
                        new java.io.IOException("the client is closed")));
            }
            if (connection == null || !connection.usable()) {
                if (connection != null) {
                    connection.close();
                }
                connection = null;
                connection = H2Connection.open(address, receiveWindow, MAX_HEADER_LIST_BYTES, deadlineNanos);
            }
            try {
                return connection.exchange(headers, body, maxBody, deadlineNanos);
            } finally {
                if (!connection.usable()) {
                    connection.close();
                    connection = null;
                }
            }
        }
    }

    /** Closes the connection; later calls fail UNAVAILABLE. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (connection != null) {
                connection.close();
                connection = null;
            }
        }
    }
}
