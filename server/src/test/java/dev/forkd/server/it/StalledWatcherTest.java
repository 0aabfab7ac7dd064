package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.TakeRequest;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 10: a watcher that stops reading never blocks the server. Its process writes far more than
 * any buffer while the watcher reads nothing; the process still ends, another client is served the
 * whole time, and when the watcher reads again it gets what is kept (a gap for what was dropped) and
 * then the end.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StalledWatcherTest {

    @Test
    void aWatcherThatReadsNothingBlocksNeitherItsProcessNorOtherClients() throws Exception {
        RealServer forkd = new RealServer(1);
        try {
            String id = forkd.processes().spawn(SpawnRequest.newBuilder()
                    .addAllArgv(List.of("head", "-c", "67108864", "/dev/zero")).build()).getProcess().getId();
            AtomicReference<ClientCallStreamObserver<WatchProcessRequest>> stream = new AtomicReference<>();
            CountDownLatch firstMessage = new CountDownLatch(1);
            AtomicLong bytes = new AtomicLong();
            AtomicReference<ProcessState> lastState = new AtomicReference<>();
            CompletableFuture<Void> ended = new CompletableFuture<>();
            forkd.processesAsync().watch(WatchProcessRequest.newBuilder().setName(id).setFollow(true).build(),
                    new ClientResponseObserver<WatchProcessRequest, WatchProcessResponse>() {
                        @Override
                        public void beforeStart(ClientCallStreamObserver<WatchProcessRequest> s) {
                            stream.set(s);
                            s.disableAutoRequestWithInitial(1); // one message, then nothing until asked
                        }

                        @Override
                        public void onNext(WatchProcessResponse r) {
                            bytes.addAndGet(r.getOutput().getData().size());
                            if (r.hasState()) {
                                lastState.set(r.getState().getState());
                            }
                            firstMessage.countDown();
                        }

                        @Override
                        public void onError(Throwable t) {
                            ended.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                            ended.complete(null);
                        }
                    });
            assertTrue(firstMessage.await(30, TimeUnit.SECONDS), "the watch never started");
            // 64 MiB of output while the watcher reads nothing after its first message.
            var joined = forkd.processes().join(JoinProcessRequest.newBuilder().setName(id)
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(60)).build());
            assertEquals(ProcessState.PROCESS_STATE_EXITED, joined.getProcess().getState(), joined.toString());
            // Another client is served while the watcher is still stalled.
            var queues = QueueServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            queues.create(CreateQueueRequest.newBuilder().setName("other").build());
            queues.put(PutRequest.newBuilder().setName("other")
                    .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("still served"))).build());
            assertEquals("still served", queues.take(TakeRequest.newBuilder().setName("other").build())
                    .getItems(0).getData().toStringUtf8());
            assertTrue(!ended.isDone(), "the stalled watch ended on its own");

            // The watcher reads again: what was kept, then the end.
            stream.get().request(Integer.MAX_VALUE);
            ended.get(60, TimeUnit.SECONDS);
            assertEquals(ProcessState.PROCESS_STATE_EXITED, lastState.get());
            assertTrue(bytes.get() > 0 && bytes.get() <= 64L << 20, bytes.get() + " bytes watched");
        } finally {
            forkd.closeLeavingNothing();
        }
    }
}
