package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.Delivery;
import dev.forkd.v1.GetQueueRequest;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.TakeRequest;
import dev.forkd.v1.TakeResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A durable queue across a SIGKILL of a real {@code forkd serve} and a restart on the same state
 * directory: every put that was answered is there (or was acked), acked items never come back, and
 * nothing is delivered twice except deliveries that were not acked.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DurableQueueRestartTest {

    @TempDir
    Path state;

    private RunningServer serve() throws Exception {
        return RunningServer.start(dir -> List.of("--listen", "unix:" + dir.resolve("s.sock"), "--state-dir",
                state.toString()), Map.of(), command -> command);
    }

    private static ForkdClient connect(RunningServer server) {
        return ForkdClient.connect(new ListenAddress.Unix(server.socket), Optional.empty(), Optional.empty());
    }

    private static void put(ForkdClient client, int n) {
        client.queues().withDeadlineAfter(60, TimeUnit.SECONDS).put(PutRequest.newBuilder().setName("jobs")
                .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8(Integer.toString(n)))).build());
    }

    private static int number(QueueItem item) {
        return Integer.parseInt(item.getData().toString(StandardCharsets.UTF_8));
    }

    @Test
    void answeredPutsSurviveASigkillAndAckedItemsNeverComeBack() throws Exception {
        List<Integer> acked = new ArrayList<>();
        List<Integer> unacked = new ArrayList<>();
        Set<Integer> answered = java.util.concurrent.ConcurrentHashMap.newKeySet();
        RunningServer first = serve();
        try (ForkdClient client = connect(first)) {
            Cli cli = Cli.against(first);
            Cli.Result created = cli.run("queue", "create", "--durable", "jobs");
            assertEquals(0, created.code(), created.toString());
            Cli.Result ls = cli.run("queue", "ls");
            assertTrue(ls.out().lines().anyMatch(l -> l.contains(" jobs ") && l.endsWith("yes")), ls.out());
            for (int i = 0; i < 200; i++) {
                put(client, i);
                answered.add(i);
            }

            // A consumer is given 100 items, acks the first 60 and dies with the server holding 40.
            LinkedBlockingQueue<Delivery> delivered = new LinkedBlockingQueue<>();
            StreamObserver<ConsumeRequest> consume = client.queuesAsync().consume(new StreamObserver<>() {
                @Override
                public void onNext(ConsumeResponse r) {
                    delivered.addAll(r.getDeliveriesList());
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            });
            consume.onNext(ConsumeRequest.newBuilder().setName("jobs").setCredit(100).build());
            List<Delivery> got = new ArrayList<>();
            while (got.size() < 100) {
                Delivery d = delivered.poll(60, TimeUnit.SECONDS);
                assertTrue(d != null, "only " + got.size() + " of 100 deliveries came");
                got.add(d);
            }
            consume.onNext(ConsumeRequest.newBuilder().setAckThrough(got.get(59).getTag()).build());
            got.subList(0, 60).forEach(d -> acked.add(number(d.getItem())));
            got.subList(60, 100).forEach(d -> unacked.add(number(d.getItem())));
            // The ack has no answer: wait until the server has applied it; a put answered after that
            // was committed after the ack's removal (the store keeps writes in order).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (client.queues().get(GetQueueRequest.newBuilder().setName("jobs").build()).getQueue().getInFlight() != 40) {
                assertTrue(System.nanoTime() < deadline, "the ack was not applied");
                Thread.sleep(10);
            }

            // Puts keep coming while the server is killed: each one answered must survive.
            CountDownLatch going = new CountDownLatch(50);
            ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
            Thread producer = Thread.ofPlatform().start(() -> {
                for (int i = 1000; ; i++) {
                    try {
                        put(client, i);
                    } catch (StatusRuntimeException e) {
                        return; // the server died under this put: it was not answered
                    } catch (RuntimeException e) {
                        unexpected.add(e);
                        return;
                    }
                    answered.add(i);
                    going.countDown();
                }
            });
            assertTrue(going.await(60, TimeUnit.SECONDS), "the producer did not get going");
            first.process.destroyForcibly(); // SIGKILL
            assertTrue(first.process.waitFor(30, TimeUnit.SECONDS));
            producer.join(TimeUnit.SECONDS.toMillis(60));
            assertFalse(producer.isAlive());
            assertTrue(unexpected.isEmpty(), unexpected.toString());
        } finally {
            RunningServer.deleteTree(first.dir);
        }

        try (RunningServer second = serve(); ForkdClient client = connect(second)) {
            List<Integer> after = new ArrayList<>();
            while (true) {
                TakeResponse r = client.queues().withDeadlineAfter(60, TimeUnit.SECONDS).take(TakeRequest.newBuilder()
                        .setName("jobs").setMaxItems(1000).setTimeout(com.google.protobuf.Duration.getDefaultInstance())
                        .build());
                if (r.getTimedOut()) {
                    break;
                }
                r.getItemsList().forEach(i -> after.add(number(i)));
            }
            assertEquals(after.size(), new HashSet<>(after).size(), "an item came back twice: " + after);
            for (int a : acked) {
                assertFalse(after.contains(a), "acked item " + a + " came back");
            }
            assertTrue(after.containsAll(unacked), "unacked items lost: " + unacked + " vs " + after);
            Set<Integer> expected = new HashSet<>(answered);
            acked.forEach(expected::remove);
            assertTrue(after.containsAll(expected), "answered puts lost");
            List<Integer> sorted = new ArrayList<>(after);
            sorted.sort(null);
            assertEquals(sorted, after, "not in put order");
            // Anything else is a put the server died under: committed, just not answered.
            for (int x : after) {
                assertTrue(expected.contains(x) || x >= 1000, "item " + x + " was never put");
            }
        }
    }
}
