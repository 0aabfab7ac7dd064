package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import dev.forkd.v1.AddValueRequest;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.Scalar;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A shared counter's answered adds survive a SIGKILL of the server: a real {@code forkd serve},
 * clients adding from many threads, the server killed mid-way, a new server on the same state
 * directory. The counter holds every add that was answered OK (each was committed before its answer),
 * and at most the adds that were sent (an unanswered one may or may not have been kept).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class SharedCounterRestartTest {

    private static final int CLIENTS = 8;
    private static final long ANSWERED_BEFORE_KILL = 3_000;

    @Test
    void everyAnsweredAddSurvivesASigkillOfTheServer() throws Exception {
        Path state = Files.createTempDirectory(Path.of("/tmp"), "fkdstate");
        try {
            AtomicLong sent = new AtomicLong();
            AtomicLong answered = new AtomicLong();
            RunningServer first = start(state);
            List<ProcessHandle> below;
            List<Thread> adders = new ArrayList<>();
            try (ForkdClient client = connect(first)) {
                CountDownLatch enough = new CountDownLatch(1);
                for (int c = 0; c < CLIENTS; c++) {
                    adders.add(Thread.ofPlatform().name("adder-" + c).start(() -> {
                        try {
                            while (true) {
                                sent.incrementAndGet();
                                client.shared().withDeadlineAfter(30, TimeUnit.SECONDS).addValue(AddValueRequest
                                        .newBuilder().setName("counter")
                                        .setDelta(Scalar.newBuilder().setInt64Value(1)).build());
                                if (answered.incrementAndGet() >= ANSWERED_BEFORE_KILL) {
                                    enough.countDown();
                                }
                            }
                        } catch (StatusRuntimeException e) {
                            // The server is gone: this add was not answered, and this client stops.
                        }
                    }));
                }
                assertTrue(enough.await(120, TimeUnit.SECONDS), "only " + answered.get() + " adds answered");
                below = first.descendants();
                first.process.destroyForcibly(); // SIGKILL, mid-way through the adds
                assertTrue(first.process.waitFor(30, TimeUnit.SECONDS));
                for (Thread t : adders) {
                    t.join(60_000);
                    assertTrue(!t.isAlive(), t.getName() + " still adding after the server died");
                }
            } finally {
                first.process.destroyForcibly();
                RunningServer.deleteTree(first.dir);
            }
            // Its agents are no concern of this test: they must not outlive it.
            below.forEach(ProcessHandle::destroyForcibly);
            for (ProcessHandle p : below) {
                p.onExit().get(30, TimeUnit.SECONDS);
            }

            try (RunningServer second = start(state); ForkdClient client = connect(second)) {
                long counter = client.shared().withDeadlineAfter(30, TimeUnit.SECONDS)
                        .getValue(GetValueRequest.newBuilder().setName("counter").build()).getValue().getInt64Value();
                assertTrue(counter >= answered.get() && counter <= sent.get(), "the counter is " + counter + " after "
                        + answered.get() + " answered adds of " + sent.get() + " sent");
                // Unanswered adds are at most one per client (each waits for its answer before the next).
                assertTrue(sent.get() - answered.get() <= CLIENTS, sent + " sent, " + answered + " answered");
                System.out.println("[shared-restart] answered " + answered + ", sent " + sent + ", kept " + counter);
            }
        } finally {
            RunningServer.deleteTree(state);
        }
    }

    private static RunningServer start(Path state) throws Exception {
        return RunningServer.start(dir -> List.of("--listen", "unix:" + dir.resolve("s.sock"),
                "--state-dir", state.toString()), Map.of(), command -> command);
    }

    private static ForkdClient connect(RunningServer server) {
        return ForkdClient.connect(new ListenAddress.Unix(server.socket), Optional.empty(), Optional.empty());
    }
}
