package dev.forkd.client.direct;

import java.io.IOException;
import java.net.SocketAddress;

/** Why an HTTP/2 request got no complete answer; {@link DirectCall} turns each into a gRPC status. */
final class ExchangeFailed extends Exception {

    /** The alternatives, as the HTTP/2 layer sees them. */
    sealed interface Reason {}

    /** The connection to {@code address} could not be made. */
    record Unreachable(SocketAddress address, IOException cause) implements Reason {}

    /** The connection failed or was closed before the answer was whole. */
    record Broken(IOException cause) implements Reason {}

    /** The server reset the stream with this HTTP/2 error code. */
    record Reset(int code) implements Reason {}

    /**
     * The server is going away; {@code unprocessed} when it says it never saw this stream (so the
     * request can be sent again elsewhere without harm).
     */
    record GoingAway(int code, String debug, boolean unprocessed) implements Reason {}

    /** The deadline passed first; the stream was cancelled. */
    record TimedOut() implements Reason {}

    /** The server broke the protocol (a connection error we reported to it with this code). */
    record ProtocolError(int code, String message) implements Reason {}

    /** The answer's body passed the bound the caller set; {@code start} is its first bytes. */
    record TooLarge(byte[] start) implements Reason {}

    private final Reason reason;

    ExchangeFailed(Reason reason) {
        super(reason.toString(), null, false, false);
        this.reason = reason;
    }

    Reason reason() {
        return reason;
    }
}
