package dev.forkd.client.direct;

import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The gRPC statuses an answer or a failed exchange stands for, worded as grpc-java's own transport
 * words them, so that a command prints the same whichever transport carried its call.
 */
final class GrpcStatuses {

    static final int REFUSED_STREAM = 0x7;

    private GrpcStatuses() {}

    /** From {@code grpc-status} and the percent-encoded {@code grpc-message}. */
    static Status of(String code, String message) {
        Status status;
        try {
            status = Status.fromCodeValue(Integer.parseInt(code.strip()));
        } catch (NumberFormatException e) {
            status = Status.UNKNOWN.withDescription("Unknown code " + code);
        }
        return message == null ? status : status.withDescription(percentDecoded(message));
    }

    /** {@code %XX} sequences decoded, then read as UTF-8; a malformed sequence is kept as it is. */
    static String percentDecoded(String value) {
        if (value.indexOf('%') < 0) {
            return value;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%' && i + 2 < value.length() && hex(value.charAt(i + 1)) >= 0 && hex(value.charAt(i + 2)) >= 0) {
                out.write(hex(value.charAt(i + 1)) << 4 | hex(value.charAt(i + 2)));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }

    /** An answer whose HTTP status is not 200 (gRPC over HTTP/2, "HTTP to gRPC status code mapping"). */
    static Status ofHttpStatus(String httpStatus) {
        Status status = switch (httpStatus == null ? "" : httpStatus) {
            case "400" -> Status.INTERNAL;
            case "401" -> Status.UNAUTHENTICATED;
            case "403" -> Status.PERMISSION_DENIED;
            case "404" -> Status.UNIMPLEMENTED;
            case "429", "502", "503", "504" -> Status.UNAVAILABLE;
            default -> Status.UNKNOWN;
        };
        return status.withDescription("HTTP status code " + httpStatus);
    }

    /** HTTP/2's error codes (RFC 9113 7) by value, and the status grpc-java gives each. */
    private static final List<String> HTTP2_ERRORS = List.of("NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR",
            "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL",
            "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED");

    /** The status grpc-java's Http2Error gives an HTTP/2 error code: its code, "HTTP/2 error code: NAME". */
    static Status ofHttp2Error(long code) {
        if (code < 0 || code >= HTTP2_ERRORS.size()) {
            return Status.INTERNAL.withDescription("Unrecognized HTTP/2 error code: " + code);
        }
        Status status = switch ((int) code) {
            case 0x0, REFUSED_STREAM -> Status.UNAVAILABLE;
            case 0x8 -> Status.CANCELLED;
            case 0xb -> Status.RESOURCE_EXHAUSTED.withDescription("Bandwidth exhausted");
            case 0xc -> Status.PERMISSION_DENIED.withDescription("Permission denied as protocol is not secure enough to call");
            case 0xd -> Status.UNKNOWN;
            default -> Status.INTERNAL;
        };
        String name = "HTTP/2 error code: " + HTTP2_ERRORS.get((int) code);
        return status.withDescription(status.getDescription() == null ? name : name + " (" + status.getDescription() + ")");
    }

    /** The server reset the stream, as netty's client reports it. */
    static Status ofReset(int code) {
        Status error = ofHttp2Error(code & 0xffffffffL);
        return error.withDescription("RST_STREAM closed stream. " + error.getDescription());
    }

    /** The server went away, as netty's client reports it: always UNAVAILABLE. */
    static Status ofGoAway(int code, String debug) {
        return Status.UNAVAILABLE.withDescription("GOAWAY shut down transport. "
                + ofHttp2Error(code & 0xffffffffL).getDescription() + (debug.isEmpty() ? "" : ", debug data: " + debug));
    }

    /**
     * A connection that could not be made, in grpc-java's (netty's) words: a refusal names the
     * errno and the address; a missing socket file is grpc's bare "io exception".
     */
    static Status ofUnreachable(SocketAddress address, IOException cause) {
        String message = String.valueOf(cause.getMessage());
        return switch (address) {
            case UnixDomainSocketAddress unix when message.equals("Connection refused") -> Status.UNAVAILABLE
                    .withDescription("connect(..) failed with error(-111): Connection refused: " + unix.getPath());
            case UnixDomainSocketAddress unix when message.equals("No such file or directory") ->
                    Status.UNAVAILABLE.withDescription("io exception");
            case InetSocketAddress inet when message.equals("Connection refused") -> Status.UNAVAILABLE
                    .withDescription("finishConnect(..) failed with error(-111): Connection refused: " + inet);
            default -> Status.UNAVAILABLE.withDescription("io exception").withCause(cause);
        };
    }

    /** A connection that could not be made or broke: UNAVAILABLE, naming what the OS said. */
    static Status ofTransport(ExchangeFailed.Reason reason) {
        return switch (reason) {
            case ExchangeFailed.Unreachable u -> ofUnreachable(u.address(), u.cause());
            case ExchangeFailed.Broken b when b.cause() instanceof EOFException ->
                    Status.UNAVAILABLE.withDescription("Network closed for unknown reason");
            case ExchangeFailed.Broken b -> Status.UNAVAILABLE.withDescription("io exception").withCause(b.cause());
            case ExchangeFailed.ProtocolError p -> Status.INTERNAL.withDescription(p.message());
            default -> Status.INTERNAL.withDescription(reason.toString());
        };
    }
}
