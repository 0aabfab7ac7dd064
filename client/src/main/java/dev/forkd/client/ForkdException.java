package dev.forkd.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import dev.forkd.v1.ErrorReason;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.Map;

/**
 * A call the server refused or could not answer. Branch on {@link #reason()} (the closed
 * {@code forkd.v1.ErrorReason} list, from the status's {@code google.rpc.ErrorInfo}) or on
 * {@link #code()}; the message is for people.
 * A timeout inside a blocking call is never this exception: it is the call's result.
 */
public class ForkdException extends RuntimeException {

    private final Status.Code code;
    private final String reason;
    private final Map<String, String> metadata;

    public ForkdException(Status.Code code, String reason, Map<String, String> metadata, String message,
            Throwable cause) {
        super(message, cause);
        this.code = code;
        this.reason = reason;
        this.metadata = Map.copyOf(metadata);
    }

    /** The gRPC status code: NOT_FOUND, FAILED_PRECONDITION, UNAVAILABLE, ... */
    public Status.Code code() {
        return code;
    }

    /**
     * Why, as the server's closed list says it ({@code QUEUE_CLOSED}, {@code LOCK_NOT_HELD}, ...);
     * {@code ERROR_REASON_UNSPECIFIED} when the status carried no reason (e.g. the server could not be
     * reached), {@code UNRECOGNIZED} for a reason newer than this library (branch on {@link #code()}).
     */
    public ErrorReason reason() {
        if (reason.isEmpty()) {
            return ErrorReason.ERROR_REASON_UNSPECIFIED;
        }
        try {
            return ErrorReason.valueOf(reason);
        } catch (IllegalArgumentException e) {
            return ErrorReason.UNRECOGNIZED;
        }
    }

    /** The reason exactly as the server sent it, for one this library does not know yet. */
    public String reasonName() {
        return reason;
    }

    /** The reason's variables, as the server sent them (e.g. the name of the resource). */
    public Map<String, String> metadata() {
        return metadata;
    }

    static ForkdException from(StatusRuntimeException e) {
        com.google.rpc.Status rich = StatusProto.fromThrowable(e);
        String reason = "";
        Map<String, String> metadata = Map.of();
        if (rich != null) {
            for (Any detail : rich.getDetailsList()) {
                if (detail.is(ErrorInfo.class)) {
                    try {
                        ErrorInfo info = detail.unpack(ErrorInfo.class);
                        reason = info.getReason();
                        metadata = info.getMetadataMap();
                    } catch (InvalidProtocolBufferException ignored) {
                        // a detail that does not parse carries no reason; the status still says what failed
                    }
                }
            }
        }
        Status status = e.getStatus();
        String message = status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
        return new ForkdException(status.getCode(), reason, metadata, message, e);
    }
}
