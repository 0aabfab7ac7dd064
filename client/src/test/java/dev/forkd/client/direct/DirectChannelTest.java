package dev.forkd.client.direct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.client.ForkdClient;
import dev.forkd.server.ForkdServer;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SetValueRequest;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.SyncServiceGrpc;
import dev.forkd.v1.WaitEventRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The direct channel against a real server, side by side with grpc-java's channel: the same answers,
 * the same refusals (status, message, details), answers past the flow-control windows, deadlines,
 * and a server that is not there.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DirectChannelTest {

    /** Back-off waits of zero: retries happen at once, so a test of them takes no time. */
    private static final RandomGenerator NO_WAIT = () -> 0L;

    private Path dir;
    private ForkdServer server;
    private Path socket;
    private ForkdClient grpc;
    private ForkdClient direct;
    private final List<String> spawned = new ArrayList<>();

    @BeforeAll
    void start() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "fkd");
        socket = dir.resolve("s.sock");
        server = ForkdServer.start(ServerConfig.defaults(new ForkdPaths(dir))
                .withListen(new ListenAddress.Unix(socket)).withAgents(1));
        grpc = ForkdClient.connect(server.address(), Optional.empty(), Optional.empty());
        direct = ForkdClient.connectForCommand(server.address(), Optional.empty(), Optional.empty(),
                dev.forkd.client.ClientTls.none());
    }

    @AfterAll
    void stop() throws IOException {
        for (String id : spawned) {
            grpc.processes().signal(SignalRequest.newBuilder().setName(id).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        }
        direct.close();
        grpc.close();
        server.close();
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private DirectChannel smallWindowChannel() {
        return new DirectChannel(UnixDomainSocketAddress.of(socket), "localhost", 16 * 1024, NO_WAIT);
    }

    private String spawn(String name, String... argv) {
        String id = grpc.processes().spawn(SpawnRequest.newBuilder().setName(name).addAllArgv(List.of(argv)).build())
                .getProcess().getId();
        spawned.add(id);
        return id;
    }

    @Test
    void answersAsTheGrpcChannelDoes() {
        String id = spawn("same-answer", "sleep", "600");
        var request = GetProcessRequest.newBuilder().setName(id).build();
        var viaGrpc = grpc.processes().get(request).getProcess();
        var viaDirect = direct.processes().withDeadlineAfter(10, TimeUnit.SECONDS).get(request).getProcess();
        assertEquals(viaGrpc.toBuilder().clearOutputEndOffset().build(),
                viaDirect.toBuilder().clearOutputEndOffset().build());
        var list = ListProcessesRequest.getDefaultInstance();
        assertEquals(grpc.processes().list(list).getProcessesList().stream().map(p -> p.getId()).toList(),
                direct.processes().list(list).getProcessesList().stream().map(p -> p.getId()).toList());
    }

    @Test
    void refusalsCarryTheSameStatusMessageAndDetails() {
        for (Function<ForkdClient, Object> call : List.<Function<ForkdClient, Object>>of(
                c -> c.processes().get(GetProcessRequest.newBuilder().setName("no-such-process").build()),
                c -> c.shared().getValue(GetValueRequest.newBuilder().setName("no such value, é").build()),
                c -> c.shared().setValue(SetValueRequest.newBuilder().setName("").build()))) {
            StatusRuntimeException viaGrpc = assertThrows(StatusRuntimeException.class, () -> call.apply(grpc));
            StatusRuntimeException viaDirect = assertThrows(StatusRuntimeException.class, () -> call.apply(direct));
            assertEquals(viaGrpc.getStatus().getCode(), viaDirect.getStatus().getCode());
            assertEquals(viaGrpc.getStatus().getDescription(), viaDirect.getStatus().getDescription());
            assertEquals(StatusProto.fromThrowable(viaGrpc), StatusProto.fromThrowable(viaDirect));
            assertTrue(StatusProto.fromThrowable(viaDirect).getDetailsCount() > 0, "the refusal's details arrive");
        }
    }

    @Test
    void anAnswerLargerThanTheWindowsArrivesWhole() {
        String big = "x".repeat(900 * 1024); // past the 64 KiB connection window and the 16 KiB stream window
        grpc.shared().setValue(SetValueRequest.newBuilder().setName("big")
                .setValue(Scalar.newBuilder().setStringValue(big)).build());
        try (DirectChannel channel = smallWindowChannel()) {
            var stub = SharedServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            var request = GetValueRequest.newBuilder().setName("big").build();
            assertEquals(big, stub.getValue(request).getValue().getStringValue());
            assertEquals(big, stub.getValue(request).getValue().getStringValue(), "a second call on the same connection");
        }
    }

    @Test
    void aLongListingArrivesWholeThroughSmallWindows() {
        for (int i = 0; i < 40; i++) {
            spawn("listed-" + i, "sh", "-c", "exec sleep 600", "a-long-argument-".repeat(100));
        }
        var request = ListProcessesRequest.getDefaultInstance();
        try (DirectChannel channel = smallWindowChannel()) {
            var viaDirect = ProcessServiceGrpc.newBlockingStub(channel).list(request);
            assertTrue(viaDirect.getSerializedSize() > 64 * 1024, "the listing crosses the stream and connection windows");
            assertEquals(grpc.processes().list(request).getProcessesList().stream().map(p -> p.getId()).toList(),
                    viaDirect.getProcessesList().stream().map(p -> p.getId()).toList());
        }
    }

    @Test
    void aCallPastItsDeadlineEndsDeadlineExceeded() {
        var wait = WaitEventRequest.newBuilder().setName("never-set").build(); // waits until set: never
        try (DirectChannel channel = smallWindowChannel()) {
            var sync = SyncServiceGrpc.newBlockingStub(channel);
            StatusRuntimeException viaDirect = assertThrows(StatusRuntimeException.class,
                    () -> sync.withDeadlineAfter(300, TimeUnit.MILLISECONDS).waitEvent(wait));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, viaDirect.getStatus().getCode());
            // The connection whose stream timed out (and was reset) serves the next call.
            var look = WaitEventRequest.newBuilder().setName("never-set").setTimeout(Duration.getDefaultInstance()).build();
            assertEquals(false, sync.withDeadlineAfter(10, TimeUnit.SECONDS).waitEvent(look).getIsSet());
        }
    }

    @Test
    void aServerThatHangsUpIsUnavailableAfterTheRetriesOfACallThatChangesNothing() throws Exception {
        Path standIn = dir.resolve("hangs-up.sock");
        AtomicInteger accepted = new AtomicInteger();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(standIn));
            Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
                while (true) {
                    try (SocketChannel c = listener.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
            try (DirectChannel channel = new DirectChannel(UnixDomainSocketAddress.of(standIn), "localhost", 65_535, NO_WAIT)) {
                var list = ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> list.list(ListProcessesRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
                assertEquals(5, accepted.get(), "List is repeated up to RetryPolicy.MAX_ATTEMPTS times");

                var spawnStub = ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
                StatusRuntimeException once = assertThrows(StatusRuntimeException.class,
                        () -> spawnStub.spawn(SpawnRequest.newBuilder().addArgv("true").build()));
                assertEquals(Status.Code.UNAVAILABLE, once.getStatus().getCode());
                assertEquals(6, accepted.get(), "Spawn is never repeated");
            } finally {
                listener.close();
                acceptor.join(10_000);
            }
        }
    }

    @Test
    void noServerAtAllIsUnavailableInGrpcsWords() {
        Path missing = dir.resolve("nothing-here.sock");
        try (DirectChannel channel = new DirectChannel(UnixDomainSocketAddress.of(missing), "localhost", 65_535, NO_WAIT)) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> ProcessServiceGrpc.newBlockingStub(channel).list(ListProcessesRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            assertEquals("io exception", e.getStatus().getDescription());
        }
    }

    @Test
    void streamingCallsAreRefusedByTheDirectChannelAndServedByGrpcsInAForCommandClient() {
        try (DirectChannel channel = smallWindowChannel()) {
            assertThrows(IllegalArgumentException.class, () -> ProcessServiceGrpc.newBlockingStub(channel)
                    .watch(dev.forkd.v1.WatchProcessRequest.newBuilder().setName("x").build()).hasNext());
        }
    }
}
