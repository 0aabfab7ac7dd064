package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import dev.forkd.v1.ApplyRequest;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.TaskFailureKind;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.TaskResult;
import dev.forkd.v1.TerminatePoolRequest;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 10 against a real server with one agent, so every process shares it: a huge timeout is
 * no limit and hurts nobody (item 1), and pools keep the contracts their proto states (item 9).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DurationsAndContractsTest {

    private static final Duration MAX = Duration.newBuilder().setSeconds(315_576_000_000L).setNanos(999_999_999).build();
    private static final Duration TWO_TO_63_NANOS = Duration.newBuilder().setSeconds(9_223_372_036L).setNanos(854_775_808).build();

    private static RealServer forkd;

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(1);
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    private static PoolServiceGrpc.PoolServiceBlockingStub pools() {
        return PoolServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    private static ProcessInfo get(String id) {
        return forkd.processes().get(GetProcessRequest.newBuilder().setName(id).build()).getProcess();
    }

    @Test
    void spawnAndJoinWithTheLargestTimeoutsLeaveTheAgentAndOtherClientsRunning() throws Exception {
        // Another client's process on the same (only) agent.
        String sentinel = forkd.processes().spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("300").build())
                .getProcess().getId();
        for (Duration huge : List.of(MAX, TWO_TO_63_NANOS)) {
            ProcessInfo p = forkd.processes().spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("300")
                    .setTimeout(huge).build()).getProcess();
            assertEquals(ProcessState.PROCESS_STATE_RUNNING, p.getState(), "the spawn answered: " + p);
            // A join with no limit waits: the client's own deadline ends it, not an INTERNAL.
            var e = assertThrows(StatusRuntimeException.class, () -> forkd.processes().withDeadlineAfter(1, TimeUnit.SECONDS)
                    .join(JoinProcessRequest.newBuilder().setName(p.getId()).setTimeout(huge).build()));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), e.getStatus().toString());
            forkd.processes().signal(SignalRequest.newBuilder().setName(p.getId()).setKind(SignalKind.SIGNAL_KIND_TERMINATE)
                    .setGrace(huge).build());
            assertEquals(-15, forkd.processes().join(JoinProcessRequest.newBuilder().setName(p.getId()).setTimeout(huge).build())
                    .getProcess().getExitCode());
            assertEquals(ProcessState.PROCESS_STATE_RUNNING, get(sentinel).getState(), "the sentinel: " + get(sentinel));
        }
        // The agent still serves new work.
        String echo = forkd.processes().spawn(SpawnRequest.newBuilder().addArgv("true").build()).getProcess().getId();
        assertEquals(0, forkd.processes().join(JoinProcessRequest.newBuilder().setName(echo).build()).getProcess().getExitCode());
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, get(sentinel).getState());
        forkd.processes().signal(SignalRequest.newBuilder().setName(sentinel).setKind(SignalKind.SIGNAL_KIND_KILL).build());
    }

    @Test
    void aPoolWithTheLargestTaskTimeoutAnswersItsTasks() {
        for (Duration huge : List.of(MAX, TWO_TO_63_NANOS)) {
            var pool = pools().create(CreatePoolRequest.newBuilder().setProcesses(1).setTaskTimeout(huge)
                    .setWorker(WorkerSpec.newBuilder().setKind(WorkerKind.WORKER_KIND_PER_TASK)
                            .addArgv("echo").addArgv("got {}")).build()).getPool();
            TaskResult r = pools().apply(ApplyRequest.newBuilder().setName(pool.getId())
                    .setInput(TaskInput.newBuilder().setItem(com.google.protobuf.ByteString.copyFromUtf8("x"))).build())
                    .getResult();
            assertEquals("got x", PoolTest.text(r));
            pools().terminate(TerminatePoolRequest.newBuilder().setName(pool.getId()).build());
        }
    }

    @Test
    void theTaskIndexIsReplacedWhenTheItemGoesToStdin() throws Exception {
        var results = MapCall.start(PoolServiceGrpc.newStub(forkd.channel), MapStart.newBuilder()
                .setCreate(CreatePoolRequest.newBuilder().setProcesses(1).setWorker(WorkerSpec.newBuilder()
                        .setKind(WorkerKind.WORKER_KIND_PER_TASK).setStdinItem(true)
                        .addArgv("sh").addArgv("-c").addArgv("printf '%s:%s' \"$(cat)\" {#}"))).build(),
                IntStream.range(0, 3).mapToObj(MapCall::item).iterator(), 3, r -> {}).done.get(120, TimeUnit.SECONDS);
        for (int i = 0; i < 3; i++) {
            assertEquals(i + ":" + (i + 1), PoolTest.text(results.get(i)), "{#} is the job number, from 1 as in GNU parallel");
        }
    }

    @Test
    void aPerTaskCommandKilledByASignalIsWorkerDiedAndRetried() {
        var pool = pools().create(CreatePoolRequest.newBuilder().setProcesses(1).setMaxRetries(1)
                .setWorker(WorkerSpec.newBuilder().setKind(WorkerKind.WORKER_KIND_PER_TASK)
                        .addArgv("sh").addArgv("-c").addArgv("kill -TERM $$ # {}")).build()).getPool();
        TaskResult r = pools().apply(ApplyRequest.newBuilder().setName(pool.getId())
                .setInput(TaskInput.newBuilder().setItem(com.google.protobuf.ByteString.copyFromUtf8("x"))).build())
                .getResult();
        assertTrue(r.hasFailure(), r.toString());
        assertEquals(TaskFailureKind.TASK_FAILURE_KIND_WORKER_DIED, r.getFailure().getKind(), r.toString());
        assertEquals(-15, r.getFailure().getExitCode());
        assertEquals(2, r.getAttempts(), "retried once (max_retries 1)");
        pools().terminate(TerminatePoolRequest.newBuilder().setName(pool.getId()).build());
    }
}
