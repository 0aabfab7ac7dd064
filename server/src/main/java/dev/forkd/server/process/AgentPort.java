package dev.forkd.server.process;

import dev.forkd.server.limits.ResourceLimits;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What the process core asks of the agent that runs a child. Implemented over the agent stream. */
public interface AgentPort {

    String agentId();

    /** Start a child; the answer comes back as {@code onStarted} or {@code onStartFailed}. */
    void start(StartCommand command);

    /** Send {@code signal} to the child's whole process group. */
    void signal(String processId, int run, int signal);

    /** Stop ({@code hold}) or resume reading the child's output, for a watcher that must lose nothing. */
    void holdOutput(String processId, int run, boolean hold);

    /** Write to the child's stdin; the answer comes back as {@code onStdinWritten}. */
    void writeStdin(String processId, int run, byte[] data, boolean close);

    /** What an agent is asked to run. {@code env} is the whole environment. */
    record StartCommand(String processId, int run, List<String> argv, Map<String, String> env,
            Optional<String> cwd, boolean stdinPipe, ResourceLimits limits) {

        /** A start with no resource limits of forkd's. */
        public StartCommand(String processId, int run, List<String> argv, Map<String, String> env,
                Optional<String> cwd, boolean stdinPipe) {
            this(processId, run, argv, env, cwd, stdinPipe, ResourceLimits.NONE);
        }
    }
}
