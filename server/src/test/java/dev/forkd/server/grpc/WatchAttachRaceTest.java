package dev.forkd.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.process.AgentPool;
import dev.forkd.server.process.AgentPort;
import dev.forkd.server.process.OutputLog;
import dev.forkd.server.process.ChildSessions;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code forkd run -- env} once hung for good under load: the child ended while its Watch was
 * attaching. The table called the new watcher back (from the agent's thread) before the watcher had
 * its handle on the process; that pass failed, and the failed pass left the watcher's drain stuck,
 * so the watch never sent a thing, not even the end. Here the agent reports the exit at the worst
 * moment, from inside the attach (when the watcher's hold lets the held output resume), and the
 * drain runs at once: deterministic, where the real race needed a loaded machine.
 */
@Timeout(60)
class WatchAttachRaceTest {

    /** Output past half the cap makes the table hold it; resuming it is the hook into the attach. */
    private static final int OUTPUT_LIMIT = 1024;

    private ScheduledExecutorService timers;
    private Server server;
    private ManagedChannel channel;

    /** An agent that starts at once, and whose child exits the moment its output is resumed. */
    private static final class ExitOnResumeAgent implements AgentPort {
        ProcessTable table;
        ScheduledExecutorService exec;
        final List<String> resumed = new ArrayList<>();

        @Override
        public String agentId() {
            return "a-test";
        }

        @Override
        public void start(StartCommand c) {
            exec.execute(() -> table.onStarted(c.processId(), c.run(), 4242));
        }

        @Override
        public void signal(String processId, int run, int signal) {
            exec.execute(() -> table.onExited(processId, run, -signal));
        }

        @Override
        public void holdOutput(String processId, int run, boolean hold) {
            if (!hold) {
                resumed.add(processId);
                table.onExited(processId, run, 0);
            }
        }

        @Override
        public void writeStdin(String processId, int run, byte[] data, boolean close) {}
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        timers.shutdownNow();
    }

    @Test
    void aChildThatEndsWhileItsWatchAttachesStillEndsTheWatch() throws Exception {
        timers = Executors.newScheduledThreadPool(2);
        ExitOnResumeAgent agent = new ExitOnResumeAgent();
        agent.exec = timers;
        AgentPool agents = (onAgent, onFailure) -> onAgent.accept(agent);
        agent.table = new ProcessTable(agents, pgid -> {}, ChildSessions.NONE, timers,
                Clock.systemUTC(), () -> 0.5, 100);
        String name = InProcessServerBuilder.generateName();
        // Drains run on the thread that signals them: the agent's report runs the watcher's first pass
        // right inside the attach, which on a pool happens only when the machine is slow.
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(new ProcessServiceAdapter(agent.table, Map.of("PATH", "/bin"), Map.of(),
                        OUTPUT_LIMIT, OUTPUT_LIMIT, Runnable::run))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        ProcessServiceGrpc.ProcessServiceBlockingStub stub = ProcessServiceGrpc.newBlockingStub(channel);

        String id = stub.withDeadlineAfter(10, TimeUnit.SECONDS).spawn(SpawnRequest.newBuilder()
                .addArgv("env").setHoldOutput(true).build()).getProcess().getId();
        // Held for the spawn's watcher: more than half the cap behind makes the table hold the output.
        byte[] line = "PATH=/bin\n".repeat(60).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        agent.table.onOutput(id, 0, OutputLog.Stream.STDOUT, ByteBuffer.wrap(line));

        Iterator<WatchProcessResponse> watch = stub.withDeadlineAfter(30, TimeUnit.SECONDS)
                .watch(WatchProcessRequest.newBuilder().setName(id).setFollow(true).setHoldOutput(true)
                        .setFromOffset(line.length).build());
        ProcessInfo last = null;
        while (watch.hasNext()) { // a stuck watch fails here with DEADLINE_EXCEEDED
            WatchProcessResponse event = watch.next();
            if (event.hasState()) {
                last = event.getState();
            }
        }
        assertEquals(List.of(id), agent.resumed, "the attach resumed the held output (the hook ran)");
        assertTrue(last != null, "the watch reported no state");
        assertEquals(ProcessState.PROCESS_STATE_EXITED, last.getState(), last.toString());
    }
}
