package dev.forkd.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A real worker-agent JVM, launched the way the supervisor launches it, from the test class path. */
final class AgentProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    /** The secret every test agent registers with (the supervisor's side is a fake here). */
    static final String AGENT_SECRET = "agent-secret-for-tests";

    AgentProcess(String supervisorAddress, String agentId, int capacity, String token, Path log) throws IOException {
        this(supervisorAddress, agentId, capacity, token, log, Duration.ZERO);
    }

    /** An agent that keeps its children and dials again for {@code orphanGrace} after its supervisor goes. */
    AgentProcess(String supervisorAddress, String agentId, int capacity, String token, Path log, Duration orphanGrace)
            throws IOException {
        this(supervisorAddress, agentId, capacity, token, log, orphanGrace, List.of());
    }

    /** As above, with more options for the agent's command line (e.g. its redial back-off). */
    AgentProcess(String supervisorAddress, String agentId, int capacity, String token, Path log, Duration orphanGrace,
            List<String> moreOptions) throws IOException {
        this.log = log;
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), AgentMain.class.getName(),
                "--supervisor", supervisorAddress, "--agent-id", agentId, "--capacity", String.valueOf(capacity),
                // ProcessBuilder can pass no fd but 0-2: the secrets come on stdin here (fd 3 from
                // the real supervisor); the agent reads either to its end, as it does fd 3.
                "--secret-fd", "0", "--heartbeat-millis", "500",
                "--orphan-grace-millis", String.valueOf(orphanGrace.toMillis())));
        command.addAll(moreOptions);
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectOutput(log.toFile())
                .redirectErrorStream(true);
        process = builder.start();
        try (var secrets = process.getOutputStream()) {
            secrets.write((token + "\n" + AGENT_SECRET + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    long pid() {
        return process.pid();
    }

    /** Waits for the agent to exit and returns its exit code. */
    int awaitExit(Duration timeout) throws Exception {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("agent did not exit within " + timeout + "; log:\n" + log());
        }
        return process.exitValue();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Asserts that no process (zombies included) is left whose parent is the agent, waiting up to
     * the timeout for ones still being killed and reaped.
     */
    void assertNoChildrenWithin(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle child : ProcessHandle.of(pid()).orElseThrow().children().toList()) {
            long left = Math.max(1, deadline - System.nanoTime());
            child.onExit().get(left, TimeUnit.NANOSECONDS);
        }
        List<ProcessHandle> left = ProcessHandle.of(pid()).orElseThrow().children().toList();
        assertEquals(List.of(), left.stream().map(ProcessHandle::pid).toList(), "children of the agent");
    }

    String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroyForcibly();
            assertTrue(process.waitFor(10, TimeUnit.SECONDS), "agent did not die on SIGKILL");
        }
    }
}
