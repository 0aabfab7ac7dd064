package dev.forkd.server.grpc;

import static dev.forkd.server.testing.ErrorDetails.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.WatchProcessRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bad requests get the right code and a message naming the problem, and change nothing. The
 * service runs in-process over an agent that "starts" children at once (no OS process needed to
 * check validation).
 */
@Timeout(30)
class ProcessServiceValidationTest {

    private InProcessServer server;
    private ManagedChannel channel;
    private ProcessServiceGrpc.ProcessServiceBlockingStub stub;


    @BeforeEach
    void start() throws Exception {
        server = InProcessServer.start();
        channel = server.channel();
        stub = ProcessServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private StatusRuntimeException fails(Status.Code code, Runnable call) {
        int before = stub.list(ListProcessesRequest.getDefaultInstance()).getProcessesCount();
        var e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertEquals(before, stub.list(ListProcessesRequest.getDefaultInstance()).getProcessesCount(),
                "a rejected request changed the table");
        return e;
    }


    @Test
    void emptyArgvNamesTheField() throws Exception {
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> stub.spawn(SpawnRequest.getDefaultInstance()));
        assertEquals("argv", field(e));
        assertTrue(e.getStatus().getDescription().startsWith("argv:"), e.getStatus().getDescription());
    }

    @Test
    void unknownIdIsNotFoundNamingTheId() {
        var e = fails(Status.Code.NOT_FOUND, () -> stub.get(GetProcessRequest.newBuilder().setName("p-999").build()));
        assertTrue(e.getStatus().getDescription().contains("p-999"));
        fails(Status.Code.NOT_FOUND, () -> stub.join(JoinProcessRequest.newBuilder().setName("p-999").build()));
        fails(Status.Code.NOT_FOUND, () -> stub.signal(SignalRequest.newBuilder().setName("p-999")
                .setKind(SignalKind.SIGNAL_KIND_KILL).build()));
        fails(Status.Code.NOT_FOUND, () -> stub.watch(WatchProcessRequest.newBuilder().setName("p-999").build()).hasNext());
    }

    @Test
    void negativeTimeoutIsInvalid() throws Exception {
        String id = stub.spawn(SpawnRequest.newBuilder().addArgv("sleep").build()).getProcess().getId();
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> stub.join(JoinProcessRequest.newBuilder().setName(id)
                .setTimeout(Duration.newBuilder().setSeconds(-1)).build()));
        assertEquals("timeout", field(e));
        fails(Status.Code.INVALID_ARGUMENT, () -> stub.spawn(SpawnRequest.newBuilder().addArgv("x")
                .setTimeout(Duration.newBuilder().setSeconds(-5)).build()));
    }

    @Test
    void badSignalNameIsInvalidAndDoesNotSignal() throws Exception {
        String id = stub.spawn(SpawnRequest.newBuilder().addArgv("sleep").build()).getProcess().getId();
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> stub.signal(SignalRequest.newBuilder().setName(id)
                .setKind(SignalKind.SIGNAL_KIND_NAMED).setSignal("SIGNOPE").build()));
        assertEquals("signal", field(e));
        assertTrue(e.getStatus().getDescription().contains("SIGNOPE"));
        assertTrue(stub.get(GetProcessRequest.newBuilder().setName(id).build()).getProcess().getIsAlive());
        fails(Status.Code.INVALID_ARGUMENT, () -> stub.signal(SignalRequest.newBuilder().setName(id).build()));
    }

    @Test
    void hugeEnvIsInvalid() throws Exception {
        String big = "x".repeat(1024 * 1024 + 10);
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> stub.spawn(SpawnRequest.newBuilder().addArgv("true")
                .putEnv("BIG", big).build()));
        assertEquals("env[BIG]", field(e)); // over the 128 KiB a single variable may hold, before the total
    }

    @Test
    void otherRulesNameTheirFields() throws Exception {
        assertEquals("cwd", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.spawn(SpawnRequest.newBuilder().addArgv("true").setCwd("relative").build()))));
        assertEquals("name", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.spawn(SpawnRequest.newBuilder().addArgv("true").setName("bad name!").build()))));
        assertEquals("daemon", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.spawn(SpawnRequest.newBuilder().addArgv("true").setDaemon(true).build()))));
        assertEquals("output_limit_bytes", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.spawn(SpawnRequest.newBuilder().addArgv("true").setOutputLimitBytes(-1).build()))));
        assertEquals("page_size", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.list(ListProcessesRequest.newBuilder().setPageSize(-1).build()))));
        assertEquals("name", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.get(GetProcessRequest.getDefaultInstance()))));
    }

    @Test
    void takenNameAndDeletingARunningProcessAreRefused() {
        stub.spawn(SpawnRequest.newBuilder().addArgv("sleep").setName("web").build());
        fails(Status.Code.ALREADY_EXISTS, () -> stub.spawn(SpawnRequest.newBuilder().addArgv("sleep").setName("web").build()));
        fails(Status.Code.FAILED_PRECONDITION, () -> stub.delete(DeleteProcessRequest.newBuilder().setName("web").build()));
    }
}
