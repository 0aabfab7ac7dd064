package dev.forkd.server.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import dev.forkd.server.error.ForkdException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one place domain errors become gRPC statuses (AIP-193): a code, the message, an ErrorInfo
 * with an UPPER_SNAKE reason, and a BadRequest field violation for invalid arguments. Anything
 * unexpected becomes INTERNAL with its message — never UNKNOWN.
 */
public final class ErrorMapper {

    private static final Logger LOG = Logger.getLogger(ErrorMapper.class.getName());
    static final String DOMAIN = "forkd";

    private ErrorMapper() {}

    public static StatusRuntimeException toStatus(Throwable t) {
        if (t instanceof StatusRuntimeException s) {
            return s;
        }
        if (t instanceof ForkdException f) {
            return toStatus(f);
        }
        LOG.log(Level.WARNING, "internal error", t);
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(Code.INTERNAL_VALUE)
                .setMessage("internal error: " + t)
                .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain(DOMAIN).setReason("INTERNAL").build()))
                .build());
    }

    public static StatusRuntimeException toStatus(ForkdException f) {
        Code code = switch (f) {
            case ForkdException.InvalidArgument i -> Code.INVALID_ARGUMENT;
            case ForkdException.NotFound n -> Code.NOT_FOUND;
            case ForkdException.AlreadyExists a -> Code.ALREADY_EXISTS;
            case ForkdException.FailedPrecondition p -> Code.FAILED_PRECONDITION;
            case ForkdException.ResourceExhausted r -> Code.RESOURCE_EXHAUSTED;
            case ForkdException.Unavailable u -> Code.UNAVAILABLE;
            case ForkdException.Unauthenticated u -> Code.UNAUTHENTICATED;
            case ForkdException.PermissionDenied d -> Code.PERMISSION_DENIED;
        };
        com.google.rpc.Status.Builder status = com.google.rpc.Status.newBuilder()
                .setCode(code.getNumber())
                .setMessage(f.getMessage())
                .addDetails(Any.pack(ErrorInfo.newBuilder()
                        .setDomain(DOMAIN)
                        .setReason(f.reason())
                        .putAllMetadata(f.metadata())
                        .build()));
        if (f instanceof ForkdException.InvalidArgument i) {
            status.addDetails(Any.pack(BadRequest.newBuilder()
                    .addFieldViolations(BadRequest.FieldViolation.newBuilder()
                            .setField(i.field())
                            .setDescription(i.rule()))
                    .build()));
        }
        return StatusProto.toStatusRuntimeException(status.build());
    }
}
