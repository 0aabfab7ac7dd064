package dev.forkd.cli;

import dev.forkd.client.ClientSession;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.SyncKind;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "with-lock", mixinStandardHelpOptions = true,
        description = {
            "Run a command here while holding a named lock, like flock(1) but across hosts.",
            "Opens its own session, acquires the lock (waiting in line), runs CMD as a local child with",
            "FORKD_LOCK and FORKD_FENCING_TOKEN in its environment, releases, and exits with CMD's status",
            "(128+N for signal N; 124 if --timeout passes before the lock is acquired). If this command dies,",
            "its session ends and the lock passes on at once."
        })
class WithLockCommand extends ClientCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(index = "0", paramLabel = "NAME", description = "The lock's name (created on first use).")
    String name;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "The command and its arguments.")
    List<String> command;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Give up if the lock is not acquired within this long; default: wait.")
    Duration timeout;

    @Override
    int run(ForkdClient client, Invocation inv) throws Exception {
        if (command.getFirst().equals("--")) {
            command = command.subList(1, command.size()); // `with-lock NAME -- CMD`: picocli stops at NAME
        }
        if (command.isEmpty()) {
            throw new CliFailure("give the command to run after NAME (forkd with-lock NAME -- CMD...)", ExitCodes.USAGE);
        }
        // Its own session, not $FORKD_SESSION: the lock must go when this command goes.
        ForkdClient own = options.session(inv).isEmpty() ? client
                : options.connect(client.address(), inv, Optional.empty());
        try (ClientSession session = own.openSession("forkd " + spec.name() + " " + name, Duration.ofSeconds(10), CALL_DEADLINE)) {
            var sync = own.sync().withInterceptors(ForkdClient.sessionHeader(session.credential()));
            var req = acquire();
            AcquireResponse got = Waits.acquire(sync, req, timeout);
            if (!got.getAcquired()) {
                inv.err().println("forkd: " + name + " not acquired within " + ProcessText.exactDuration(timeout));
                return ExitCodes.STILL_RUNNING;
            }
            if (got.getAbandoned()) {
                inv.err().println("forkd: note: the previous holder of " + name + " died holding it");
                inv.err().flush();
            }
            int status;
            try {
                status = runHere(inv, got.getFencingToken());
            } finally {
                sync.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .release(ReleaseRequest.newBuilder().setName(name).build());
            }
            return status;
        } finally {
            if (own != client) {
                own.close();
            }
        }
    }

    /** What to acquire: a lock here; {@code with-sem} asks for a semaphore permit. */
    AcquireRequest.Builder acquire() {
        return AcquireRequest.newBuilder().setName(name).setKind(SyncKind.SYNC_KIND_LOCK);
    }

    private int runHere(Invocation inv, long token) throws InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(inv.cwd().toFile()).inheritIO();
        pb.environment().clear();
        pb.environment().putAll(inv.env());
        pb.environment().put("FORKD_LOCK", name);
        pb.environment().put("FORKD_FENCING_TOKEN", Long.toString(token));
        inv.out().flush();
        inv.err().flush();
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new CliFailure("cannot run " + command.getFirst() + ": " + e.getMessage(), ExitCodes.FAILED_TO_START, e);
        }
        try {
            return p.waitFor(); // a signal shows as 128+N, as in a shell
        } catch (InterruptedException e) {
            p.destroy();
            throw e;
        }
    }
}
