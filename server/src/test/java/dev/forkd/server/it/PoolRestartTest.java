package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.forkd.server.config.StoreConfig;
import dev.forkd.v1.ApplyAsyncRequest;
import dev.forkd.v1.ApplyRequest;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.DeletePoolRequest;
import dev.forkd.v1.ForgetResultRequest;
import dev.forkd.v1.GetResultRequest;
import dev.forkd.v1.GetResultResponse;
import dev.forkd.v1.JoinPoolRequest;
import dev.forkd.v1.ListPoolsRequest;
import dev.forkd.v1.PoolInfo;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.PoolState;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.TerminatePoolRequest;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pools over a restart (README "Restarts and durability", Pools): a server stopped cleanly and
 * started again on the same state directory has its pools' definitions, the ApplyAsync results
 * nobody collected, and runs again the tasks that had not finished.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PoolRestartTest {

    @TempDir
    Path state;

    private interface Phase {
        void run(RealServer s) throws Exception;
    }

    /** Starts a server on the state directory, runs {@code phase}, stops it cleanly (SIGTERM's path). */
    private void serve(Phase phase) throws Exception {
        RealServer s = new RealServer(1, c -> c.withStore(StoreConfig.in(state, false)));
        try {
            phase.run(s);
        } finally {
            s.closeLeavingNothing();
        }
    }

    private static PoolServiceGrpc.PoolServiceBlockingStub pools(RealServer s) {
        return PoolServiceGrpc.newBlockingStub(s.channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    private static TaskInput item(String s) {
        return TaskInput.newBuilder().setItem(ByteString.copyFromUtf8(s)).build();
    }

    private static GetResultResponse result(RealServer s, String task, long waitSeconds) {
        return pools(s).getResult(GetResultRequest.newBuilder().setName(task)
                .setTimeout(Duration.newBuilder().setSeconds(waitSeconds)).build());
    }

    @Test
    void uncollectedResultsAndThePoolsSurviveAStopAndStart() throws Exception {
        List<String> tasks = new ArrayList<>();
        AtomicReference<PoolInfo> created = new AtomicReference<>();
        serve(s -> {
            created.set(pools(s).create(CreatePoolRequest.newBuilder().setName("kept").setProcesses(2)
                    .setWorker(WorkerSpec.newBuilder().setKind(WorkerKind.WORKER_KIND_PER_TASK)
                            .addArgv("echo").addArgv("r-{}").putEnv("TEAM", "a"))
                    .setMaxRetries(1).putLabels("team", "a").build()).getPool());
            pools(s).create(CreatePoolRequest.newBuilder().setName("cats").setProcesses(1)
                    .setWorker(WorkerSpec.newBuilder().setKind(WorkerKind.WORKER_KIND_PERSISTENT).addArgv("cat"))
                    .build());
            for (int i = 0; i < 20; i++) {
                tasks.add(pools(s).applyAsync(ApplyAsyncRequest.newBuilder().setName("kept")
                        .setInput(item(Integer.toString(i))).build()).getName());
            }
            for (int i = 0; i < 20; i++) {
                GetResultResponse r = result(s, tasks.get(i), 60);
                assertTrue(r.getReady(), tasks.get(i));
                assertEquals("r-" + i + "\n", r.getResult().getOutput().toStringUtf8());
            }
            for (int i = 0; i < 5; i++) { // collected: taken and forgotten
                pools(s).forgetResult(ForgetResultRequest.newBuilder().setName(tasks.get(i)).build());
            }
        });

        serve(s -> {
            List<PoolInfo> listed = pools(s).list(ListPoolsRequest.getDefaultInstance()).getPoolsList();
            assertEquals(List.of("kept", "cats"), listed.stream().map(PoolInfo::getName).toList());
            PoolInfo kept = listed.get(0);
            assertEquals(created.get().getId(), kept.getId());
            assertEquals(PoolState.POOL_STATE_RUNNING, kept.getState());
            assertEquals(2, kept.getProcesses());
            assertEquals(List.of("echo", "r-{}"), kept.getWorker().getArgvList());
            assertEquals("a", kept.getLabelsMap().get("team"));
            assertEquals(1, kept.getMaxRetries());
            assertEquals(created.get().getCreatedAt(), kept.getCreatedAt());

            for (int i = 0; i < 5; i++) {
                String task = tasks.get(i);
                var e = assertThrows(StatusRuntimeException.class, () -> result(s, task, 0));
                assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), task);
            }
            for (int i = 5; i < 20; i++) {
                GetResultResponse r = result(s, tasks.get(i), 0);
                assertTrue(r.getReady(), tasks.get(i));
                assertEquals("r-" + i + "\n", r.getResult().getOutput().toStringUtf8());
            }

            // New tasks run on fresh workers, and never reuse a kept task's name.
            String next = pools(s).applyAsync(ApplyAsyncRequest.newBuilder().setName("kept")
                    .setInput(item("new")).build()).getName();
            assertFalse(tasks.contains(next), next);
            assertEquals("r-new\n", result(s, next, 60).getResult().getOutput().toStringUtf8());
            assertEquals("hello", pools(s).apply(ApplyRequest.newBuilder().setName("cats").setInput(item("hello"))
                    .build()).getResult().getOutput().toStringUtf8());

            // A deleted pool is gone from the store too.
            pools(s).terminate(TerminatePoolRequest.newBuilder().setName("cats").build());
            pools(s).join(JoinPoolRequest.newBuilder().setName("cats").build());
            pools(s).delete(DeletePoolRequest.newBuilder().setName("cats").build());
        });

        serve(s -> {
            assertEquals(List.of("kept"), pools(s).list(ListPoolsRequest.getDefaultInstance()).getPoolsList()
                    .stream().map(PoolInfo::getName).toList());
            assertEquals("r-19\n", result(s, tasks.get(19), 0).getResult().getOutput().toStringUtf8());
        });
    }

    @Test
    void aTaskSubmittedButNotFinishedRunsAgainAfterARestart() throws Exception {
        Path marker = state.resolve("task.started");
        AtomicReference<String> task = new AtomicReference<>();
        serve(s -> {
            pools(s).create(CreatePoolRequest.newBuilder().setName("slow").setProcesses(1)
                    .setWorker(WorkerSpec.newBuilder().setKind(WorkerKind.WORKER_KIND_PER_TASK)
                            .addArgv("sh").addArgv("-c")
                            .addArgv("if [ -e \"$1\" ]; then echo again; else touch \"$1\"; exec sleep 600; fi")
                            .addArgv("sh").addArgv("{}"))
                    .build());
            task.set(pools(s).applyAsync(ApplyAsyncRequest.newBuilder().setName("slow")
                    .setInput(item(marker.toString())).build()).getName());
            Eventually.await(java.time.Duration.ofSeconds(30), () -> Files.exists(marker),
                    () -> "the task never started");
            assertFalse(result(s, task.get(), 0).getReady());
            // The stop kills the task's process: that is not the task's answer.
        });
        serve(s -> {
            GetResultResponse r = result(s, task.get(), 60);
            assertTrue(r.getReady());
            assertEquals("again\n", r.getResult().getOutput().toStringUtf8(), () -> r.getResult().toString());
        });
    }
    @Test
    void aClosedPoolFinishesItsTasksAfterARestartThenEnds() throws Exception {
        Path marker = state.resolve("closing.started");
        AtomicReference<String> task = new AtomicReference<>();
        serve(s -> {
            pools(s).create(CreatePoolRequest.newBuilder().setName("closing").setProcesses(1)
                    .setWorker(WorkerSpec.newBuilder().setKind(WorkerKind.WORKER_KIND_PER_TASK)
                            .addArgv("sh").addArgv("-c")
                            .addArgv("if [ -e \"$1\" ]; then echo again; else touch \"$1\"; exec sleep 600; fi")
                            .addArgv("sh").addArgv("{}"))
                    .build());
            task.set(pools(s).applyAsync(ApplyAsyncRequest.newBuilder().setName("closing")
                    .setInput(item(marker.toString())).build()).getName());
            Eventually.await(java.time.Duration.ofSeconds(30), () -> Files.exists(marker),
                    () -> "the task never started");
            pools(s).close(dev.forkd.v1.ClosePoolRequest.newBuilder().setName("closing").build());
        });
        serve(s -> {
            var ended = pools(s).join(JoinPoolRequest.newBuilder().setName("closing")
                    .setTimeout(Duration.newBuilder().setSeconds(60)).build());
            assertFalse(ended.getTimedOut());
            assertEquals(PoolState.POOL_STATE_ENDED, ended.getPool().getState());
            assertEquals("again\n", result(s, task.get(), 0).getResult().getOutput().toStringUtf8());
            var e = assertThrows(StatusRuntimeException.class, () -> pools(s).applyAsync(ApplyAsyncRequest
                    .newBuilder().setName("closing").setInput(item("late")).build()));
            assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        });
    }
}
