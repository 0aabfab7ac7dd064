package dev.forkd.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.forkd.server.error.ForkdException;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.Test;

/** Whatever text a request held, the error that echoes it stays small (trailers are limited to 8 KiB). */
class ErrorMapperTest {

    private static final String HUGE = "x".repeat(4000);

    @Test
    void aHugeNameIsCutInTheMessageAndTheMetadata() throws Exception {
        var e = ErrorMapper.toStatus(new ForkdException.NotFound("queue", HUGE));
        String message = e.getStatus().getDescription();
        assertEquals("queue \"" + "x".repeat(ErrorMapper.MAX_WORD - 1) + "…\" not found", message);
        var status = StatusProto.fromThrowable(e);
        ErrorInfo info = status.getDetails(0).unpack(ErrorInfo.class);
        assertEquals("QUEUE_NOT_FOUND", info.getReason());
        assertEquals(ErrorMapper.MAX_WORD + 1, info.getMetadataOrThrow("id").length());
        assertTrue(status.getSerializedSize() < 2048, status.getSerializedSize() + " bytes");
    }

    @Test
    void aLongMessageOfShortWordsIsCutAtItsLimit() {
        var e = ErrorMapper.toStatus(new ForkdException.FailedPrecondition("X", "word ".repeat(2000)));
        assertEquals(ErrorMapper.MAX_MESSAGE + 1, e.getStatus().getDescription().length());
    }

    @Test
    void aFieldViolationIsBoundedToo() throws Exception {
        var e = ErrorMapper.toStatus(new ForkdException.InvalidArgument("argv[0]", "is \"" + HUGE + "\""));
        BadRequest bad = StatusProto.fromThrowable(e).getDetails(1).unpack(BadRequest.class);
        assertTrue(bad.getFieldViolations(0).getDescription().length() < 200);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    }

    @Test
    void aStatusMadeElsewhereIsBoundedAndKeepsItsCode() {
        var e = ErrorMapper.toStatus(Status.UNAUTHENTICATED.withDescription(HUGE).asRuntimeException());
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertEquals(ErrorMapper.MAX_WORD + 1, e.getStatus().getDescription().length());
    }

    @Test
    void shortTextIsUntouched() {
        var e = ErrorMapper.toStatus(new ForkdException.NotFound("queue", "jobs"));
        assertEquals("queue \"jobs\" not found", e.getStatus().getDescription());
    }
}
