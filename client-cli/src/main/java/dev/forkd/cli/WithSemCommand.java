package dev.forkd.cli;

import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.SyncKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code with-lock} for a semaphore: at most N commands at once hold a permit, across hosts (like sem(1)). */
@Command(name = "with-sem", mixinStandardHelpOptions = true,
        description = {
            "Run a command here while holding a permit of a named semaphore: at most N such commands run at once.",
            "Opens its own session, acquires a permit (waiting in line), runs CMD as a local child with",
            "FORKD_LOCK (the semaphore's name) and FORKD_FENCING_TOKEN in its environment, releases, and exits with",
            "CMD's status (128+N for signal N; 124 if --timeout passes before a permit is acquired).",
            "If this command dies, its session ends and the permit passes on at once."
        })
final class WithSemCommand extends WithLockCommand {

    @Option(names = "--value", paramLabel = "N",
            description = "Permits of the semaphore if this creates it (default 1); if it exists, must match.")
    Integer value;

    @Override
    AcquireRequest.Builder acquire() {
        AcquireRequest.Builder r = AcquireRequest.newBuilder().setName(name).setKind(SyncKind.SYNC_KIND_SEMAPHORE);
        if (value != null) {
            if (value < 1) {
                throw new CliFailure("--value must be at least 1, got " + value, ExitCodes.USAGE);
            }
            r.setValue(value);
        }
        return r;
    }
}
