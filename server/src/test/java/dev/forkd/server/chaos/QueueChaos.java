package dev.forkd.server.chaos;

import com.google.protobuf.ByteString;
import dev.forkd.server.suites.ServerProcess;
import dev.forkd.server.suites.TestSession;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.Delivery;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Consumers of one queue, each a session with a Consume stream that acks what it gets, killed
 * (session and stream reset) by the chaos loop or closed cleanly. An ack sent on a stream that then
 * closed cleanly was surely processed: an item acked so and delivered again is a duplicate. An ack
 * on a killed stream may or may not have arrived, so its item may come again. An item put that no
 * consumer ever acked by the end (after a clean drain) is lost.
 */
final class QueueChaos {

    static final String QUEUE = "chaos-q";

    private final ServerProcess server;
    private final Map<String, Integer> settledAcks = new HashMap<>();
    private final Map<String, Integer> deliveries = new HashMap<>();
    private final java.util.Set<String> ackSent = new java.util.HashSet<>();
    private final List<String> duplicates = new ArrayList<>();
    private int put;
    // The books, kept apart from the consumer management: the stream callbacks take only this.
    private final Object books = new Object();
    private Consumer current;

    QueueChaos(ServerProcess server) {
        this.server = server;
        QueueServiceGrpc.newBlockingStub(server.newChannel()).withDeadlineAfter(30, TimeUnit.SECONDS)
                .create(CreateQueueRequest.newBuilder().setName(QUEUE).build());
    }

    /** Puts {@code n} new items (the producer is not a target). */
    synchronized void produce(io.grpc.Channel channel, int n) {
        PutRequest.Builder b = PutRequest.newBuilder().setName(QUEUE);
        for (int i = 0; i < n; i++) {
            b.addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("item-" + put++)));
        }
        QueueServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).put(b.build());
    }

    /** Starts a consumer if none runs. */
    synchronized void ensureConsumer() throws Exception {
        if (current == null) {
            current = new Consumer(TestSession.open(server.newChannel(), "chaos-consumer"));
        }
    }

    /** The chaos: the consumer dies without a word (its acks in flight may or may not count). */
    synchronized boolean killConsumer() {
        if (current == null) {
            return false;
        }
        current.kill();
        current = null;
        return true;
    }

    /** A clean end: acks sent, stream half-closed, the server's close awaited; its acks then count. */
    synchronized void closeConsumer() throws Exception {
        if (current != null) {
            current.closeCleanly();
            current = null;
        }
    }

    /** Drains what is left with a clean consumer, then reports items lost and acked twice. */
    synchronized List<String> verify() throws Exception {
        closeConsumer();
        for (int round = 0; round < 3 && ackSentCount() < put; round++) {
            ensureConsumer();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ackSentCount() < put && System.nanoTime() < deadline) {
                current.awaitMore(200);
            }
            closeConsumer();
        }
        List<String> problems;
        synchronized (books) {
            problems = new ArrayList<>(duplicates);
        }
        for (int i = 0; i < put; i++) {
            if (!ackSentContains("item-" + i)) {
                problems.add("item-" + i + " was put and never acked (lost)");
            }
        }
        return problems;
    }

    private boolean ackSentContains(String item) {
        synchronized (books) {
            return ackSent.contains(item);
        }
    }

    synchronized int itemsPut() {
        return put;
    }

    /** Deliveries, redeliveries included. */
    long deliveries() {
        synchronized (books) {
            return deliveries.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    private int ackSentCount() {
        synchronized (books) {
            return ackSent.size();
        }
    }

    private void ackSent(List<String> items) {
        synchronized (books) {
            ackSent.addAll(items);
        }
    }

    private void settle(List<String> items) {
        synchronized (books) {
            for (String item : items) {
                if (settledAcks.merge(item, 1, Integer::sum) > 1) {
                    duplicates.add(item + " acked again after an ack the server had processed");
                }
            }
        }
    }

    private void delivered(String item) {
        synchronized (books) {
            deliveries.merge(item, 1, Integer::sum);
            if (settledAcks.containsKey(item)) {
                duplicates.add(item + " delivered again after an ack the server had processed");
            }
        }
    }

    private final class Consumer implements StreamObserver<ConsumeResponse> {
        private final TestSession session;
        private final StreamObserver<ConsumeRequest> requests;
        private final List<String> acked = new ArrayList<>();
        private final CompletableFuture<Void> closed = new CompletableFuture<>();
        private final Object more = new Object();
        private boolean halfClosed;

        Consumer(TestSession session) {
            this.session = session;
            this.requests = QueueServiceGrpc.newStub(session.channel).consume(this);
            synchronized (this) {
                requests.onNext(ConsumeRequest.newBuilder().setName(QUEUE).setCredit(4).build());
            }
        }

        @Override
        public void onNext(ConsumeResponse r) {
            List<Long> tags = new ArrayList<>();
            List<String> items = new ArrayList<>();
            for (Delivery d : r.getDeliveriesList()) {
                String item = d.getItem().getData().toStringUtf8();
                delivered(item);
                items.add(item);
                tags.add(d.getTag());
            }
            synchronized (this) {
                if (!tags.isEmpty() && !halfClosed) {
                    try {
                        requests.onNext(ConsumeRequest.newBuilder().addAllAckTags(tags).setCredit(tags.size()).build());
                        acked.addAll(items); // sent before the half-close: processed if the stream closes cleanly
                        ackSent(items);
                    } catch (RuntimeException e) {
                        // killed meanwhile: not acked
                    }
                }
            }
            synchronized (more) {
                more.notifyAll();
            }
        }

        @Override
        public void onError(Throwable t) {
            closed.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            closed.complete(null);
        }

        void awaitMore(long millis) throws InterruptedException {
            synchronized (more) {
                more.wait(millis);
            }
        }

        void kill() {
            session.cancel();
        }

        void closeCleanly() throws Exception {
            synchronized (this) {
                halfClosed = true;
                requests.onCompleted();
            }
            try {
                closed.get(30, TimeUnit.SECONDS);
                List<String> done;
                synchronized (this) {
                    done = List.copyOf(acked);
                }
                settle(done);
            } catch (Exception e) {
                // the server did not confirm: these acks are unsettled, redelivery is allowed
            } finally {
                session.close();
            }
        }
    }
}
