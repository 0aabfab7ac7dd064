package dev.forkd.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.ErrorInfo;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.shared.SharedStore;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreException;
import dev.forkd.server.store.StoreRow;
import dev.forkd.server.store.StoreWrite;
import dev.forkd.v1.AddValueRequest;
import dev.forkd.v1.AddValueResponse;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.GetValueResponse;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SharedServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SharedService answers a change only once the state store has committed it, and a read only once
 * what it saw is committed: with a store whose commits the test releases by hand, nothing is
 * answered before the release. Both sides run on direct executors, so an early answer would already
 * have arrived when the call returns.
 */
@Timeout(30)
class SharedServiceCommitTest {

    /** A store that commits only when the test says so. */
    private static final class HeldStore implements StateStore {
        final LinkedBlockingQueue<CompletableFuture<Void>> held = new LinkedBlockingQueue<>();

        @Override
        public boolean keeps() {
            return true;
        }

        @Override
        public CompletableFuture<Void> write(List<StoreWrite> writes) {
            var commit = new CompletableFuture<Void>();
            held.add(commit);
            return commit;
        }

        @Override
        public List<StoreRow> load(String kind) {
            return List.of();
        }

        @Override
        public List<String> kinds(String prefix) {
            return List.of();
        }

        @Override
        public void close() {
        }
    }

    private final HeldStore store = new HeldStore();
    private final ExecutorService answers = Executors.newSingleThreadExecutor();
    private Server server;
    private ManagedChannel channel;
    private SharedServiceGrpc.SharedServiceStub stub;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        var shared = new SharedStore(SharedStore.Limits.DEFAULT, MemoryBudget.unlimited(), store);
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(new SharedServiceAdapter(shared, answers)).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = SharedServiceGrpc.newStub(channel);
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        answers.shutdownNow();
    }

    private static <T> StreamObserver<T> into(CompletableFuture<T> answer) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        };
    }

    private CompletableFuture<AddValueResponse> add() {
        var answer = new CompletableFuture<AddValueResponse>();
        stub.addValue(AddValueRequest.newBuilder().setName("n").setDelta(Scalar.newBuilder().setInt64Value(1)).build(),
                into(answer));
        return answer;
    }

    @Test
    void anAddAndAReadThatSawItAreAnsweredOnlyOnceTheAddIsCommitted() throws Exception {
        var added = add();
        var read = new CompletableFuture<GetValueResponse>();
        stub.getValue(GetValueRequest.newBuilder().setName("n").build(), into(read));
        assertFalse(added.isDone(), "the add was answered before its commit");
        assertFalse(read.isDone(), "the read was answered before the add it saw was committed");

        store.held.poll(10, TimeUnit.SECONDS).complete(null);
        assertEquals(1, added.get(10, TimeUnit.SECONDS).getValue().getInt64Value());
        assertEquals(1, read.get(10, TimeUnit.SECONDS).getValue().getInt64Value());
    }

    @Test
    void aChangeTheStoreCannotKeepIsAnsweredUnavailableNamingTheStore() throws Exception {
        var added = add();
        store.held.poll(10, TimeUnit.SECONDS).completeExceptionally(new StoreException("disk full"));
        var failure = assertThrowsCause(added);
        assertEquals(Status.Code.UNAVAILABLE, Status.fromThrowable(failure).getCode());
        var info = StatusProto.fromThrowable(failure).getDetails(0).unpack(ErrorInfo.class);
        assertEquals("STATE_STORE_UNAVAILABLE", info.getReason());
        assertTrue(failure.getMessage().contains("disk full"), failure.getMessage());
    }

    private static Throwable assertThrowsCause(CompletableFuture<?> answer) throws Exception {
        try {
            answer.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("answered OK: " + answer.get());
    }
}
