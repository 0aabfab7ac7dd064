package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import dev.forkd.v1.CloseEndRequest;
import dev.forkd.v1.CloseQueueRequest;
import dev.forkd.v1.CreatePipeRequest;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.GetQueueRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueInfo;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.SendRequest;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.TakeRequest;
import dev.forkd.v1.TaskDoneRequest;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Queues and pipes between real child processes: a real {@code forkd serve}, and children that are
 * the forkd CLI itself (they find the server and their session in FORKD_ADDRESS / FORKD_SESSION).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class QueueProcessTest {

    private RunningServer server;
    private ForkdClient client;
    private Cli cli;
    /** The forkd CLI as a shell command, for children. */
    private String forkd;

    @BeforeAll
    void start() throws Exception {
        server = RunningServer.start();
        client = ForkdClient.connect(new ListenAddress.Unix(server.socket), Optional.empty(), Optional.empty());
        cli = Cli.against(server);
        forkd = String.join(" ", RunningServer.javaCommand()) + " " + Main.class.getName();
    }

    @AfterAll
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private ProcessInfo sh(String script) {
        return client.processes().withDeadlineAfter(60, TimeUnit.SECONDS)
                .spawn(SpawnRequest.newBuilder().addArgv("sh").addArgv("-c").addArgv(script).build()).getProcess();
    }

    private ProcessInfo join(String id, long seconds) {
        return client.processes().withDeadlineAfter(seconds + 30, TimeUnit.SECONDS).join(JoinProcessRequest.newBuilder()
                .setName(id).setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(seconds)).build()).getProcess();
    }

    private String output(String id) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Iterator<WatchProcessResponse> it = client.processes().withDeadlineAfter(60, TimeUnit.SECONDS)
                .watch(WatchProcessRequest.newBuilder().setName(id).build());
        while (it.hasNext()) {
            WatchProcessResponse w = it.next();
            if (w.hasOutput() && w.getOutput().getStream() == dev.forkd.v1.OutputStream.OUTPUT_STREAM_STDOUT) {
                b.writeBytes(w.getOutput().getData().toByteArray());
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private String stderr(String id) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Iterator<WatchProcessResponse> it = client.processes().withDeadlineAfter(60, TimeUnit.SECONDS)
                .watch(WatchProcessRequest.newBuilder().setName(id).build());
        while (it.hasNext()) {
            WatchProcessResponse w = it.next();
            if (w.hasOutput() && w.getOutput().getStream() == dev.forkd.v1.OutputStream.OUTPUT_STREAM_STDERR) {
                b.writeBytes(w.getOutput().getData().toByteArray());
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private void assertExited0(ProcessInfo p) {
        assertEquals(dev.forkd.v1.ProcessState.PROCESS_STATE_EXITED, p.getState(), p + stderr(p.getId()));
        assertEquals(0, p.getExitCode(), stderr(p.getId()));
    }

    private QueueInfo queue(String name) {
        return client.queues().withDeadlineAfter(10, TimeUnit.SECONDS)
                .get(GetQueueRequest.newBuilder().setName(name).build()).getQueue();
    }

    /** Waits (with a deadline) until the queue's state satisfies {@code ok}; spins on Get, no sleep. */
    private QueueInfo awaitQueue(String name, Predicate<QueueInfo> ok) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        QueueInfo q = queue(name);
        while (!ok.test(q)) {
            if (System.nanoTime() > end) {
                throw new AssertionError("queue never got there: " + q);
            }
            Thread.onSpinWait();
            q = queue(name);
        }
        return q;
    }

    private void create(String name, long maxsize) {
        client.queues().create(CreateQueueRequest.newBuilder().setName(name).setMaxsize(maxsize).build());
    }

    @Test
    void hundredThousandItemsFromAProducerChildToAConsumerChildNoneLostOrDuplicated() {
        create("big", 1000); // smaller than the run, so the producer is held back too
        ProcessInfo consumer = sh(forkd + " queue get big --follow --limit 100000");
        ProcessInfo producer = sh("seq 1 100000 | " + forkd + " queue put big");
        ProcessInfo p = join(producer.getId(), 120);
        ProcessInfo c = join(consumer.getId(), 120);
        assertExited0(p);
        assertExited0(c);
        String[] lines = output(c.getId()).split("\n");
        assertEquals(100_000, lines.length);
        Set<Integer> seen = new HashSet<>();
        long sum = 0;
        for (String l : lines) {
            int v = Integer.parseInt(l);
            assertTrue(seen.add(v), "duplicate " + v);
            sum += v;
        }
        assertEquals(100_000L * 100_001L / 2, sum);
        assertEquals(0, queue("big").getSize());
        assertEquals(100_000, queue("big").getUnfinished()); // nobody marked them done
    }

    @Test
    void boundedQueueBlocksTheProducerAndATakeWakesIt() {
        create("bounded", 5);
        ProcessInfo producer = sh("seq 1 20 | " + forkd + " queue put bounded --batch 1");
        awaitQueue("bounded", q -> q.getSize() == 5 && q.getProducers() == 1);
        assertTrue(join(producer.getId(), 0).getIsAlive(), "the producer should be blocked, not done");
        List<String> got = new ArrayList<>();
        while (got.size() < 20) {
            client.queues().withDeadlineAfter(30, TimeUnit.SECONDS)
                    .take(TakeRequest.newBuilder().setName("bounded").setMaxItems(5).build())
                    .getItemsList().forEach(i -> got.add(i.getData().toStringUtf8()));
        }
        assertEquals(IntStream.rangeClosed(1, 20).mapToObj(Integer::toString).toList(), got);
        assertExited0(join(producer.getId(), 60));
    }

    @Test
    void consumerKilledMidConsumeHasItsUnackedItemsRedeliveredToAnother() {
        create("kill", 10_000);
        String pad = "x".repeat(1000);
        for (int b = 0; b < 20; b++) {
            PutRequest.Builder r = PutRequest.newBuilder().setName("kill");
            for (int i = 0; i < 100; i++) {
                r.addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8(String.format("%04d-%s", b * 100 + i, pad))));
            }
            client.queues().put(r.build());
        }
        // Its stdout goes to a process that never reads: the CLI blocks writing with items unacked.
        ProcessInfo first = sh(forkd + " queue get kill --follow --credit 100 | sleep 1000");
        QueueInfo before = awaitQueue("kill", q -> q.getInFlight() > 0 && q.getConsumers() == 1);
        client.processes().signal(SignalRequest.newBuilder().setName(first.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        assertEquals(-9, join(first.getId(), 60).getExitCode());
        QueueInfo after = awaitQueue("kill", q -> q.getInFlight() == 0 && q.getConsumers() == 0);
        long acked = after.getTotalTaken();
        assertTrue(before.getInFlight() > 0);
        assertEquals(2000 - acked, after.getSize(), after.toString());
        ProcessInfo second = sh(forkd + " queue get kill --follow --limit " + after.getSize());
        ProcessInfo done = join(second.getId(), 60);
        assertExited0(done);
        List<String> got = output(done.getId()).lines().map(l -> l.substring(0, 4)).toList();
        assertEquals(IntStream.range((int) acked, 2000).mapToObj(i -> String.format("%04d", i)).toList(), got);
    }

    @Test
    void closeDrainsThenEndsConsumers() {
        create("drain", 10);
        client.queues().put(PutRequest.newBuilder().setName("drain")
                .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("a")))
                .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("b")))
                .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("c"))).build());
        ProcessInfo consumer = sh(forkd + " queue get drain --follow");
        awaitQueue("drain", q -> q.getTotalTaken() == 3 && q.getConsumers() == 1);
        client.queues().close(CloseQueueRequest.newBuilder().setName("drain").build());
        ProcessInfo done = join(consumer.getId(), 60);
        assertExited0(done);
        assertEquals("a\nb\nc\n", output(done.getId()));
    }

    @Test
    void joinReturnsWhenTheLastTaskIsDone() {
        create("joinable", 10);
        client.queues().put(PutRequest.newBuilder().setName("joinable")
                .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("a")))
                .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("b"))).build());
        ProcessInfo joiner = sh(forkd + " queue join joinable");
        client.queues().taskDone(TaskDoneRequest.newBuilder().setName("joinable").setCount(1).build());
        assertTrue(join(joiner.getId(), 1).getIsAlive(), "join must wait for the last task_done");
        client.queues().taskDone(TaskDoneRequest.newBuilder().setName("joinable").setCount(1).build());
        assertExited0(join(joiner.getId(), 60));
    }

    @Test
    void pipeEndClosingGivesTheOtherEndEof() {
        var pipe = client.pipes().create(CreatePipeRequest.newBuilder().setName("talk").build()).getPipe();
        ProcessInfo reader = sh(forkd + " pipe recv " + pipe.getEnds(0).getId() + " --follow");
        client.pipes().send(SendRequest.newBuilder().setName("talk.1")
                .addMessages(ByteString.copyFromUtf8("one")).addMessages(ByteString.copyFromUtf8("two")).build());
        client.pipes().closeEnd(CloseEndRequest.newBuilder().setName("talk.1").build());
        ProcessInfo done = join(reader.getId(), 60);
        assertExited0(done);
        assertEquals("one\ntwo\n", output(done.getId()));
    }

    @Test
    void cliExitCodes() {
        assertEquals(0, cli.run("queue", "create", "codes", "--maxsize", "1").code());
        assertEquals(0, cli.run("queue", "put", "codes", "a").code());
        Cli.Result full = cli.run("queue", "put", "codes", "b", "--timeout", "0");
        assertEquals(124, full.code(), full.toString());
        assertTrue(full.err().contains("full"), full.err());
        Cli.Result got = cli.run("queue", "get", "codes");
        assertEquals("a\n", got.out(), got.toString());
        assertEquals(124, cli.run("queue", "get", "codes", "--timeout", "10ms").code());
        Cli.Result missing = cli.run("queue", "get", "nope");
        assertEquals(1, missing.code(), missing.toString());
        assertTrue(missing.err().contains("\"nope\" not found"), missing.err());
        assertEquals(2, cli.run("queue", "put").code());
        Cli.Result tooMany = cli.run("queue", "task-done", "codes", "-n", "5");
        assertEquals(1, tooMany.code());
        assertTrue(tooMany.err().contains("too many"), tooMany.err());
        Cli.Result stdin = cli.withStdin("x\ny\n".getBytes(StandardCharsets.UTF_8), "queue", "put", "codes", "--timeout", "1s", "--batch", "1");
        assertEquals(124, stdin.code(), stdin.toString()); // room for one line only
        assertEquals("1\n", cli.run("queue", "size", "codes").out());
        // Pipes follow the same scheme: 124 timed out, 1 refused or ended.
        String[] ends = cli.run("pipe", "create", "code-pipe").out().strip().split("\n");
        Cli.Result waited = cli.run("pipe", "recv", ends[0], "--timeout", "10ms");
        assertEquals(124, waited.code(), waited.toString());
        assertEquals(0, cli.run("pipe", "close", ends[1]).code());
        Cli.Result ended = cli.run("pipe", "recv", ends[0], "--timeout", "10s");
        assertEquals(1, ended.code(), ended.toString());
        assertEquals(1, cli.run("pipe", "recv", "no-such-end", "--timeout", "10ms").code());
    }
}
