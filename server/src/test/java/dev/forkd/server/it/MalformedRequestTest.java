package dev.forkd.server.it;

import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.v1.GetQueueRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.QueueServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bytes that are not a request message answer INVALID_ARGUMENT, the server goes on answering, and
 * the log does not grow by a stack trace per bad call (it grew 75 MB over 27,600 fuzzed calls).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MalformedRequestTest {

    private static RealServer forkd;
    private static final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    private static final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logged.add(r);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(1);
        Logger.getLogger("").addHandler(capture);
    }

    @AfterAll
    static void stop() throws Exception {
        Logger.getLogger("").removeHandler(capture);
        forkd.closeLeavingNothing();
    }

    private static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /** A unary method of the server, called with raw bytes. */
    private static MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<?, ?> real) {
        return MethodDescriptor.<byte[], byte[]>newBuilder(RAW, RAW)
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(real.getFullMethodName())
                .build();
    }

    /** Bytes no protobuf parser accepts: a field tag with wire type 7 (there is none), then noise. */
    private static byte[] garbage() {
        byte[] b = new byte[64 + ThreadLocalRandom.current().nextInt(64)];
        ThreadLocalRandom.current().nextBytes(b);
        b[0] = (byte) 0x0f;
        return b;
    }

    @Test
    void garbageBytesAreInvalidArgumentAndLogNoStackTraces() {
        logged.clear();
        var methods = List.of(raw(QueueServiceGrpc.getGetMethod()), raw(ProcessServiceGrpc.getSpawnMethod()),
                raw(ProcessServiceGrpc.getListMethod()));
        int calls = 300;
        for (int i = 0; i < calls; i++) {
            var method = methods.get(i % methods.size());
            try {
                ClientCalls.blockingUnaryCall(forkd.channel, method, CallOptions.DEFAULT.withDeadlineAfter(20,
                        TimeUnit.SECONDS), garbage());
                throw new AssertionError("garbage was accepted by " + method.getFullMethodName());
            } catch (StatusRuntimeException e) {
                assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
                assertEquals("MALFORMED_REQUEST", reason(e));
                assertTrue(e.getStatus().getDescription().length() < 300, e.getStatus().getDescription());
            }
        }
        // The server still answers well-formed calls on the same channel.
        forkd.processes().list(ListProcessesRequest.getDefaultInstance());
        var notFound = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class, () ->
                QueueServiceGrpc.newBlockingStub(forkd.channel).get(GetQueueRequest.newBuilder().setName("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, notFound.getStatus().getCode());

        long withTrace = logged.stream().filter(r -> r.getThrown() != null).count();
        long chars = logged.stream().mapToLong(r -> String.valueOf(r.getMessage()).length()).sum();
        assertEquals(0, withTrace, "stack traces logged for malformed requests");
        assertTrue(logged.size() <= 3, calls + " malformed calls logged " + logged.size() + " records");
        assertTrue(chars < 2_000, calls + " malformed calls logged " + chars + " characters");
    }

    @Test
    void unixSocketConnectionsLogNoKeepAliveWarning() throws Exception {
        logged.clear();
        EpollEventLoopGroup group = new EpollEventLoopGroup(1);
        try {
            for (int i = 0; i < 5; i++) {
                // A client that sets no SO_KEEPALIVE itself: any warning is the server's.
                ManagedChannel c = NettyChannelBuilder.forAddress(new DomainSocketAddress(forkd.dir.resolve("s.sock").toString()))
                        .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext()
                        .withOption(ChannelOption.SO_KEEPALIVE, null)
                        .build();
                try {
                    ProcessServiceGrpc.newBlockingStub(c).withDeadlineAfter(20, TimeUnit.SECONDS)
                            .list(ListProcessesRequest.getDefaultInstance());
                } finally {
                    c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                }
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        var warnings = logged.stream().map(r -> String.valueOf(r.getMessage()))
                .filter(m -> m.contains("SO_KEEPALIVE")).toList();
        assertEquals(List.of(), warnings);
    }
}
