package dev.forkd.client.direct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.SpawnRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The direct channel against a stand-in HTTP/2 server that answers every connection with the frames a
 * test gives (a real socket; the frames are what a grpc-java server sends when it resets a stream or
 * goes away): the statuses are those netty's client gives for them.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StandInHttp2Test {

    private static final RandomGenerator NO_WAIT = () -> 0L;

    /** A server that writes {@code frames} on each connection, then reads until the client hangs up. */
    private record StandIn(ServerSocketChannel listener, Thread acceptor, AtomicInteger connections, Path dir)
            implements AutoCloseable {

        static StandIn answering(byte[] frames) throws IOException {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkh");
            ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("s.sock")));
            AtomicInteger connections = new AtomicInteger();
            Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
                while (true) {
                    try (SocketChannel c = listener.accept()) {
                        connections.incrementAndGet();
                        c.write(ByteBuffer.wrap(frames));
                        ByteBuffer sink = ByteBuffer.allocate(4096);
                        while (c.read(sink.clear()) >= 0) {
                            // what the client sends is not looked at
                        }
                    } catch (IOException closed) {
                        if (!listener.isOpen()) {
                            return;
                        }
                    }
                }
            });
            return new StandIn(listener, acceptor, connections, dir);
        }

        DirectChannel channel() {
            return new DirectChannel(UnixDomainSocketAddress.of(dir.resolve("s.sock")), "localhost", 65_535, NO_WAIT);
        }

        @Override
        public void close() throws IOException {
            listener.close();
            try {
                acceptor.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Files.deleteIfExists(dir.resolve("s.sock"));
            Files.deleteIfExists(dir);
        }
    }

    private static byte[] frame(int type, int flags, int stream, byte[] payload) {
        return ByteBuffer.allocate(9 + payload.length).put((byte) (payload.length >>> 16))
                .put((byte) (payload.length >>> 8)).put((byte) payload.length).put((byte) type).put((byte) flags)
                .putInt(stream).put(payload).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuffer all = ByteBuffer.allocate(java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum());
        for (byte[] p : parts) {
            all.put(p);
        }
        return all.array();
    }

    private static final byte[] SETTINGS = frame(Http2Frames.SETTINGS, 0, 0, new byte[0]);

    @Test
    void aResetStreamIsTheStatusOfItsErrorCode() throws Exception {
        byte[] cancel = frame(Http2Frames.RST_STREAM, 0, 1, ByteBuffer.allocate(4).putInt(0x8).array());
        try (StandIn server = StandIn.answering(concat(SETTINGS, cancel)); DirectChannel channel = server.channel()) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ProcessServiceGrpc
                    .newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .list(ListProcessesRequest.getDefaultInstance()));
            assertEquals(Status.Code.CANCELLED, e.getStatus().getCode());
            assertEquals("RST_STREAM closed stream. HTTP/2 error code: CANCEL", e.getStatus().getDescription());
            assertEquals(1, server.connections().get(), "CANCELLED is not repeated");
        }
    }

    @Test
    void aGoAwayBeforeTheStreamIsSentOnceMoreThenUnavailable() throws Exception {
        byte[] goAway = frame(Http2Frames.GOAWAY, 0, 0, concat(ByteBuffer.allocate(8).putInt(0).putInt(0).array(),
                "bye".getBytes(StandardCharsets.UTF_8)));
        try (StandIn server = StandIn.answering(concat(SETTINGS, goAway)); DirectChannel channel = server.channel()) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ProcessServiceGrpc
                    .newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .spawn(SpawnRequest.newBuilder().addArgv("true").build()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            assertEquals("GOAWAY shut down transport. HTTP/2 error code: NO_ERROR, debug data: bye",
                    e.getStatus().getDescription());
            // The server never saw it: sent once more at once (as grpc does), even for a Spawn, then given up.
            assertEquals(2, server.connections().get());
        }
    }
}
