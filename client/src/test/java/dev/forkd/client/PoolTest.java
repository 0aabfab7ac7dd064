package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PoolTest {

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

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** A persistent worker that answers each line doubled. */
    private static PoolSpec doubler() {
        return PoolSpec.persistent("sh", "-c", "while read x; do echo $((x*2)); done").withProcesses(2);
    }

    @Test
    void mapAnswersInInputOrder() {
        try (ForkdPool pool = forkd.pool(doubler())) {
            List<byte[]> out = pool.map(IntStream.range(0, 100).mapToObj(i -> b(Integer.toString(i))).toList());
            assertEquals(IntStream.range(0, 100).mapToObj(i -> Integer.toString(i * 2)).toList(),
                    out.stream().map(PoolTest::s).toList());
            assertEquals(List.of(), pool.map(List.of()), "no items, no results, and the call ends");
        }
    }

    @Test
    void imapReadsItsInputOnlyAsFastAsResultsAreTaken() {
        try (ForkdPool pool = forkd.pool(doubler())) {
            AtomicLong read = new AtomicLong();
            // An endless input: only flow control keeps this finite.
            Stream<byte[]> endless = LongStream.iterate(0, i -> i + 1).peek(i -> read.incrementAndGet())
                    .mapToObj(i -> b(Long.toString(i)));
            try (Stream<byte[]> results = pool.imap(endless)) {
                Iterator<byte[]> it = results.iterator();
                for (int i = 0; i < 3000; i++) {
                    assertEquals(Integer.toString(i * 2), s(it.next()));
                }
            }
            assertTrue(read.get() < 3000 + 5000, "input read ahead without bound: " + read.get());
        }
    }

    @Test
    void imapUnorderedGivesEveryResultWithItsIndex() {
        try (ForkdPool pool = forkd.pool(doubler())) {
            try (Stream<TaskResult> results = pool.imapUnordered(IntStream.range(0, 50).mapToObj(i -> b(Integer.toString(i))))) {
                Set<String> seen = results.map(r -> r.index() + "=" + s(r.output())).collect(Collectors.toSet());
                assertEquals(IntStream.range(0, 50).mapToObj(i -> i + "=" + (i * 2)).collect(Collectors.toSet()), seen);
            }
        }
    }

    @Test
    void starmapPassesArgumentTuples() {
        try (ForkdPool pool = forkd.pool(PoolSpec.perTask("sh", "-c", "echo $(({1}+{2}))").withProcesses(2))) {
            try (Stream<byte[]> out = pool.starmap(Stream.of(List.of("1", "2"), List.of("10", "20")))) {
                assertEquals(List.of("3\n", "30\n"), out.map(PoolTest::s).toList());
            }
        }
    }

    @Test
    void aFailedTaskThrowsWhereItsResultWouldBe() {
        try (ForkdPool pool = forkd.pool(PoolSpec.perTask("sh", "-c", "[ {} != bad ] && echo ok || { echo why >&2; exit 3; }"))) {
            try (Stream<byte[]> out = pool.imap(Stream.of(b("good"), b("bad")))) {
                Iterator<byte[]> it = out.iterator();
                assertEquals("ok\n", s(it.next()));
                TaskFailedException e = assertThrows(TaskFailedException.class, it::next);
                assertEquals(1, e.index());
                assertEquals(TaskFailedException.Kind.EXIT, e.kind());
                assertEquals(3, e.exitCode());
                assertEquals("why\n", s(e.stderrTail()));
            }
        }
    }

    @Test
    void applyAndApplyAsync() throws Exception {
        try (ForkdPool pool = forkd.pool(doubler())) {
            assertEquals("14", s(pool.apply(b("7"))));
            List<CompletableFuture<byte[]>> futures = IntStream.range(0, 10).mapToObj(i -> pool.applyAsync(b(Integer.toString(i)))).toList();
            for (int i = 0; i < 10; i++) {
                assertEquals(Integer.toString(i * 2), s(futures.get(i).get(30, TimeUnit.SECONDS)));
            }
        }
        try (ForkdPool failing = forkd.pool(PoolSpec.perTask("sh", "-c", "exit 1", "{}"))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> failing.applyAsync(b("x")).get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof TaskFailedException, e.getCause().toString());
            assertThrows(TaskFailedException.class, () -> failing.apply(b("x")));
        }
    }

    @Test
    void theExecutorViewRunsCommandsAndShutsDown() throws Exception {
        ForkdPool pool = forkd.pool(doubler().named(TestServer.unique("workers")));
        PoolExecutor ex = pool.asExecutor();
        assertEquals("4", s(ex.submit(b("2")).get(30, TimeUnit.SECONDS)));
        List<CompletableFuture<byte[]>> all = ex.invokeAll(List.of(b("1"), b("3")));
        assertEquals("2", s(all.get(0).get(30, TimeUnit.SECONDS)));
        assertEquals("6", s(all.get(1).get(30, TimeUnit.SECONDS)));
        assertFalse(ex.isShutdown());
        assertFalse(ex.isTerminated());
        ex.shutdown();
        assertTrue(ex.isShutdown());
        assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> ex.submit(b("1")));
        assertTrue(ex.awaitTermination(30, TimeUnit.SECONDS));
        assertTrue(ex.isTerminated());
        pool.delete();
    }

    @Test
    void terminateStopsAPoolAndJoinWaitsForIt() throws Exception {
        ForkdPool pool = forkd.pool(PoolSpec.perTask("sleep", "{}").withProcesses(1));
        CompletableFuture<byte[]> running = pool.applyAsync(b("60"));
        assertEquals(dev.forkd.v1.ErrorReason.POOL_RUNNING,
                assertThrows(ForkdException.class, () -> pool.join(Duration.ZERO)).reason(), "join on a running pool");
        pool.closeInput();
        assertFalse(pool.join(Duration.ofMillis(200)), "still running its task: a timeout is false");
        pool.terminate();
        assertTrue(pool.join(Duration.ofSeconds(30)));
        ExecutionException e = assertThrows(ExecutionException.class, () -> running.get(30, TimeUnit.SECONDS));
        assertEquals(TaskFailedException.Kind.TERMINATED, ((TaskFailedException) e.getCause()).kind());
        pool.join();
        pool.delete();
        PoolExecutor now = forkd.pool(doubler()).asExecutor();
        assertEquals(List.of(), now.shutdownNow());
        assertTrue(now.awaitTermination(30, TimeUnit.SECONDS));
    }
}
