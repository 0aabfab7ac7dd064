package dev.forkd.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.Delivery;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.TakeRequest;
import dev.forkd.v1.TakeResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A durable queue with a producer (numbered items, in batches) and a consumer on a Consume stream that
 * acks each delivery. No item whose put was answered is lost; an item is delivered again only across
 * a restart, and only if its ack may not have been stored yet (sent within {@link #SETTLE_NANOS} of
 * the kill): at-least-once for unacked items, exactly once for acked ones.
 */
final class QueueWorkload implements RestartWorkload {

    static final String QUEUE = "chaos-queue";
    /** An ack sent this long before a kill was stored (a group commit takes milliseconds). */
    static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final int CREDIT = 16;

    private final ForkdClient client;
    private final Random random;
    private final List<long[]> outages;
    private final Set<Long> ackedPuts = new HashSet<>();
    private final Set<Long> doubtfulPuts = new HashSet<>();
    /** Per item: when each delivery came (nanoTime). */
    private final Map<Long, List<Long>> deliveries = new HashMap<>();
    private final Map<Long, Long> ackSentAt = new HashMap<>();
    private final Set<Long> reported = new HashSet<>();
    private long next;
    private long putsAnswered;
    private long deliveriesSeen;
    private final Consumer consumer = new Consumer();

    /**
     * {@code outages}: for each restart, when the supervisor was killed and when the next one listened
     * (nanoTime), added by the test (guarded by itself).
     */
    QueueWorkload(ForkdClient client, long seed, List<long[]> outages) {
        this.client = client;
        this.random = new Random(seed);
        this.outages = outages;
    }

    @Override
    public String name() {
        return "queue producer";
    }

    /** The consumer, a workload of its own (its own thread). */
    RestartWorkload consumer() {
        return consumer;
    }

    private QueueServiceGrpc.QueueServiceBlockingStub stub() {
        return client.queues().withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** Creates the queue if it is not there, durable when the server knows durable queues. */
    void ensureQueue() {
        CreateQueueRequest.Builder create = CreateQueueRequest.newBuilder().setName(QUEUE).setIfNotExists(true);
        // Set by name so this compiles before durable queues are on main; once they are, it is set.
        FieldDescriptor durable = CreateQueueRequest.getDescriptor().findFieldByName("durable");
        if (durable != null) {
            create.setField(durable, true);
        }
        stub().create(create.build());
    }

    static boolean durableQueuesExist() {
        return CreateQueueRequest.getDescriptor().findFieldByName("durable") != null;
    }

    @Override
    public void step() {
        int n = 1 + random.nextInt(5);
        PutRequest.Builder put = PutRequest.newBuilder().setName(QUEUE);
        List<Long> batch = new ArrayList<>(n);
        synchronized (this) {
            for (int i = 0; i < n; i++) {
                long item = next++;
                batch.add(item);
                doubtfulPuts.add(item);
                put.addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8(Long.toString(item))));
            }
        }
        try {
            stub().put(put.build());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                ensureQueue(); // a server that does not keep queues lost it
            }
            throw e;
        }
        synchronized (this) {
            doubtfulPuts.removeAll(batch);
            ackedPuts.addAll(batch);
            putsAnswered += batch.size();
        }
    }

    /** A delivery, at the time it arrived (not when the consumer got to it: a kill may come between). */
    private synchronized void delivered(long item, long arrivedNanos) {
        deliveries.computeIfAbsent(item, k -> new ArrayList<>()).add(arrivedNanos);
        deliveriesSeen++;
    }

    @Override
    public synchronized List<String> verify(int restart, boolean checked) {
        List<String> problems = new ArrayList<>();
        List<long[]> restarts;
        synchronized (outages) {
            restarts = List.copyOf(outages);
        }
        for (var e : deliveries.entrySet()) {
            List<Long> times = e.getValue();
            long item = e.getKey();
            if (reported.contains(item)) {
                continue; // said once
            }
            int found = problems.size();
            if (!ackedPuts.contains(item) && !doubtfulPuts.contains(item)) {
                problems.add("item " + item + " was delivered but never put");
            }
            for (int i = 1; i < times.size(); i++) {
                long before = times.get(i - 1);
                long after = times.get(i);
                // A restart lies between when the first came before the next server listened and the
                // second after the kill (an arrival read from the socket as the server died counts as before).
                Long kill = restarts.stream().filter(o -> before < o[1] && after > o[0]).map(o -> o[0])
                        .findFirst().orElse(null);
                Long acked = ackSentAt.get(item);
                if (kill == null) {
                    problems.add("item " + item + " was delivered twice with no restart between");
                } else if (acked != null && acked > before && acked < kill - SETTLE_NANOS) {
                    problems.add("item " + item + " was delivered again after a restart, though acked "
                            + (kill - acked) / 1_000_000 + " ms before the kill");
                }
            }
            if (problems.size() > found) {
                reported.add(item);
            }
        }
        if (!checked) {
            // A server that does not keep the queue forgot it: start over from empty.
            ackedPuts.clear();
            doubtfulPuts.clear();
            deliveries.clear();
            ackSentAt.clear();
            return List.of();
        }
        return problems.stream().map(p -> "restart " + restart + ": " + p).toList();
    }

    /**
     * At the end, with no step running: ends the consumer's stream (its unacked items go back), takes
     * what is left, and names every acknowledged put that was never delivered.
     */
    List<String> drainAndFindLost() {
        consumer.close();
        while (true) {
            // Waits a while on empty: items the cancelled stream held unacked come back meanwhile.
            TakeResponse r = stub().take(TakeRequest.newBuilder().setName(QUEUE).setMaxItems(1000)
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(2)).build());
            if (r.getItemsCount() == 0) {
                break;
            }
            long now = System.nanoTime();
            r.getItemsList().forEach(i -> delivered(Long.parseLong(i.getData().toString(StandardCharsets.UTF_8)), now));
        }
        synchronized (this) {
            List<Long> lost = ackedPuts.stream().filter(i -> !deliveries.containsKey(i)).sorted().toList();
            return lost.isEmpty() ? List.of()
                    : List.of(lost.size() + " acknowledged items were never delivered: " + lost.subList(0, Math.min(20, lost.size())));
        }
    }

    @Override
    public synchronized String figures() {
        long twice = deliveries.values().stream().filter(t -> t.size() > 1).count();
        return "items put (answered) " + putsAnswered + ", deliveries " + deliveriesSeen
                + ", items delivered again after a restart (this round) " + twice;
    }

    private record Arrived(ConsumeResponse response, long nanos) {
    }

    /** The Consume stream's side: one stream at a time, opened again after it breaks. */
    private final class Consumer implements RestartWorkload {
        private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        private ClientCallStreamObserver<ConsumeRequest> stream;

        @Override
        public String name() {
            return "queue consumer";
        }

        @Override
        public void step() throws InterruptedException {
            if (stream == null) {
                open();
            }
            Object got = inbox.poll(200, TimeUnit.MILLISECONDS);
            if (got instanceof Status s) {
                stream = null;
                if (s.getCode() == Status.Code.NOT_FOUND) {
                    ensureQueue();
                }
                throw s.asRuntimeException();
            }
            if (got instanceof Arrived a) {
                for (Delivery d : a.response().getDeliveriesList()) {
                    long item = Long.parseLong(d.getItem().getData().toString(StandardCharsets.UTF_8));
                    delivered(item, a.nanos());
                    synchronized (QueueWorkload.this) {
                        ackSentAt.put(item, System.nanoTime());
                    }
                    stream.onNext(ConsumeRequest.newBuilder().addAckTags(d.getTag()).setCredit(1).build());
                }
            }
        }

        private void open() {
            inbox.clear();
            client.queuesAsync().consume(new ClientResponseObserver<ConsumeRequest, ConsumeResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<ConsumeRequest> requests) {
                    stream = requests;
                }

                @Override
                public void onNext(ConsumeResponse value) {
                    inbox.add(new Arrived(value, System.nanoTime()));
                }

                @Override
                public void onError(Throwable t) {
                    inbox.add(Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                    inbox.add(Status.UNAVAILABLE.withDescription("the consume stream ended"));
                }
            });
            stream.onNext(ConsumeRequest.newBuilder().setName(QUEUE).setCredit(CREDIT).build());
        }

        @Override
        public List<String> verify(int restart, boolean checked) {
            return List.of(); // the producer's verify judges deliveries
        }

        @Override
        public String figures() {
            return "";
        }

        @Override
        public void close() {
            if (stream != null) {
                stream.cancel("the test is over", null);
                stream = null;
            }
        }
    }
}
