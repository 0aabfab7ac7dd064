package dev.forkd.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.forkd.client.ConnectOptions;
import dev.forkd.client.Forkd;
import dev.forkd.client.ForkdClient;
import dev.forkd.client.ForkdException;
import dev.forkd.client.ForkdPool;
import dev.forkd.client.PoolSpec;
import dev.forkd.v1.ApplyAsyncRequest;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.ForgetResultRequest;
import dev.forkd.v1.GetResultRequest;
import dev.forkd.v1.GetResultResponse;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * A kept pool under supervisor kills: ApplyAsync tasks whose names were answered, collected now and
 * then (GetResult, then ForgetResult), and short maps through the Java library on a second pool.
 * After a restart every acknowledged task still yields its own result (kept, or run again), and every
 * map that answered gave each item's result in order.
 */
final class PoolWorkload implements RestartWorkload {

    private static final String POOL = "chaos-pool";

    private final ForkdClient client;
    private final Forkd forkd;
    private final ForkdPool mapPool;
    /** Acknowledged tasks not yet collected: name to the item it was given. */
    private final Map<String, String> pending = new LinkedHashMap<>();
    /** Tasks whose ForgetResult was cut off: their result may or may not be gone. */
    private final Map<String, String> forgetting = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();
    private long seq;
    private long collected;
    private long maps;

    PoolWorkload(ForkdClient client, String address) {
        this.client = client;
        stub().create(CreatePoolRequest.newBuilder().setName(POOL).setProcesses(2)
                .setWorker(WorkerSpec.newBuilder().setKind(WorkerKind.WORKER_KIND_PER_TASK)
                        .addArgv("echo").addArgv("r-{}"))
                .build());
        this.forkd = Forkd.connect(ConnectOptions.fromEnvironment(Map.of()).withAddress(address));
        this.mapPool = forkd.pool(PoolSpec.perTask("echo", "m-{}").named("chaos-map").withProcesses(2));
    }

    @Override
    public String name() {
        return "pool";
    }

    private PoolServiceGrpc.PoolServiceBlockingStub stub() {
        return client.pools().withDeadlineAfter(90, TimeUnit.SECONDS);
    }

    @Override
    public void step() {
        long n;
        synchronized (this) {
            n = ++seq;
        }
        switch ((int) (n % 3)) {
            case 0 -> map(n);
            case 1 -> {
                String item = Long.toString(n);
                String task = stub().applyAsync(ApplyAsyncRequest.newBuilder().setName(POOL)
                        .setInput(TaskInput.newBuilder().setItem(ByteString.copyFromUtf8(item))).build()).getName();
                synchronized (this) {
                    pending.put(task, item);
                }
            }
            default -> {
                Map.Entry<String, String> oldest;
                synchronized (this) {
                    oldest = pending.isEmpty() ? null : pending.entrySet().iterator().next();
                }
                if (oldest != null) {
                    collect(oldest.getKey(), oldest.getValue(), 0);
                }
            }
        }
    }

    private void map(long n) {
        List<String> items = IntStream.range(0, 4).mapToObj(i -> n + "." + i).toList();
        List<byte[]> out;
        try {
            out = mapPool.map(items.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList());
        } catch (ForkdException e) {
            throw Status.fromCode(e.code()).withDescription(e.getMessage()).asRuntimeException();
        }
        List<String> got = out.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
        List<String> want = items.stream().map(s -> "m-" + s + "\n").toList();
        synchronized (this) {
            maps++;
            if (!got.equals(want)) {
                problems.add("map " + n + " answered " + got + ", not " + want);
            }
        }
    }

    /** Takes a task's result (waiting up to {@code waitSeconds}), checks it, and forgets it. */
    private void collect(String task, String item, long waitSeconds) {
        GetResultResponse r = stub().getResult(GetResultRequest.newBuilder().setName(task)
                .setTimeout(Duration.newBuilder().setSeconds(waitSeconds)).build());
        if (!r.getReady()) {
            return;
        }
        String out = r.getResult().getOutput().toStringUtf8();
        synchronized (this) {
            if (!out.equals("r-" + item + "\n")) {
                problems.add(task + " answered " + out.strip() + " for item " + item);
            }
            pending.remove(task);
            forgetting.put(task, item);
        }
        stub().forgetResult(ForgetResultRequest.newBuilder().setName(task).build());
        synchronized (this) {
            forgetting.remove(task);
            collected++;
        }
    }

    @Override
    public synchronized List<String> verify(int restart, boolean checked) {
        List<String> found = new ArrayList<>(problems);
        problems.clear();
        for (var e : List.copyOf(pending.entrySet())) {
            try {
                collect(e.getKey(), e.getValue(), 60);
                if (pending.containsKey(e.getKey())) {
                    found.add("restart " + restart + ": " + e.getKey() + " (acknowledged) has no result after 60 s");
                }
            } catch (StatusRuntimeException x) {
                found.add("restart " + restart + ": " + e.getKey() + " (acknowledged): " + x.getStatus());
                pending.remove(e.getKey());
            }
        }
        forgetting.clear(); // in doubt: kept or forgotten, either is right
        return checked ? found.stream().map(p -> p.startsWith("restart") ? p : "restart " + restart + ": " + p).toList()
                : List.of();
    }

    @Override
    public synchronized String figures() {
        return "tasks collected " + collected + ", maps " + maps;
    }

    @Override
    public void close() {
        forkd.close();
    }
}
