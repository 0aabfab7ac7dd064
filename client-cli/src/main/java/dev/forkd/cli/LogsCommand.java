package dev.forkd.cli;

import com.google.protobuf.Timestamp;
import dev.forkd.client.ForkdClient;
import java.time.Instant;
import java.util.Optional;
import dev.forkd.v1.WatchProcessRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "logs", mixinStandardHelpOptions = true,
        description = {"Print a process's output.", "Its stdout goes to stdout, its stderr to stderr."})
final class LogsCommand extends ClientCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(paramLabel = "ID", description = "Process id or name.")
    String id;

    @Option(names = {"-f", "--follow"}, description = "Keep printing until the process ends.")
    boolean follow;

    @Option(names = "--from", paramLabel = "OFFSET", defaultValue = "0",
            description = "Start at this byte offset of the output (default: from the start still kept).")
    long from;

    @Option(names = {"-n", "--tail"}, paramLabel = "N",
            description = "Only the last N lines kept so far (stdout and stderr counted together), then with -f what follows.")
    Integer tail;

    @Option(names = "--since", paramLabel = "WHEN",
            description = "Only output captured at or after WHEN: a time ago (10m, 1h30m, 90s) or an ISO time "
                    + "(2026-12-01T10:00:00Z, or local without a zone). Combines with --tail and -f.")
    String since;

    @Override
    int run(ForkdClient client, Invocation inv) throws Exception {
        if (from < 0) {
            throw new CliFailure("--from must be 0 or more, got " + from, ExitCodes.USAGE);
        }
        if (tail != null && tail < 0) {
            throw new CliFailure("--tail must be 0 or more, got " + tail, ExitCodes.USAGE);
        }
        Optional<Instant> after = since == null ? Optional.empty() : Optional.of(Since.parse(since, java.time.Clock.systemDefaultZone()));
        try {
            long start = from;
            if (tail != null) {
                LogTail last = LogTail.read(client.processes().watch(since(WatchProcessRequest.newBuilder()
                        .setName(id).setFromOffset(from), after).build()), from);
                last.print(tail, inv);
                if (!follow) {
                    return ExitCodes.OK;
                }
                start = last.end();
            }
            // After a tail the offset it ended at already is at or after the time.
            new OutputSink(inv).drain(client.processes().watch(since(WatchProcessRequest.newBuilder()
                    .setName(id).setFromOffset(start).setFollow(follow), tail == null ? after : Optional.empty()).build()));
        } catch (OutputSink.Closed e) {
            return RunCommand.BROKEN_PIPE; // `forkd logs -f x | head` ends when head does
        }
        return ExitCodes.OK;
    }

    private static WatchProcessRequest.Builder since(WatchProcessRequest.Builder r, Optional<Instant> after) {
        after.ifPresent(t -> r.setSince(Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano())));
        return r;
    }
}
