package dev.forkd.server.limits;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/** A refusal as the suites accept it: RESOURCE_EXHAUSTED naming its reason, with a message. */
final class Refusals {

    private Refusals() {}

    static String reason(StatusRuntimeException e) {
        com.google.rpc.Status s = StatusProto.fromThrowable(e);
        if (s == null) {
            return "";
        }
        for (var any : s.getDetailsList()) {
            if (any.is(ErrorInfo.class)) {
                try {
                    return any.unpack(ErrorInfo.class).getReason();
                } catch (InvalidProtocolBufferException x) {
                    return "";
                }
            }
        }
        return "";
    }

    /** Null if {@code e} is a proper refusal, else what is wrong with it. */
    static String problem(StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) {
            return "not RESOURCE_EXHAUSTED: " + e.getStatus();
        }
        if (reason(e).isEmpty()) {
            return "RESOURCE_EXHAUSTED without an ErrorInfo reason: " + e.getStatus();
        }
        String d = e.getStatus().getDescription();
        if (d == null || d.isBlank()) {
            return "RESOURCE_EXHAUSTED " + reason(e) + " without a message";
        }
        return null;
    }
}
