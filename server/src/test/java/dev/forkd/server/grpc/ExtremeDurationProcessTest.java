package dev.forkd.server.grpc;

import static dev.forkd.server.testing.ErrorDetails.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.forkd.v1.ApplyAsyncRequest;
import dev.forkd.v1.ClosePoolRequest;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.GetPoolRequest;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.GetResultRequest;
import dev.forkd.v1.GetResultResponse;
import dev.forkd.v1.JoinPoolRequest;
import dev.forkd.v1.JoinPoolResponse;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.JoinProcessResponse;
import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.PoolState;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.RestartPolicy;
import dev.forkd.v1.RestartSpec;
import dev.forkd.v1.SessionServiceGrpc;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 10, item 1, for processes and pools: a Spawn timeout, a Join timeout, a Signal grace, a pool
 * task_timeout, GetResult and pool Join at the extremes of {@link ExtremeDurationTest#extremes} mean
 * "no limit": the call answers (or waits until a concurrent event ends it), never INTERNAL, and a
 * caller that went away leaves no waiter to take a pool result. Durations whose fields state a range
 * are INVALID_ARGUMENT. Over an agent that "starts" children at once and ends them when signalled.
 */
@Timeout(30)
class ExtremeDurationProcessTest {

    private InProcessServer server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        server = InProcessServer.start();
        channel = server.channel();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private ProcessServiceGrpc.ProcessServiceBlockingStub processes() {
        return ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private PoolServiceGrpc.PoolServiceBlockingStub pools() {
        return PoolServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static StatusRuntimeException fails(Status.Code code, Runnable call) {
        var e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        return e;
    }

    // ---- processes ---------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("dev.forkd.server.grpc.ExtremeDurationTest#extremes")
    void spawnWithAHugeTimeoutRunsWithoutALimitAndAnswers(Duration huge) {
        var p = processes().spawn(SpawnRequest.newBuilder().addArgv("sleep").setTimeout(huge).build()).getProcess();
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, p.getState());
        assertTrue(processes().get(GetProcessRequest.newBuilder().setName(p.getId()).build()).getProcess().getIsAlive());
    }

    @ParameterizedTest
    @MethodSource("dev.forkd.server.grpc.ExtremeDurationTest#extremes")
    void joinWithAHugeTimeoutWaitsForTheEndAndLeavesNoGhost(Duration huge) throws Exception {
        String id = processes().spawn(SpawnRequest.newBuilder().addArgv("sleep").build()).getProcess().getId();
        var gone = BlockingCall.<JoinProcessResponse>start(o -> ProcessServiceGrpc.newStub(channel)
                .join(JoinProcessRequest.newBuilder().setName(id).setTimeout(huge).build(), o)).assertWaiting();
        gone.cancel();
        var join = BlockingCall.<JoinProcessResponse>start(o -> ProcessServiceGrpc.newStub(channel)
                .join(JoinProcessRequest.newBuilder().setName(id).setTimeout(huge).build(), o)).assertWaiting();
        processes().signal(SignalRequest.newBuilder().setName(id).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        JoinProcessResponse r = join.answer();
        assertFalse(r.getTimedOut());
        assertEquals(-9, r.getProcess().getExitCode());
    }

    @ParameterizedTest
    @MethodSource("dev.forkd.server.grpc.ExtremeDurationTest#extremes")
    void terminateWithAHugeGraceSignalsAndNeverEscalates(Duration huge) {
        String id = processes().spawn(SpawnRequest.newBuilder().addArgv("sleep").build()).getProcess().getId();
        processes().signal(SignalRequest.newBuilder().setName(id).setKind(SignalKind.SIGNAL_KIND_TERMINATE)
                .setGrace(huge).build());
        JoinProcessResponse r = processes().join(JoinProcessRequest.newBuilder().setName(id).build());
        assertEquals(-15, r.getProcess().getExitCode(), "ended by the SIGTERM, not a SIGKILL: " + r);
    }

    @ParameterizedTest
    @MethodSource("dev.forkd.server.grpc.ExtremeDurationTest#extremes")
    void durationsWithADocumentedRangeAreInvalidArgumentNotInternal(Duration huge) {
        assertEquals("stop_grace", field(fails(Status.Code.INVALID_ARGUMENT, () -> processes().spawn(SpawnRequest
                .newBuilder().addArgv("sleep").setStopGrace(huge).build()))));
        assertEquals("restart.max_backoff", field(fails(Status.Code.INVALID_ARGUMENT, () -> processes().spawn(
                SpawnRequest.newBuilder().addArgv("sleep").setRestart(RestartSpec.newBuilder()
                        .setPolicy(RestartPolicy.RESTART_POLICY_ALWAYS).setMaxBackoff(huge)).build()))));
        // A huge restart window is no limit on how far back restarts count: accepted.
        var p = processes().spawn(SpawnRequest.newBuilder().addArgv("sleep").setRestart(RestartSpec.newBuilder()
                .setPolicy(RestartPolicy.RESTART_POLICY_ALWAYS).setWindow(huge)).build()).getProcess();
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, p.getState());
        processes().signal(SignalRequest.newBuilder().setName(p.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        // A session's TTL has a documented range: a huge one is refused, and no session is left.
        var failed = new java.util.concurrent.CompletableFuture<Throwable>();
        var open = SessionServiceGrpc.newStub(channel).open(new StreamObserver<>() {
            @Override
            public void onNext(dev.forkd.v1.OpenSessionResponse r) {
                failed.complete(null);
            }

            @Override
            public void onError(Throwable t) {
                failed.complete(t);
            }

            @Override
            public void onCompleted() {}
        });
        open.onNext(OpenSessionRequest.newBuilder().setTtl(huge).build());
        Throwable t = failed.join();
        assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(t).getCode(), String.valueOf(t));
    }

    // ---- pools -------------------------------------------------------------------------------

    private String perTaskPool(Duration taskTimeout) {
        var b = CreatePoolRequest.newBuilder().setProcesses(1).setWorker(WorkerSpec.newBuilder()
                .setKind(WorkerKind.WORKER_KIND_PER_TASK).addArgv("echo").addArgv("{}"));
        if (taskTimeout != null) {
            b.setTaskTimeout(taskTimeout);
        }
        return pools().create(b.build()).getPool().getId();
    }

    /** The process running a pool's one task (the instant agent keeps it running until signalled). */
    private String taskProcess(String pool) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end) {
            var info = pools().get(GetPoolRequest.newBuilder().setName(pool).build()).getPool();
            if (info.getWorkerProcessIdsCount() > 0) {
                return info.getWorkerProcessIds(0);
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("no task started");
    }

    @ParameterizedTest
    @MethodSource("dev.forkd.server.grpc.ExtremeDurationTest#extremes")
    void getResultWithAHugeTimeoutWaitsAndLeavesNoGhostToTakeTheResult(Duration huge) throws Exception {
        String pool = perTaskPool(huge);
        String task = pools().applyAsync(ApplyAsyncRequest.newBuilder().setName(pool)
                .setInput(TaskInput.newBuilder().setItem(ByteString.copyFromUtf8("x"))).build()).getName();
        var gone = BlockingCall.<GetResultResponse>start(o -> PoolServiceGrpc.newStub(channel).getResult(
                GetResultRequest.newBuilder().setName(task).setTimeout(huge).build(), o)).assertWaiting();
        gone.cancel();
        processes().signal(SignalRequest.newBuilder().setName(taskProcess(pool)).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        GetResultResponse r = pools().getResult(GetResultRequest.newBuilder().setName(task).build());
        assertTrue(r.getReady(), "a ghost waiter took the result: " + r);
        assertTrue(r.getResult().hasFailure(), "the killed task's result: " + r);
    }

    @ParameterizedTest
    @MethodSource("dev.forkd.server.grpc.ExtremeDurationTest#extremes")
    void poolJoinWithAHugeTimeoutWaitsForTheEnd(Duration huge) throws Exception {
        String pool = perTaskPool(null);
        pools().applyAsync(ApplyAsyncRequest.newBuilder().setName(pool)
                .setInput(TaskInput.newBuilder().setItem(ByteString.copyFromUtf8("x"))).build());
        String running = taskProcess(pool);
        pools().close(ClosePoolRequest.newBuilder().setName(pool).build());
        var join = BlockingCall.<JoinPoolResponse>start(o -> PoolServiceGrpc.newStub(channel)
                .join(JoinPoolRequest.newBuilder().setName(pool).setTimeout(huge).build(), o)).assertWaiting();
        processes().signal(SignalRequest.newBuilder().setName(running).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        JoinPoolResponse r = join.answer();
        assertFalse(r.getTimedOut());
        assertEquals(PoolState.POOL_STATE_ENDED, r.getPool().getState());
    }
}
