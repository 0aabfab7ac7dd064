package dev.forkd.cli;

import com.google.protobuf.util.Durations;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "kill", mixinStandardHelpOptions = true,
        description = {
            "Signal a process (its whole process group).",
            "The default, TERM, sends SIGTERM and then SIGKILL after the grace period;",
            "KILL (or 9) kills at once; any other name or number is sent as it is."
        })
final class KillCommand extends ClientCommand {

    @Parameters(paramLabel = "ID", arity = "1..*", description = "Process ids or names.")
    List<String> ids;

    @Option(names = {"-s", "--signal"}, paramLabel = "SIG", defaultValue = "TERM",
            description = "Signal name or number (default ${DEFAULT-VALUE}).")
    String signal;

    @Option(names = "--grace", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "For TERM: time before SIGKILL (default: the process's stop grace).")
    Duration grace;

    @Override
    int run(ForkdClient client, Invocation inv) {
        SignalRequest.Builder request = SignalRequest.newBuilder();
        String name = signal.strip().toUpperCase(Locale.ROOT);
        if (name.startsWith("SIG")) {
            name = name.substring(3);
        }
        switch (name) {
            case "TERM", "15" -> request.setKind(SignalKind.SIGNAL_KIND_TERMINATE);
            case "KILL", "9" -> request.setKind(SignalKind.SIGNAL_KIND_KILL);
            case "" -> throw new CliFailure("-s needs a signal name or number", ExitCodes.USAGE);
            default -> request.setKind(SignalKind.SIGNAL_KIND_NAMED).setSignal(name);
        }
        if (grace != null) {
            if (request.getKind() != SignalKind.SIGNAL_KIND_TERMINATE) {
                throw new CliFailure("--grace only applies to TERM", ExitCodes.USAGE);
            }
            request.setGrace(Durations.fromNanos(grace.toNanos()));
        }
        return EachId.run(ids, inv, id -> {
            ProcessInfo p = client.processes().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .signal(request.setName(id).build()).getProcess();
            if (options.json()) {
                Json.print(inv.out(), p);
            }
            return ExitCodes.OK;
        });
    }
}
