package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.ProcessInfo;
import java.io.PrintStream;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "get", mixinStandardHelpOptions = true, description = "Show one process.")
final class GetCommand extends ClientCommand {

    @Parameters(paramLabel = "ID", description = "Process id or name.")
    String id;

    @Override
    boolean callsDirectly() {
        return true;
    }

    @Override
    int run(ForkdClient client, Invocation inv) {
        ProcessInfo p = client.processes().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .get(GetProcessRequest.newBuilder().setName(id).build()).getProcess();
        if (options.json()) {
            Json.print(inv.out(), p);
        } else {
            describe(inv.out(), p, Instant.now());
        }
        return ExitCodes.OK;
    }

    private static void describe(PrintStream out, ProcessInfo p, Instant now) {
        field(out, "id", p.getId());
        field(out, "name", p.getName());
        field(out, "state", ProcessText.state(p.getState()));
        field(out, "summary", ProcessText.summary(p));
        field(out, "pid", p.getPid() == 0 ? "" : Integer.toString(p.getPid()));
        field(out, "exit", ProcessText.exitColumn(p));
        field(out, "command", ProcessText.command(p.getArgvList()));
        field(out, "cwd", p.getCwd());
        field(out, "labels", p.getLabelsMap().entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue()).sorted().collect(Collectors.joining(",")));
        field(out, "agent", p.getAgentId());
        field(out, "age", ProcessText.age(p, now));
        field(out, "runtime", ProcessText.runtime(p, now));
        field(out, "restarts", Integer.toString(p.getRestartCount()));
        field(out, "daemon", p.getDaemon() ? "yes" : "");
        field(out, "session", p.getSessionId());
        field(out, "output", p.getOutputStartOffset() + ".." + p.getOutputEndOffset() + " bytes");
        field(out, "failure", p.getFailure());
    }

    private static void field(PrintStream out, String key, String value) {
        if (!value.isEmpty()) {
            out.printf("%-9s %s%n", key, value);
        }
    }
}
