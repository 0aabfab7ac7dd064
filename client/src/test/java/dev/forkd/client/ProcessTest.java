package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProcessTest {

    static TestServer server;
    static Forkd forkd;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        forkd = server.connect();
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.close();
        server.close();
    }

    @Test
    void startedProcessHasPidAndJoinGivesItsExitCode() throws Exception {
        ForkdProcess p = forkd.start(ProcessSpec.of("sh", "-c", "exit 7"));
        assertTrue(p.id().startsWith("p-"), p.id());
        p.join();
        assertFalse(p.isAlive());
        assertEquals(OptionalInt.of(7), p.exitCode());
    }

    @Test
    void pidIsTheRealOsProcessWhileItRuns() throws Exception {
        ForkdProcess p = forkd.start(ProcessSpec.of("sleep", "60"));
        int pid = p.pid().orElseThrow();
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "pid " + pid + " is not alive");
        assertTrue(p.isAlive());
        assertEquals(OptionalInt.empty(), p.exitCode(), "no exit code while it runs");
        p.kill();
        assertTrue(p.join(Duration.ofSeconds(30)));
        assertEquals(OptionalInt.of(-9), p.exitCode());
    }

    @Test
    void restartStopsTheRunAndStartsANewOneUnderTheSameId() throws Exception {
        ForkdProcess p = forkd.start(ProcessSpec.of("sleep", "60"));
        int before = p.pid().orElseThrow();
        p.restart();
        int after = p.pid().orElseThrow();
        assertTrue(before != after, "a new run: " + before + " then " + after);
        assertTrue(ProcessHandle.of(after).map(ProcessHandle::isAlive).orElse(false), "pid " + after + " is not alive");
        p.kill();
        assertTrue(p.join(Duration.ofSeconds(30)));
        assertEquals(OptionalInt.of(-9), p.exitCode());
    }

    @Test
    void joinWithTimeoutAnswersFalseWhileItRuns() throws Exception {
        ForkdProcess p = forkd.start(ProcessSpec.of("sleep", "60"));
        long start = System.nanoTime();
        assertFalse(p.join(Duration.ofMillis(300)));
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(250), "join returned before its timeout");
        assertTrue(p.isAlive());
        p.terminate();
        assertTrue(p.join(Duration.ofSeconds(30)));
        assertEquals(OptionalInt.of(-15), p.exitCode());
    }

    @Test
    void startingAProgramThatDoesNotExistFailsWithItsReason() {
        ForkdException e = assertThrows(ForkdException.class, () -> forkd.start(ProcessSpec.of("/nonexistent/program")));
        assertEquals(Status.Code.NOT_FOUND, e.code());
        assertEquals(dev.forkd.v1.ErrorReason.PROGRAM_NOT_FOUND, e.reason(), e.toString());
    }

    @Test
    void stdoutAndStderrAreStreamsToTheirEnd() throws Exception {
        ForkdProcess p = forkd.start(ProcessSpec.of("sh", "-c",
                "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done; echo oops >&2"));
        String out;
        try (InputStream in = p.stdout()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertEquals(2000, out.lines().count());
        assertTrue(out.endsWith("line1999\n"), "the last line is there");
        try (InputStream err = p.stderr()) {
            assertEquals("oops\n", new String(err.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void outputPublisherDeliversOnlyWhatIsRequested() throws Exception {
        ForkdProcess p = forkd.start(ProcessSpec.of("sh", "-c", "echo a; echo b >&2; echo c"));
        p.join();
        ByteArrayOutputStream both = new ByteArrayOutputStream();
        CompletableFuture<Void> done = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger();
        CompletableFuture<Flow.Subscription> subscribed = new CompletableFuture<>();
        p.output().subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscribed.complete(s);
            }

            @Override
            public void onNext(OutputChunk item) {
                seen.incrementAndGet();
                both.writeBytes(item.data());
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                done.complete(null);
            }
        });
        Flow.Subscription s = subscribed.get(30, TimeUnit.SECONDS);
        s.request(1);
        // One chunk asked for: the stream may not end nor deliver more until asked again.
        assertThrows(java.util.concurrent.TimeoutException.class, () -> done.get(500, TimeUnit.MILLISECONDS));
        assertEquals(1, seen.get());
        s.request(Long.MAX_VALUE);
        done.get(30, TimeUnit.SECONDS);
        String text = both.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("a\n") && text.contains("b\n") && text.contains("c\n"), text);
    }

    @Test
    void stdinReachesTheChildAndCloseGivesItEndOfFile() throws Exception {
        ForkdProcess p = forkd.start(ProcessSpec.of("sh", "-c", "wc -c").withStdin());
        byte[] big = new byte[3 * 1024 * 1024 + 5];
        try (OutputStream in = p.stdin()) {
            in.write(big);
        }
        try (InputStream out = p.stdout()) {
            assertEquals(Integer.toString(big.length), new String(out.readAllBytes(), StandardCharsets.UTF_8).strip());
        }
        p.join();
        assertEquals(OptionalInt.of(0), p.exitCode());
    }

    @Test
    void aChildWhoseStdinWriterClosedItsConnectionReadsEndOfFile() throws Exception {
        ForkdProcess p;
        try (Forkd writer = server.connect()) {
            p = writer.start(ProcessSpec.of("sh", "-c", "cat; echo eof-seen").withStdin());
            OutputStream in = p.stdin();
            in.write("x\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            InputStream out = p.stdout();
            assertEquals('x', out.read(), "the child echoed what was written: the WriteStdin call is open");
            // Closed without closing stdin, as when a program exits or dies with a child's stdin open.
        }
        ForkdProcess seen = forkd.process(p.id());
        seen.join();
        assertEquals(OptionalInt.of(0), seen.exitCode(), "the child read end-of-file once its writer was gone");
        try (InputStream out = seen.stdout()) {
            assertEquals("x\neof-seen\n", new String(out.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void stdinOfAProcessStartedWithoutItIsRefused() throws Exception {
        ForkdProcess p = forkd.start(ProcessSpec.of("sleep", "60"));
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> {
            try (OutputStream in = p.stdin()) {
                in.write("x".getBytes(StandardCharsets.UTF_8));
            }
        });
        assertTrue(e.getCause() instanceof ForkdException f && f.reason() == dev.forkd.v1.ErrorReason.STDIN_NOT_PIPED,
                "carries the server's refusal: " + e);
        p.kill();
    }

    @Test
    void aNonPositiveDemandEndsTheSubscriptionWithAnError() throws Exception {
        ForkdProcess p = forkd.start(ProcessSpec.of("true"));
        CompletableFuture<Throwable> error = new CompletableFuture<>();
        p.output().subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(0);
            }

            @Override
            public void onNext(OutputChunk item) {
                error.completeExceptionally(new AssertionError("no demand, yet onNext"));
            }

            @Override
            public void onError(Throwable t) {
                error.complete(t);
            }

            @Override
            public void onComplete() {
                error.completeExceptionally(new AssertionError("completed instead of failing"));
            }
        });
        assertTrue(error.get(30, TimeUnit.SECONDS) instanceof IllegalArgumentException);
    }

    @Test
    void aNamedProcessIsFoundByName() throws Exception {
        String name = TestServer.unique("named");
        ForkdProcess p = forkd.start(ProcessSpec.of("sh", "-c", "echo $GREETING").named(name).withEnv("GREETING", "hi"));
        ForkdProcess again = forkd.process(name);
        assertEquals(p.id(), again.id());
        try (InputStream out = again.stdout()) {
            assertArrayEquals("hi\n".getBytes(StandardCharsets.UTF_8), out.readAllBytes());
        }
    }

    @Test
    void cwdIsWhereTheChildRuns() throws Exception {
        Path dir = Files.createTempDirectory(server.dir, "cwd");
        ForkdProcess p = forkd.start(ProcessSpec.of("pwd").withCwd(dir.toString()));
        try (InputStream out = p.stdout()) {
            assertEquals(dir.toRealPath().toString(), new String(out.readAllBytes(), StandardCharsets.UTF_8).strip());
        }
    }

    @Test
    void anUnknownProcessIsNotFoundWithItsReason() {
        ForkdException e = assertThrows(ForkdException.class, () -> forkd.process("p-999999"));
        assertEquals(Status.Code.NOT_FOUND, e.code());
        assertEquals(dev.forkd.v1.ErrorReason.PROCESS_NOT_FOUND, e.reason(), e.toString());
    }

    @Test
    void deleteForgetsAnEndedProcess() throws Exception {
        ForkdProcess p = forkd.start(ProcessSpec.of("true"));
        p.join();
        p.delete();
        assertEquals(Status.Code.NOT_FOUND, assertThrows(ForkdException.class, p::isAlive).code());
    }

    @Test
    void aDaemonEndsWithTheSessionThatStartedIt() throws Exception {
        ForkdProcess daemon;
        try (Forkd other = server.connect()) {
            daemon = other.start(ProcessSpec.of("sleep", "60").asDaemon());
            daemon.pid().orElseThrow();
        }
        ForkdProcess seen = forkd.process(daemon.id());
        assertTrue(seen.join(Duration.ofSeconds(30)), "the daemon outlived its session");
        assertTrue(seen.exitCode().orElseThrow() < 0, "it was signalled: " + seen.exitCode());
    }
}
