package dev.forkd.server.process;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.process.ProcessRecord.StdinAck;
import dev.forkd.server.process.ProcessTable.StdinResult;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Writes to a running child's stdin: each is sent to its agent, and answered, in order, by the
 * agent's acknowledgement; at most {@link #MAX_IN_FLIGHT} at once. A run's end fails those still
 * waiting.
 */
final class ProcessStdin {

    /** Stdin writes one process may have in flight at once. */
    static final int MAX_IN_FLIGHT = 64;

    /** Where failed writes are answered, off the caller's monitor. */
    private final Executor answers;

    ProcessStdin(Executor answers) {
        this.answers = answers;
    }

    /** Sends a write to the child; {@code onDone} gets the agent's answer. Refusals throw. Monitor held. */
    void write(ProcessRecord rec, byte[] data, boolean close, Consumer<StdinResult> onDone) {
        if (!rec.spec.stdinPipe()) {
            throw new ForkdException.FailedPrecondition("STDIN_NOT_PIPED",
                    "process \"" + rec.id + "\" was not spawned with stdin_mode PIPE",
                    Map.of("id", rec.id));
        }
        if (!(rec.state instanceof ProcessState.Running)) {
            throw new ForkdException.FailedPrecondition("PROCESS_NOT_RUNNING",
                    "process \"" + rec.id + "\" is not running (" + ProcessTable.stateName(rec.state) + ")",
                    Map.of("id", rec.id));
        }
        ProcessRestore.requireClaimed(rec);
        if (rec.stdinClosed) {
            throw new ForkdException.FailedPrecondition("STDIN_CLOSED",
                    "stdin of process \"" + rec.id + "\" is already closed", Map.of("id", rec.id));
        }
        if (rec.stdinAcks.size() >= MAX_IN_FLIGHT) {
            throw new ForkdException.ResourceExhausted("STDIN_BACKLOG",
                    "too many stdin writes in flight for process \"" + rec.id + "\"");
        }
        rec.stdinClosed = close;
        rec.stdinAcks.addLast(ack -> onDone.accept(
                new StdinResult(ack.bytes(), ack.closed(), ack.error())));
        rec.agent.writeStdin(rec.id, rec.run, data, close);
    }

    /** The agent answered the oldest write of run {@code run}; a stale run's answer is dropped. */
    void written(ProcessRecord rec, int run, long bytes, boolean closed, Optional<String> error) {
        Consumer<StdinAck> ack;
        synchronized (rec) {
            if (!rec.isRunOf(run)) {
                return;
            }
            ack = rec.stdinAcks.pollFirst();
        }
        if (ack != null) {
            ack.accept(new StdinAck(bytes, closed, error));
        }
    }

    /** The run ended, or its agent is gone: every write still waiting fails with {@code why}. Monitor held. */
    void failAll(ProcessRecord rec, String why) {
        while (!rec.stdinAcks.isEmpty()) {
            Consumer<StdinAck> ack = rec.stdinAcks.pollFirst();
            answers.execute(() -> ack.accept(new StdinAck(0, true, Optional.of(why))));
        }
    }
}
