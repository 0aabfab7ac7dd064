package dev.forkd.server.grpc;

import static dev.forkd.server.testing.ErrorDetails.reason;
import static dev.forkd.server.testing.ErrorDetails.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.v1.ApplyAsyncRequest;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.DeletePoolRequest;
import dev.forkd.v1.ForgetResultRequest;
import dev.forkd.v1.GetPoolRequest;
import dev.forkd.v1.GetResultRequest;
import dev.forkd.v1.JoinPoolRequest;
import dev.forkd.v1.ListPoolsRequest;
import dev.forkd.v1.MapRequest;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bad pool requests get the right code, a reason and the field, and create nothing. In-process,
 * over an agent that "starts" children at once: validation needs no OS process.
 */
@Timeout(30)
class PoolServiceValidationTest {

    private InProcessServer server;
    private ManagedChannel channel;
    private PoolServiceGrpc.PoolServiceBlockingStub stub;


    @BeforeEach
    void start() throws Exception {
        server = InProcessServer.start();
        channel = server.channel();
        stub = PoolServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private static CreatePoolRequest.Builder perTask(String... argv) {
        return CreatePoolRequest.newBuilder().setProcesses(2).setWorker(WorkerSpec.newBuilder()
                .setKind(WorkerKind.WORKER_KIND_PER_TASK).addAllArgv(List.of(argv)));
    }

    private StatusRuntimeException fails(Status.Code code, Runnable call) {
        int before = stub.list(ListPoolsRequest.getDefaultInstance()).getPoolsCount();
        var e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertEquals(before, stub.list(ListPoolsRequest.getDefaultInstance()).getPoolsCount(),
                "a rejected request changed the pools");
        return e;
    }



    @Test
    void emptyArgvIsInvalidNamingTheField() throws Exception {
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> stub.create(CreatePoolRequest.newBuilder()
                .setWorker(WorkerSpec.newBuilder().setKind(WorkerKind.WORKER_KIND_PERSISTENT)).build()));
        assertEquals("worker.argv", field(e));
        e = fails(Status.Code.INVALID_ARGUMENT, () -> stub.create(CreatePoolRequest.getDefaultInstance()));
        assertEquals("worker.argv", field(e));
        e = fails(Status.Code.INVALID_ARGUMENT, () -> stub.create(perTask("", "{}").build()));
        assertEquals("worker.argv[0]", field(e));
    }

    @Test
    void processesZeroNegativeOrHugeAreInvalid() throws Exception {
        for (int n : new int[] {0, -1, 1025, Integer.MAX_VALUE}) {
            var e = fails(Status.Code.INVALID_ARGUMENT, () -> stub.create(perTask("echo", "{}").setProcesses(n).build()));
            assertEquals("processes", field(e));
            assertTrue(e.getStatus().getDescription().contains("between 1 and 1024"), e.getStatus().getDescription());
        }
        // Unset means the CPU count.
        var made = stub.create(perTask("echo", "{}").clearProcesses().build()).getPool();
        assertEquals(2, made.getProcesses());
    }

    @Test
    void missingPlaceholderWithoutStdinItemIsInvalid() throws Exception {
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> stub.create(perTask("echo", "hello").build()));
        assertEquals("worker.argv", field(e));
        assertTrue(e.getStatus().getDescription().contains("{}"), e.getStatus().getDescription());
        // The same command with the item on stdin is fine; so are {1} and {#}-free templates with {}.
        stub.create(perTask("cat").setWorker(WorkerSpec.newBuilder().addArgv("cat").setStdinItem(true)).build());
        stub.create(perTask("sh", "-c", "echo {1} {2}").build());
    }

    @Test
    void otherBadFieldsAreNamed() throws Exception {
        assertEquals("max_retries", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.create(perTask("echo", "{}").setMaxRetries(-1).build()))));
        assertEquals("max_tasks_per_child", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.create(perTask("echo", "{}").setMaxTasksPerChild(-3).build()))));
        assertEquals("task_timeout", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.create(perTask("echo", "{}").setTaskTimeout(com.google.protobuf.Duration.getDefaultInstance()).build()))));
        assertEquals("worker.stdin_item", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.create(CreatePoolRequest.newBuilder().setWorker(WorkerSpec.newBuilder()
                        .setKind(WorkerKind.WORKER_KIND_PERSISTENT).addArgv("cat").setStdinItem(true)).build()))));
        assertEquals("name", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.create(perTask("echo", "{}").setName("pool-7").build()))));
    }

    @Test
    void unknownPoolIsNotFound() throws Exception {
        var e = fails(Status.Code.NOT_FOUND, () -> stub.get(GetPoolRequest.newBuilder().setName("pool-99").build()));
        assertEquals("POOL_NOT_FOUND", reason(e));
        assertTrue(e.getStatus().getDescription().contains("pool-99"));
        fails(Status.Code.NOT_FOUND, () -> stub.applyAsync(ApplyAsyncRequest.newBuilder().setName("nope").build()));
        fails(Status.Code.NOT_FOUND, () -> stub.join(JoinPoolRequest.newBuilder().setName("nope").build()));
        fails(Status.Code.NOT_FOUND, () -> stub.delete(DeletePoolRequest.newBuilder().setName("nope").build()));
        var failed = new java.util.concurrent.CompletableFuture<Throwable>();
        var requests = PoolServiceGrpc.newStub(channel).map(new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(dev.forkd.v1.MapResponse value) {}

            @Override
            public void onError(Throwable t) {
                failed.complete(t);
            }

            @Override
            public void onCompleted() {
                failed.complete(null);
            }
        });
        requests.onNext(MapRequest.newBuilder().setStart(MapStart.newBuilder().setName("nope")).build());
        var status = Status.fromThrowable(failed.get(10, TimeUnit.SECONDS));
        assertEquals(Status.Code.NOT_FOUND, status.getCode());
        requests.onCompleted();
    }

    @Test
    void aRunningTasksResultCannotBeForgottenAndAnUnknownOneIsNotFound() throws Exception {
        String pool = stub.create(perTask("echo", "{}").setName("p2").build()).getPool().getId();
        // The in-process agent starts children but never ends them: the task stays running.
        String task = stub.applyAsync(ApplyAsyncRequest.newBuilder().setName(pool)
                .setInput(TaskInput.newBuilder().setItem(com.google.protobuf.ByteString.copyFromUtf8("x"))).build()).getName();
        assertTrue(task.startsWith(pool + "/t-"), task);
        assertEquals("TASK_NOT_DONE", reason(fails(Status.Code.FAILED_PRECONDITION,
                () -> stub.forgetResult(ForgetResultRequest.newBuilder().setName(task).build()))));
        assertEquals("TASK_NOT_FOUND", reason(fails(Status.Code.NOT_FOUND,
                () -> stub.forgetResult(ForgetResultRequest.newBuilder().setName(pool + "/t-999").build()))));
        assertEquals("name", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.forgetResult(ForgetResultRequest.newBuilder().setName(pool).build()))));
    }

    @Test
    void resultOfAnUnknownTaskIsNotFound() throws Exception {
        String pool = stub.create(perTask("echo", "{}").setName("p1").build()).getPool().getId();
        var e = fails(Status.Code.NOT_FOUND, () -> stub.getResult(GetResultRequest.newBuilder()
                .setName(pool + "/t-12345").build()));
        assertEquals("TASK_NOT_FOUND", reason(e));
        assertTrue(e.getStatus().getDescription().contains("t-12345"));
        // A pool's name alone names no task.
        assertEquals("name", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.getResult(GetResultRequest.newBuilder().setName(pool).build()))));
        assertEquals("name", field(fails(Status.Code.INVALID_ARGUMENT,
                () -> stub.getResult(GetResultRequest.newBuilder().setName(pool + "/").build()))));
        assertEquals("POOL_NOT_FOUND", reason(fails(Status.Code.NOT_FOUND,
                () -> stub.getResult(GetResultRequest.newBuilder().setName("nope/t-1").build()))));
    }

    @Test
    void wrongStatesAreFailedPrecondition() throws Exception {
        String pool = stub.create(perTask("echo", "{}").build()).getPool().getId();
        assertEquals("POOL_RUNNING", reason(fails(Status.Code.FAILED_PRECONDITION,
                () -> stub.join(JoinPoolRequest.newBuilder().setName(pool).build()))));
        assertEquals("POOL_NOT_ENDED", reason(fails(Status.Code.FAILED_PRECONDITION,
                () -> stub.delete(DeletePoolRequest.newBuilder().setName(pool).build()))));
        stub.close(dev.forkd.v1.ClosePoolRequest.newBuilder().setName(pool).build());
        assertEquals("POOL_CLOSED", reason(fails(Status.Code.FAILED_PRECONDITION,
                () -> stub.applyAsync(ApplyAsyncRequest.newBuilder().setName(pool)
                        .setInput(TaskInput.newBuilder().setItem(com.google.protobuf.ByteString.copyFromUtf8("1"))).build()))));
    }
}
