package dev.forkd.server.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.Optional;

/** What a test reads from a forkd error's details: the ErrorInfo reason and the BadRequest field. */
public final class ErrorDetails {

    private ErrorDetails() {}

    /** The {@code ErrorInfo} reason, e.g. {@code PROCESS_NOT_FOUND}; "" if there is none. */
    public static String reason(StatusRuntimeException e) {
        return detail(e, ErrorInfo.class).map(ErrorInfo::getReason).orElse("");
    }

    /** The first {@code BadRequest} field violation's field, e.g. {@code argv}; "" if there is none. */
    public static String field(StatusRuntimeException e) {
        return detail(e, BadRequest.class).map(b -> b.getFieldViolations(0).getField()).orElse("");
    }

    private static <T extends Message> Optional<T> detail(StatusRuntimeException e, Class<T> type) {
        for (var any : StatusProto.fromThrowable(e).getDetailsList()) {
            if (any.is(type)) {
                try {
                    return Optional.of(any.unpack(type));
                } catch (InvalidProtocolBufferException x) {
                    throw new AssertionError("a malformed " + type.getSimpleName() + " detail", x);
                }
            }
        }
        return Optional.empty();
    }
}
