package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.DeleteProcessResponse;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.JoinProcessResponse;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.SpawnResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Spawning through forkd the way a client would: Spawn, then Join until it ends. */
final class Spawns {

    static final List<String> TRUE = List.of("/bin/true");

    private Spawns() {}

    static SpawnRequest request(List<String> argv) {
        return SpawnRequest.newBuilder().addAllArgv(argv).build();
    }

    /** Spawns and joins one process; fails unless it exited 0. Returns its id. */
    static String spawnAndJoin(ForkdClient c, List<String> argv) {
        String id = c.processes().spawn(request(argv)).getProcess().getId();
        ProcessInfo done = c.processes().join(JoinProcessRequest.newBuilder().setName(id).build()).getProcess();
        if (done.getExitCode() != 0 || done.getIsAlive()) {
            throw new IllegalStateException(argv + " ended " + done.getState() + " exit " + done.getExitCode()
                    + " " + done.getFailure());
        }
        return id;
    }

    /** Spawns without waiting; the future completes with the process once it has started. */
    static CompletableFuture<ProcessInfo> spawnAsync(ForkdClient c, SpawnRequest req) {
        CompletableFuture<ProcessInfo> f = new CompletableFuture<>();
        c.processesAsync().spawn(req, new Unary<SpawnResponse>(f, SpawnResponse::getProcess));
        return f;
    }

    /** Joins without blocking a thread; the future completes with the ended process. */
    static CompletableFuture<ProcessInfo> joinAsync(ForkdClient c, String id) {
        CompletableFuture<ProcessInfo> f = new CompletableFuture<>();
        c.processesAsync().join(JoinProcessRequest.newBuilder().setName(id).build(), new Unary<JoinProcessResponse>(f, JoinProcessResponse::getProcess));
        return f;
    }

    /** Forgets ended processes (outside any timing), so records do not pile up over a long run. */
    static void deleteAll(ForkdClient c, Collection<String> ids) throws Exception {
        List<CompletableFuture<ProcessInfo>> pending = new ArrayList<>();
        for (String id : ids) {
            CompletableFuture<ProcessInfo> f = new CompletableFuture<>();
            c.processesAsync().delete(DeleteProcessRequest.newBuilder().setName(id).build(),
                    new Unary<DeleteProcessResponse>(f, r -> ProcessInfo.getDefaultInstance()));
            pending.add(f);
            if (pending.size() >= 256) {
                CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
                pending.clear();
            }
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
    }

    /** A unary response into a future. */
    private record Unary<R>(CompletableFuture<ProcessInfo> f, java.util.function.Function<R, ProcessInfo> get)
            implements StreamObserver<R> {
        @Override
        public void onNext(R r) {
            f.complete(get.apply(r));
        }

        @Override
        public void onError(Throwable t) {
            f.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            f.completeExceptionally(new IllegalStateException("no response"));
        }
    }
}
