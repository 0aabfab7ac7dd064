package dev.forkd.client;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import dev.forkd.v1.ApplyAsyncRequest;
import dev.forkd.v1.ApplyRequest;
import dev.forkd.v1.ClosePoolRequest;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.DeletePoolRequest;
import dev.forkd.v1.ForgetResultRequest;
import dev.forkd.v1.GetResultRequest;
import dev.forkd.v1.JoinPoolRequest;
import dev.forkd.v1.MapRequest;
import dev.forkd.v1.MapResponse;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.ResultOrder;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.TerminatePoolRequest;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.List;

/** The pool RPCs in the library's types: the only pool code that knows the protos. */
final class PoolCalls {

    /** A task's input: one item, or starmap's arguments. */
    sealed interface Input {
        record Item(byte[] bytes) implements Input {}
        record Args(List<String> args) implements Input {}
    }

    private final Rpc rpc;

    PoolCalls(Rpc rpc) {
        this.rpc = rpc;
    }

    /** Creates the pool; answers its id. */
    String create(PoolSpec spec) {
        CreatePoolRequest.Builder b = CreatePoolRequest.newBuilder()
                .setWorker(WorkerSpec.newBuilder()
                        .setKind(spec.persistent() ? WorkerKind.WORKER_KIND_PERSISTENT : WorkerKind.WORKER_KIND_PER_TASK)
                        .addAllArgv(spec.argv()).putAllEnv(spec.env()))
                .setMaxRetries(spec.maxRetries());
        spec.processes().ifPresent(b::setProcesses);
        spec.name().ifPresent(b::setName);
        spec.taskTimeout().ifPresent(t -> b.setTaskTimeout(ProtoTime.of(t)));
        return Rpc.call(() -> rpc.pools().create(b.build())).getPool().getId();
    }

    TaskResult apply(String pool, Input input) throws InterruptedException {
        return result(Rpc.interruptibly(rpc.poolsWaiting(null).apply(ApplyRequest.newBuilder().setName(pool)
                .setInput(input(input)).build())).getResult());
    }

    String applyAsync(String pool, Input input) {
        return Rpc.call(() -> rpc.pools().applyAsync(ApplyAsyncRequest.newBuilder().setName(pool)
                .setInput(input(input)).build())).getName();
    }

    /**
     * The result of an ApplyAsync task (named {@code <pool>/t-N}), when it is ready; a failed task
     * completes exceptionally. GetResult is idempotent, so the server keeps the result until
     * {@link #forget}.
     */
    ListenableFuture<TaskResult> result(String task) {
        return Rpc.map(rpc.poolsWaiting(null).getResult(GetResultRequest.newBuilder().setName(task).build()),
                r -> result(r.getResult()));
    }

    /** Lets the server drop a result that was handed out; nothing waits for the answer. */
    void forget(String task) {
        rpc.poolsFuture().forgetResult(ForgetResultRequest.newBuilder().setName(task).build());
    }

    void close(String pool) {
        Rpc.call(() -> rpc.pools().close(ClosePoolRequest.newBuilder().setName(pool).build()));
    }

    void terminate(String pool) {
        Rpc.call(() -> rpc.pools().terminate(TerminatePoolRequest.newBuilder().setName(pool).build()));
    }

    /** True when the pool ended within {@code timeout} (null: no limit). */
    ListenableFuture<Boolean> join(String pool, Duration timeout) {
        JoinPoolRequest.Builder b = JoinPoolRequest.newBuilder().setName(pool);
        if (timeout != null) {
            b.setTimeout(ProtoTime.of(timeout));
        }
        return Rpc.map(rpc.poolsWaiting(timeout).join(b.build()), r -> !r.getTimedOut());
    }

    void delete(String pool) {
        Rpc.call(() -> rpc.pools().delete(DeletePoolRequest.newBuilder().setName(pool).build()));
    }

    void map(ClientResponseObserver<MapRequest, MapResponse> observer) {
        rpc.poolsAsync().map(observer);
    }

    static MapRequest mapStart(String pool, boolean ordered) {
        return MapRequest.newBuilder().setStart(MapStart.newBuilder().setName(pool)
                .setOrder(ordered ? ResultOrder.RESULT_ORDER_INPUT : ResultOrder.RESULT_ORDER_COMPLETION)).build();
    }

    static MapRequest mapItems(List<Input> inputs) {
        MapRequest.Builder b = MapRequest.newBuilder();
        inputs.forEach(i -> b.addItems(input(i)));
        return b.build();
    }

    private static TaskInput input(Input input) {
        return switch (input) {
            case Input.Item(byte[] bytes) -> TaskInput.newBuilder().setItem(ByteString.copyFrom(bytes)).build();
            case Input.Args(List<String> args) -> TaskInput.newBuilder().addAllArgs(args).build();
        };
    }

    /** A task's output, or its failure thrown. */
    static TaskResult result(dev.forkd.v1.TaskResult r) {
        if (r.hasFailure()) {
            var f = r.getFailure();
            TaskFailedException.Kind kind = switch (f.getKind()) {
                case TASK_FAILURE_KIND_EXIT -> TaskFailedException.Kind.EXIT;
                case TASK_FAILURE_KIND_WORKER_DIED -> TaskFailedException.Kind.WORKER_DIED;
                case TASK_FAILURE_KIND_TIMEOUT -> TaskFailedException.Kind.TIMEOUT;
                case TASK_FAILURE_KIND_START -> TaskFailedException.Kind.START;
                case TASK_FAILURE_KIND_TERMINATED -> TaskFailedException.Kind.TERMINATED;
                case TASK_FAILURE_KIND_INITIALIZER -> TaskFailedException.Kind.INITIALIZER;
                default -> TaskFailedException.Kind.OTHER;
            };
            throw new TaskFailedException(r.getIndex(), kind, f.getExitCode(), f.getStderrTail().toByteArray(),
                    f.getMessage());
        }
        return new TaskResult(r.getIndex(), r.getOutput().toByteArray());
    }

    /** The results of one Map response, failures kept as such for the iterator to throw in turn. */
    static List<dev.forkd.v1.TaskResult> results(MapResponse r) {
        return r.getResultsList();
    }
}
