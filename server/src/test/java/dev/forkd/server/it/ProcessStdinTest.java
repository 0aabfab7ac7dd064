package dev.forkd.server.it;

import static dev.forkd.server.testing.Observers.observer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.StdinMode;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import dev.forkd.v1.WriteStdinRequest;
import dev.forkd.v1.WriteStdinResponse;
import io.grpc.stub.StreamObserver;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A child's stdin over WriteStdin against a real supervisor, agents and children: bytes in order,
 * end-of-file on close, and on a writer that goes away with close_on_cancel. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProcessStdinTest {

    private static RealServer forkd;

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(1);
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    private static ProcessInfo spawn(String... argv) {
        return forkd.processes().spawn(SpawnRequest.newBuilder().addAllArgv(List.of(argv))
                .setStdinMode(StdinMode.STDIN_MODE_PIPE).build()).getProcess();
    }

    @Test
    void stdinRoundTripsThroughCat() throws Exception {
        ProcessInfo p = spawn("cat");
        CompletableFuture<WriteStdinResponse> written = new CompletableFuture<>();
        StreamObserver<WriteStdinRequest> in = forkd.processesAsync().writeStdin(observer(written));
        in.onNext(WriteStdinRequest.newBuilder().setName(p.getId()).setData(ByteString.copyFromUtf8("hello\n")).build());
        in.onNext(WriteStdinRequest.newBuilder().setData(ByteString.copyFromUtf8("world\n")).setClose(true).build());
        in.onCompleted();
        WriteStdinResponse r = written.get(30, TimeUnit.SECONDS);
        assertEquals(12, r.getBytesWritten());
        assertTrue(r.getClosed());
        ProcessInfo done = forkd.join(p.getId());
        assertEquals(0, done.getExitCode());
        assertEquals("hello\nworld\n", forkd.output(p.getId()));
    }

    @Test
    void aWriterThatGoesAwayWithCloseOnCancelGivesTheChildEndOfFile() throws Exception {
        ProcessInfo p = spawn("sh", "-c", "cat; echo eof");
        var in = writeAndAwaitEcho(p.getId(), true);
        in.cancel("the writer went away", null);
        ProcessInfo done = forkd.join(p.getId());
        assertEquals(0, done.getExitCode());
        assertEquals("partial\neof\n", forkd.output(p.getId()));
    }

    @Test
    void aWriterThatGoesAwayWithoutCloseOnCancelLeavesStdinOpen() throws Exception {
        ProcessInfo p = spawn("sh", "-c", "cat; echo eof");
        var in = writeAndAwaitEcho(p.getId(), false);
        in.cancel("the writer went away", null);
        // Another writer can still close it: the cancelled call did not.
        CompletableFuture<WriteStdinResponse> closed = new CompletableFuture<>();
        StreamObserver<WriteStdinRequest> second = forkd.processesAsync().writeStdin(observer(closed));
        second.onNext(WriteStdinRequest.newBuilder().setName(p.getId()).setData(ByteString.copyFromUtf8("more\n"))
                .setClose(true).build());
        second.onCompleted();
        assertTrue(closed.get(30, TimeUnit.SECONDS).getClosed());
        assertEquals(0, forkd.join(p.getId()).getExitCode());
        assertEquals("partial\nmore\neof\n", forkd.output(p.getId()));
    }

    /** Writes "partial\n" on a WriteStdin call left open, and waits until the child has echoed it. */
    private static io.grpc.stub.ClientCallStreamObserver<WriteStdinRequest> writeAndAwaitEcho(String id,
            boolean closeOnCancel) {
        var in = (io.grpc.stub.ClientCallStreamObserver<WriteStdinRequest>) forkd.processesAsync()
                .writeStdin(observer(new CompletableFuture<>()));
        in.onNext(WriteStdinRequest.newBuilder().setName(id).setData(ByteString.copyFromUtf8("partial\n"))
                .setCloseOnCancel(closeOnCancel).build());
        Iterator<WatchProcessResponse> it = forkd.processes().withDeadlineAfter(60, TimeUnit.SECONDS)
                .watch(WatchProcessRequest.newBuilder().setName(id).setFollow(true).build());
        StringBuilder seen = new StringBuilder();
        while (!seen.toString().contains("partial\n")) {
            WatchProcessResponse w = it.next();
            if (w.hasOutput()) {
                seen.append(w.getOutput().getData().toStringUtf8());
            }
        }
        return in;
    }
}
