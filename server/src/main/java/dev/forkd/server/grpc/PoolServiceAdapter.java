package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.pool.Pool;
import dev.forkd.server.pool.PoolRegistry;
import dev.forkd.v1.ApplyAsyncRequest;
import dev.forkd.v1.ApplyAsyncResponse;
import dev.forkd.v1.ApplyRequest;
import dev.forkd.v1.ApplyResponse;
import dev.forkd.v1.ClosePoolRequest;
import dev.forkd.v1.ClosePoolResponse;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.CreatePoolResponse;
import dev.forkd.v1.DeletePoolRequest;
import dev.forkd.v1.DeletePoolResponse;
import dev.forkd.v1.GetPoolRequest;
import dev.forkd.v1.GetPoolResponse;
import dev.forkd.v1.ForgetResultRequest;
import dev.forkd.v1.ForgetResultResponse;
import dev.forkd.v1.GetResultRequest;
import dev.forkd.v1.GetResultResponse;
import dev.forkd.v1.JoinPoolRequest;
import dev.forkd.v1.JoinPoolResponse;
import dev.forkd.v1.ListPoolsRequest;
import dev.forkd.v1.ListPoolsResponse;
import dev.forkd.v1.MapRequest;
import dev.forkd.v1.MapResponse;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.TerminatePoolRequest;
import dev.forkd.v1.TerminatePoolResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/** PoolService: decode, call the {@link PoolRegistry} and its pools, encode. */
public final class PoolServiceAdapter extends PoolServiceGrpc.PoolServiceImplBase {

    private static final int MAX_PAGE = 1000;

    private final PoolRegistry pools;
    private final PoolRequests requests;
    private final Executor executor;

    public PoolServiceAdapter(PoolRegistry pools, Map<String, String> baseEnv, Map<String, String> forkdEnv,
            long defaultOutputLimit, long maxOutputLimit, int cpus, Executor executor) {
        this(pools, baseEnv, forkdEnv, defaultOutputLimit, maxOutputLimit, cpus, executor,
                limits -> Optional.of("this server makes no cgroups"));
    }

    /** @param cgroups whether the workers' cgroup limits can be honoured here */
    public PoolServiceAdapter(PoolRegistry pools, Map<String, String> baseEnv, Map<String, String> forkdEnv,
            long defaultOutputLimit, long maxOutputLimit, int cpus, Executor executor,
            dev.forkd.server.limits.CgroupSupport cgroups) {
        this.pools = pools;
        this.requests = new PoolRequests(new SpawnRequests(baseEnv, forkdEnv, defaultOutputLimit, maxOutputLimit,
                cgroups),
                cpus);
        this.executor = executor;
    }

    @Override
    public void create(CreatePoolRequest request, StreamObserver<CreatePoolResponse> out) {
        try {
            var spec = requests.toSpec(request, false, "");
            Pool[] pool = new Pool[1];
            Object lock = new Object();
            synchronized (lock) {
                pool[0] = pools.create(spec, error -> {
                    synchronized (lock) {
                        if (error.isPresent()) {
                            out.onError(ErrorMapper.toStatus(error.get()));
                        } else {
                            out.onNext(CreatePoolResponse.newBuilder()
                                    .setPool(PoolMessages.info(pool[0].snapshot())).build());
                            out.onCompleted();
                        }
                    }
                });
            }
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void get(GetPoolRequest request, StreamObserver<GetPoolResponse> out) {
        Calls.unary(out, () -> GetPoolResponse.newBuilder()
                .setPool(PoolMessages.info(pools.find(requireId("name", request.getName())).snapshot())).build());
    }

    @Override
    public void list(ListPoolsRequest request, StreamObserver<ListPoolsResponse> out) {
        Calls.unary(out, () -> {
            int size = request.getPageSize();
            if (size < 0 || size > MAX_PAGE) {
                throw new InvalidArgument("page_size", "must be between 0 (default " + MAX_PAGE + ") and " + MAX_PAGE);
            }
            size = size == 0 ? MAX_PAGE : size;
            long after = PageTokens.afterSeq(request.getPageToken(), "pools");
            var found = pools.list(after, size);
            var b = ListPoolsResponse.newBuilder();
            for (int i = 0; i < Math.min(size, found.size()); i++) {
                b.addPools(PoolMessages.info(found.get(i).snapshot()));
            }
            if (found.size() > size) {
                b.setNextPageToken(PageTokens.next("pools", Long.toString(PoolRegistry.seqOf(found.get(size - 1)))));
            }
            return b.build();
        });
    }

    @Override
    public void close(ClosePoolRequest request, StreamObserver<ClosePoolResponse> out) {
        Calls.unary(out, () -> ClosePoolResponse.newBuilder()
                .setPool(PoolMessages.info(pools.find(requireId("name", request.getName())).close())).build());
    }

    @Override
    public void terminate(TerminatePoolRequest request, StreamObserver<TerminatePoolResponse> out) {
        Calls.unary(out, () -> TerminatePoolResponse.newBuilder()
                .setPool(PoolMessages.info(pools.find(requireId("name", request.getName())).terminate())).build());
    }

    @Override
    public void join(JoinPoolRequest request, StreamObserver<JoinPoolResponse> out) {
        try {
            Pool pool = pools.find(requireId("name", request.getName()));
            Optional<Duration> timeout = Protos.timeout("timeout", request.hasTimeout(), request.getTimeout());
            var serverOut = (ServerCallStreamObserver<JoinPoolResponse>) out;
            var pending = pool.join(timeout, (s, timedOut) -> {
                if (!serverOut.isCancelled()) {
                    out.onNext(JoinPoolResponse.newBuilder().setPool(PoolMessages.info(s)).setTimedOut(timedOut).build());
                    out.onCompleted();
                }
            });
            serverOut.setOnCancelHandler(pending::cancel);
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void delete(DeletePoolRequest request, StreamObserver<DeletePoolResponse> out) {
        Calls.unary(out, () -> {
            String id = pools.find(requireId("name", request.getName())).id();
            pools.delete(id);
            return DeletePoolResponse.newBuilder().setId(id).build();
        });
    }

    @Override
    public StreamObserver<MapRequest> map(StreamObserver<MapResponse> out) {
        return new MapSession(pools, requests, (ServerCallStreamObserver<MapResponse>) out, executor);
    }

    @Override
    public void apply(ApplyRequest request, StreamObserver<ApplyResponse> out) {
        try {
            Pool pool = pools.find(requireId("name", request.getName()));
            var input = PoolMessages.input(request.getInput());
            pool.validate("input", input);
            pool.apply(input, r -> {
                out.onNext(ApplyResponse.newBuilder().setResult(PoolMessages.result(r)).build());
                out.onCompleted();
            });
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void applyAsync(ApplyAsyncRequest request, StreamObserver<ApplyAsyncResponse> out) {
        try {
            Pool pool = pools.find(requireId("name", request.getName()));
            var input = PoolMessages.input(request.getInput());
            pool.validate("input", input);
            // Answered once the task is kept: an acknowledged task survives a restart.
            pool.applyAsync(input).whenComplete((taskId, error) -> {
                if (error != null) {
                    out.onError(ErrorMapper.toStatus(error instanceof CompletionException c && c.getCause() != null
                            ? c.getCause() : error));
                } else {
                    out.onNext(ApplyAsyncResponse.newBuilder().setName(pool.id() + "/" + taskId).build());
                    out.onCompleted();
                }
            });
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void getResult(GetResultRequest request, StreamObserver<GetResultResponse> out) {
        try {
            String name = request.getName();
            Pool pool = pools.find(taskPool(name));
            String taskId = taskId(name);
            Optional<Duration> timeout = Protos.timeout("timeout", request.hasTimeout(), request.getTimeout());
            var serverOut = (ServerCallStreamObserver<GetResultResponse>) out;
            var pending = pool.getResult(taskId, timeout, (r, ready) -> {
                if (!serverOut.isCancelled()) {
                    var b = GetResultResponse.newBuilder().setReady(ready);
                    r.ifPresent(x -> b.setResult(PoolMessages.result(x)));
                    out.onNext(b.build());
                    out.onCompleted();
                }
            }, refused -> {
                if (!serverOut.isCancelled()) {
                    out.onError(ErrorMapper.toStatus(refused));
                }
            });
            serverOut.setOnCancelHandler(pending::cancel);
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void forgetResult(ForgetResultRequest request, StreamObserver<ForgetResultResponse> out) {
        Calls.unary(out, () -> {
            pools.find(taskPool(request.getName())).forgetResult(taskId(request.getName()));
            return ForgetResultResponse.getDefaultInstance();
        });
    }

    /** The pool part of a task's name, "<pool id>/t-N". */
    private static String taskPool(String taskName) {
        int slash = taskName.lastIndexOf('/');
        if (slash <= 0 || slash == taskName.length() - 1) {
            throw new InvalidArgument("name", "is required: the task name ApplyAsync answered (\"<pool id>/t-N\")");
        }
        return taskName.substring(0, slash);
    }

    private static String taskId(String taskName) {
        return taskName.substring(taskName.lastIndexOf('/') + 1);
    }

    private static String requireId(String field, String id) {
        if (id.isEmpty()) {
            throw new InvalidArgument(field, "is required (a pool id or name)");
        }
        return id;
    }
}
