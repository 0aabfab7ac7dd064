package dev.forkd.server.limits;

import com.google.protobuf.ByteString;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.TakeRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Another client going about its work the whole time a test fills the server's bounds: health,
 * its own process, a put and a take on its own queue. Reads must always succeed; a write may be
 * refused only as RESOURCE_EXHAUSTED with a reason (the global budget is full for everyone).
 */
final class SentinelClient implements AutoCloseable {

    private final Channel channel;
    private final String processId;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final java.util.Map<String, Integer> failures = new java.util.LinkedHashMap<>();
    private final AtomicLong rounds = new AtomicLong();
    private final Thread thread;

    SentinelClient(Channel channel) {
        this.channel = channel;
        this.processId = ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                .spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("100000").setName("limits-sentinel").build())
                .getProcess().getId();
        QueueServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .create(CreateQueueRequest.newBuilder().setName("limits-sentinel-q").build());
        this.thread = Thread.ofPlatform().daemon().name("sentinel-client").start(this::run);
    }

    private void run() {
        while (running.get()) {
            try {
                HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance());
                ProcessState s = ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .get(GetProcessRequest.newBuilder().setName(processId).build()).getProcess().getState();
                if (s != ProcessState.PROCESS_STATE_RUNNING) {
                    fail("its process is " + s);
                }
                var queues = QueueServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
                boolean put = false;
                try {
                    put = queues.put(PutRequest.newBuilder().setName("limits-sentinel-q")
                            .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("ping"))).build()).getPut() == 1;
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED || Refusals.reason(e).isEmpty()) {
                        fail("put: " + e.getStatus());
                    }
                }
                if (put && queues.withDeadlineAfter(10, TimeUnit.SECONDS).take(TakeRequest.newBuilder()
                        .setName("limits-sentinel-q").setMaxItems(1).build()).getItemsCount() != 1) {
                    fail("take found nothing after its put");
                }
                rounds.incrementAndGet();
            } catch (StatusRuntimeException e) {
                fail(e.getStatus().toString());
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private synchronized void fail(String what) {
        if (failures.size() < 20 || failures.containsKey(what)) {
            failures.merge(what, 1, Integer::sum);
        }
    }

    /** Each distinct failure, with how many rounds it happened in. */
    synchronized List<String> failures() {
        List<String> out = new ArrayList<>();
        failures.forEach((what, n) -> out.add(what + (n > 1 ? " (" + n + " times)" : "")));
        return out;
    }

    long rounds() {
        return rounds.get();
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join(30_000);
    }
}
