package dev.forkd.server.pipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The pipe core: order, blocking, poll, end-of-file and broken pipes. */
@Timeout(10)
class PipeTest {

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final PipeRegistry pipes = new PipeRegistry(new PipeLimits(10, 16, 2, 32, 10, 10), timers);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> texts(PipeOutcomes.Recv r) {
        return assertInstanceOf(PipeOutcomes.Recv.Messages.class, r).messages().stream()
                .map(m -> new String(m, StandardCharsets.UTF_8)).toList();
    }

    private static CompletableFuture<PipeOutcomes.Recv> recv(Pipe p, int end, Optional<Duration> timeout) {
        CompletableFuture<PipeOutcomes.Recv> f = new CompletableFuture<>();
        p.recv(end, 10, timeout, f::complete);
        return f;
    }

    @Test
    void duplexCarriesMessagesBothWaysInOrder() throws Exception {
        Pipe p = pipes.create(Optional.empty(), true);
        p.send(1, List.of(b("a"), b("b")), false, Optional.empty(), r -> {});
        p.send(0, List.of(b("x")), false, Optional.empty(), r -> {});
        assertEquals(List.of("a", "b"), texts(recv(p, 0, Optional.empty()).get(1, TimeUnit.SECONDS)));
        assertEquals(List.of("x"), texts(recv(p, 1, Optional.empty()).get(1, TimeUnit.SECONDS)));
    }

    /** A receive whose caller went away before the pipe heard of it is handed nothing; the next gets it. */
    @Test
    void aReceiveWhoseCallerIsGoneTakesNothingAndTheNextOneGetsTheMessage() throws Exception {
        Pipe p = pipes.create(Optional.empty(), false);
        java.util.concurrent.atomic.AtomicBoolean gone = new java.util.concurrent.atomic.AtomicBoolean();
        CompletableFuture<PipeOutcomes.Recv> abandoned = new CompletableFuture<>();
        p.recv(0, 10, Optional.empty(), abandoned::complete, gone::get);
        var next = recv(p, 0, Optional.empty());
        gone.set(true);
        p.send(1, List.of(b("kept")), false, Optional.empty(), r -> {});
        assertEquals(List.of("kept"), texts(next.get(1, TimeUnit.SECONDS)));
        assertFalse(abandoned.isDone(), "nothing is sent to a caller that is gone");
    }

    @Test
    void closingAnEndGivesTheOtherEndWhatWasBufferedThenEof() throws Exception {
        Pipe p = pipes.create(Optional.empty(), false);
        var waiting = recv(p, 0, Optional.empty());
        p.send(1, List.of(b("last")), false, Optional.empty(), r -> {});
        assertEquals(List.of("last"), texts(waiting.get(1, TimeUnit.SECONDS)));
        var blocked = recv(p, 0, Optional.empty());
        assertFalse(blocked.isDone());
        p.closeEnd(1);
        assertInstanceOf(PipeOutcomes.Recv.Eof.class, blocked.get(1, TimeUnit.SECONDS));
        CompletableFuture<PipeOutcomes.Poll> poll = new CompletableFuture<>();
        p.poll(0, Duration.ZERO, poll::complete);
        assertEquals(new PipeOutcomes.Poll(true, true), poll.get());
    }

    @Test
    void sendingToAClosedEndIsABrokenPipe() {
        Pipe p = pipes.create(Optional.empty(), true);
        p.closeEnd(0);
        var e = assertThrows(ForkdException.FailedPrecondition.class,
                () -> p.send(1, List.of(b("x")), false, Optional.empty(), r -> {}));
        assertEquals("PIPE_BROKEN", e.reason());
    }

    @Test
    void oneWayPipeReceivesAtEndZeroOnly() {
        Pipe p = pipes.create(Optional.empty(), false);
        var e = assertThrows(ForkdException.FailedPrecondition.class,
                () -> p.send(0, List.of(b("x")), false, Optional.empty(), r -> {}));
        assertEquals("PIPE_END_NOT_WRITABLE", e.reason());
    }

    @Test
    void fullBufferBlocksTheSenderAndATimeoutIsAResult() throws Exception {
        Pipe p = pipes.create(Optional.empty(), false);
        p.send(1, List.of(b("1"), b("2")), false, Optional.empty(), r -> {});
        CompletableFuture<PipeOutcomes.Send> late = new CompletableFuture<>();
        p.send(1, List.of(b("3")), false, Optional.of(Duration.ofMillis(30)), late::complete);
        assertInstanceOf(PipeOutcomes.Send.TimedOut.class, late.get(5, TimeUnit.SECONDS));
        CompletableFuture<PipeOutcomes.Send> blocked = new CompletableFuture<>();
        p.send(1, List.of(b("3")), false, Optional.empty(), blocked::complete);
        assertFalse(blocked.isDone());
        assertEquals(List.of("1", "2"), texts(recv(p, 0, Optional.empty()).get(1, TimeUnit.SECONDS)));
        assertInstanceOf(PipeOutcomes.Send.Done.class, blocked.get(1, TimeUnit.SECONDS));
    }

    @Test
    void pollWaitsForAMessage() throws Exception {
        Pipe p = pipes.create(Optional.empty(), true);
        CompletableFuture<PipeOutcomes.Poll> poll = new CompletableFuture<>();
        p.poll(0, Duration.ofSeconds(5), poll::complete);
        assertFalse(poll.isDone());
        p.send(1, List.of(b("x")), false, Optional.empty(), r -> {});
        assertEquals(new PipeOutcomes.Poll(true, false), poll.get(1, TimeUnit.SECONDS));
    }

    @Test
    void oversizedMessageIsRejectedNamingTheLimit() {
        Pipe p = pipes.create(Optional.empty(), true);
        var e = assertThrows(ForkdException.InvalidArgument.class,
                () -> p.send(1, List.of(new byte[17]), false, Optional.empty(), r -> {}));
        assertTrue(e.getMessage().contains("16 bytes"), e.getMessage());
    }
}
