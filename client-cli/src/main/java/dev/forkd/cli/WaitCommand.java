package dev.forkd.cli;

import com.google.protobuf.util.Durations;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.JoinProcessResponse;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessServiceGrpc;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "wait", mixinStandardHelpOptions = true,
        description = {
            "Wait for a process to end and exit with its status.",
            "Prints how it ended and exits with its status (the code, or 128+N for signal N);",
            "exits 124 if it is still running when the timeout passes."
        })
final class WaitCommand extends ClientCommand {

    @Parameters(paramLabel = "ID", arity = "1..*",
            description = "Process ids or names; with several, waits for all and exits with the highest status.")
    List<String> ids;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Give up waiting after this long (500ms, 10s, 2m, ...); default: wait until it ends.")
    Duration timeout;

    @Override
    int run(ForkdClient client, Invocation inv) {
        // One --timeout for all of them: each wait gets what the earlier ones left.
        long giveUpAt = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        return EachId.run(ids, inv, id -> join(client, inv, id,
                timeout == null ? null : Duration.ofNanos(Math.max(0, giveUpAt - System.nanoTime()))));
    }

    private int join(ForkdClient client, Invocation inv, String id, Duration left) {
        JoinProcessRequest.Builder request = JoinProcessRequest.newBuilder().setName(id);
        ProcessServiceGrpc.ProcessServiceBlockingStub stub = client.processes();
        if (left != null) {
            request.setTimeout(Durations.fromNanos(left.toNanos()));
            // The server answers at the timeout; the deadline only guards against a server that does not.
            stub = stub.withDeadlineAfter(left.plus(CALL_DEADLINE).toMillis(), TimeUnit.MILLISECONDS);
        }
        JoinProcessResponse joined = stub.join(request.build());
        if (joined.getTimedOut() || !ProcessText.ended(joined.getProcess())) {
            if (options.json()) {
                Json.print(inv.out(), joined.getProcess());
            }
            ProcessInfo p = joined.getProcess();
            String who = p.getName().isEmpty() ? p.getId() : p.getId() + " (" + p.getName() + ")";
            inv.err().println("forkd: " + who + " is still " + ProcessText.state(p.getState())
                    + (timeout == null ? "" : " after " + ProcessText.exactDuration(timeout))
                    + (p.getPid() == 0 ? "" : " (pid " + p.getPid() + ")"));
            return ExitCodes.STILL_RUNNING;
        }
        if (options.json()) {
            Json.print(inv.out(), joined.getProcess());
        } else {
            inv.out().println(ProcessText.summary(joined.getProcess()));
        }
        return ProcessText.exitStatus(joined.getProcess());
    }
}
