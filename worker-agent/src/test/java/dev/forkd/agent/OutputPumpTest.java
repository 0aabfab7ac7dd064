package dev.forkd.agent;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.forkd.posix.Epoll;
import dev.forkd.posix.EventFd;
import dev.forkd.posix.Posix;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.StartChild;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The pump and launcher in this JVM with a recording link instead of gRPC. The test reaps its own
 * children with waitpid(pid) (no Reaper thread: waiting for any child would steal the exits of
 * processes the JDK started) and tells the pump, as the Reaper would.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OutputPumpTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final Posix posix = new Posix();
    private final ChildTable table = new ChildTable(4);
    private final EventFd wake = new EventFd(posix);
    private final Epoll epoll = new Epoll(posix);
    private final RecordingLink link = new RecordingLink();
    private final OutputPump pump = new OutputPump(posix, epoll, wake, link, table, System::nanoTime,
            Duration.ofSeconds(2));
    private final ChildLauncher launcher = new ChildLauncher(posix, table, pump,
            // This JVM is not a subreaper: no orphans to look for.
            new Reaper(posix, table, pump, new Escapees(posix, table, null, pid -> java.util.List.of(), 0)), link);
    private Thread pumpThread;

    /** Records events in a bounded queue (a slow test blocks the pump: backpressure) or only counts output. */
    private final class RecordingLink implements SupervisorLink {
        final BlockingQueue<AgentMessage> messages = new ArrayBlockingQueue<>(1024);
        final AtomicBoolean ready = new AtomicBoolean(true);
        final AtomicBoolean countOnly = new AtomicBoolean();
        final AtomicLong outputBytes = new AtomicLong();
        /** The children the table held as each ChildExited was sent. */
        final java.util.List<Integer> tableSizeAtExit = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public void send(AgentMessage message) {
            if (message.hasExited()) {
                tableSizeAtExit.add(table.size());
            }
            if (message.hasOutput()) {
                outputBytes.addAndGet(message.getOutput().getData().size());
                if (countOnly.get()) {
                    return;
                }
            }
            try {
                messages.put(message);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public boolean isReady() {
            return ready.get();
        }

        @Override
        public void complete() {
        }

        void setReady(boolean now) {
            ready.set(now);
            pump.wakeUp();
        }

        AgentMessage next() throws InterruptedException {
            AgentMessage m = messages.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (m == null) {
                fail("no event within " + WAIT);
            }
            return m;
        }
    }

    @BeforeEach
    void startPump() {
        pumpThread = Thread.ofPlatform().name("test-pump").daemon().start(pump);
    }

    @AfterEach
    void stopPump() throws InterruptedException {
        pump.stop();
        pumpThread.join(TimeUnit.SECONDS.toMillis(10));
        epoll.close();
        wake.close();
    }

    private Child start(String id, String... argv) throws InterruptedException {
        launcher.start(StartChild.newBuilder().setProcessId(id).addAllArgv(java.util.List.of(argv))
                .putEnv("PATH", "/usr/bin:/bin").build());
        AgentMessage started = link.next();
        assertTrue(started.hasStarted(), started.toString());
        return table.byKey(new ChildKey(id, 0)).orElseThrow();
    }

    /** What the Reaper does, for one child. */
    private CompletableFuture<Integer> reap(Child child) {
        return CompletableFuture.supplyAsync(() -> {
            int code = posix.waitChild(child.pid()).orElseThrow().exitCode();
            child.markEnded();
            posix.kill(-child.pid(), 9);
            pump.exited(child, code);
            return code;
        });
    }

    @Test
    void aChildsSlotIsFreeBeforeItsExitIsSent() throws Exception {
        // The supervisor gives the slot to the next start the moment it reads the exit: the agent
        // must not refuse that start as over capacity.
        Child child = start("quick", "true");
        assertEquals(0, reap(child).get(10, TimeUnit.SECONDS));
        AgentMessage exited = link.next();
        assertTrue(exited.hasExited(), exited.toString());
        assertEquals(java.util.List.of(0), link.tableSizeAtExit);
    }

    @Test
    void outputWaitsWhileTheStreamIsNotReadyAndTheChildIsHeldByThePipe() throws Exception {
        link.setReady(false);
        Child child = start("held", "head", "-c", String.valueOf(4 << 20), "/dev/zero");
        CompletableFuture<Integer> exit = reap(child);
        assertNull(link.messages.poll(500, TimeUnit.MILLISECONDS), "nothing is read while not ready");
        assertTrue(ProcessHandle.of(child.pid()).orElseThrow().isAlive(), "the child blocks on its full pipe");
        assertTrue(!exit.isDone());

        link.setReady(true);
        long bytes = 0;
        AgentMessage m;
        while (!(m = link.next()).hasExited()) {
            bytes += m.getOutput().getData().size();
        }
        assertEquals(4 << 20, bytes);
        assertEquals(0, m.getExited().getExitCode());
        assertEquals(0, exit.get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
    }

    @Test
    void theExitOfAFastExitingChildFollowsAllItsOutput() throws Exception {
        link.setReady(false);
        Child child = start("fast", "sh", "-c", "head -c 60000 /dev/zero; echo bye >&2; exit 5");
        assertEquals(5, reap(child).get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertNull(link.messages.poll(300, TimeUnit.MILLISECONDS), "no ChildExited before the output");

        link.setReady(true);
        long stdout = 0;
        String stderr = "";
        AgentMessage m;
        while (!(m = link.next()).hasExited()) {
            if (m.getOutput().getStream() == dev.forkd.v1.OutputStream.OUTPUT_STREAM_STDOUT) {
                stdout += m.getOutput().getData().size();
            } else {
                stderr += m.getOutput().getData().toStringUtf8();
            }
        }
        assertEquals(60000, stdout);
        assertEquals("bye\n", stderr);
        assertEquals(5, m.getExited().getExitCode());
        assertEquals(child.pid(), m.getExited().getPid(), "the exit names its child: ids and runs can repeat across restarts");
    }

    @Test
    void thePumpAloneMovesOutputFast() throws Exception {
        link.countOnly.set(true);
        long size = 512L << 20;
        long t0 = System.nanoTime();
        Child child = start("bulk", "head", "-c", String.valueOf(size), "/dev/zero");
        reap(child);
        AgentMessage exited = link.next();
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(exited.hasExited(), exited.toString());
        assertEquals(size, link.outputBytes.get());
        System.out.printf("pump alone (pipe -> messages, no gRPC): %.0f MB/s%n", size / seconds / 1e6);
    }
}
