package dev.forkd.cli;

import dev.forkd.client.ClientSession;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.StdinMode;
import dev.forkd.v1.WatchProcessRequest;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {
            "Run a command in the foreground and exit with its status.",
            "Its output streams here, Ctrl-C (and TERM, HUP) go to it, and forkd exits with its status:",
            "the code, or 128+N for signal N; 127 if its program was not found, 126 if it is not executable.",
            "It inherits your environment (as a local command does) unless --clean-env."
        })
final class RunCommand extends ClientCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    /** 128 + SIGPIPE: what a shell reports for a writer whose reader closed the pipe. */
    static final int BROKEN_PIPE = 128 + 13;

    @Mixin
    SpawnOptions spawn;

    @Option(names = {"-i", "--interactive"}, description = "Send this terminal's stdin to the command.")
    boolean interactive;

    @Override
    int run(ForkdClient client, Invocation inv) throws Exception {
        Optional<ClientSession> ownSession = spawn.daemon && options.session(inv).isEmpty()
                ? Optional.of(client.openSession("forkd run", Duration.ofSeconds(10), CALL_DEADLINE))
                : Optional.empty();
        try {
            ProcessServiceGrpc.ProcessServiceBlockingStub blocking = ownSession
                    .map(s -> client.processes().withInterceptors(ForkdClient.sessionHeader(s.credential())))
                    .orElseGet(client::processes);
            SpawnRequest request = spawn.toRequest(inv.cwd(), inv.env())
                    .setStdinMode(interactive ? StdinMode.STDIN_MODE_PIPE : StdinMode.STDIN_MODE_NONE)
                    .setHoldOutput(true) // nothing is lost before our Watch attaches
                    .build();
            ProcessInfo started;
            try {
                started = blocking.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .spawn(request).getProcess();
            } catch (io.grpc.StatusRuntimeException e) {
                throw new CliFailure(ExitCodes.describe(e), ExitCodes.ofStartRefusal(e));
            }
            String id = started.getId();
            if (started.getState() == dev.forkd.v1.ProcessState.PROCESS_STATE_FAILED_TO_START) {
                throw new CliFailure(ProcessText.summary(started), ExitCodes.FAILED_TO_START);
            }
            SignalForwarding forwarding = inv.forwardSignals()
                    ? SignalForwarding.install(signal -> forward(blocking, id, signal, inv))
                    : SignalForwarding.none();
            try {
                if (interactive) {
                    StdinForwarder.start(client.processesAsync(), inv.in(), id);
                }
                ProcessInfo last;
                try {
                    last = new OutputSink(inv)
                            .drain(blocking.watch(WatchProcessRequest.newBuilder().setName(id).setFollow(true).setHoldOutput(true).build()))
                            .orElse(started);
                } catch (OutputSink.Closed e) {
                    // As in a shell pipeline: the writer whose reader went away gets SIGPIPE.
                    forward(blocking, id, "PIPE", inv);
                    return BROKEN_PIPE;
                }
                if (!ProcessText.ended(last)) {
                    // The watch ended early (the server went away, or a restart policy keeps it going).
                    last = blocking.join(JoinProcessRequest.newBuilder().setName(id).build()).getProcess();
                }
                return exit(last, inv);
            } finally {
                forwarding.close();
            }
        } finally {
            ownSession.ifPresent(ClientSession::close);
        }
    }

    private static int exit(ProcessInfo last, Invocation inv) {
        switch (last.getState()) {
            case PROCESS_STATE_EXITED, PROCESS_STATE_SIGNALED -> { }
            default -> {
                inv.err().println("forkd: " + ProcessText.summary(last));
            }
        }
        return ProcessText.exitStatus(last);
    }

    private static void forward(
            ProcessServiceGrpc.ProcessServiceBlockingStub blocking, String id, String signal, Invocation inv) {
        try {
            blocking.withDeadlineAfter(5, TimeUnit.SECONDS).signal(SignalRequest.newBuilder()
                    .setName(id).setKind(SignalKind.SIGNAL_KIND_NAMED).setSignal(signal).build());
        } catch (StatusRuntimeException e) {
            // It has most likely just ended; the watch reports how.
            inv.err().println("forkd: could not pass SIG" + signal + " to " + id + ": " + ExitCodes.describe(e.getStatus()));
            inv.err().flush();
        }
    }
}
