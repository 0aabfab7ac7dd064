package dev.forkd.cli;

import dev.forkd.client.ClientSession;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.SyncKind;
import dev.forkd.v1.SyncServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "with-lock", mixinStandardHelpOptions = true,
        description = {
            "Run a command here while holding a named lock, like flock(1) but across hosts.",
            "Opens its own session, acquires the lock (waiting in line), runs CMD as a local child with",
            "FORKD_LOCK and FORKD_FENCING_TOKEN in its environment, releases, and exits with CMD's status",
            "(128+N for signal N; 124 if --timeout passes before the lock is acquired). If this command dies,",
            "its session ends and the lock passes on at once. A server restart keeps the lock (the session",
            "resumes); if the session is lost instead, a warning says that the lock is no longer held."
        })
class WithLockCommand extends ClientCommand {

    /** How long a release waits for a restarting server to take the session back. */
    private static final Duration RESUME_LIMIT = Duration.ofSeconds(60);

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
            // A server restart that keeps the session keeps the lock: nothing to say. Only a lost
            // session means CMD may no longer be alone, and the user must know it at once.
            LostLock lostLock = new LostLock(inv, name, got.getFencingToken());
            session.lost().thenAccept(why -> lostLock.say(why.getStatus()));
            int status;
            try {
                status = runHere(inv, got.getFencingToken());
            } finally {
                release(sync, session, lostLock);
            }
            return status;
        } finally {
            if (own != client) {
                own.close();
            }
        }
    }

    /**
     * Releases what was acquired. If the server is away (restarting), waits for the session to resume
     * and releases then; a session that was lost holds nothing any more.
     */
    private void release(SyncServiceGrpc.SyncServiceBlockingStub sync, ClientSession session, LostLock lostLock)
            throws InterruptedException {
        ReleaseRequest req = ReleaseRequest.newBuilder().setName(name).build();
        try {
            sync.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS).release(req);
            return;
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.UNAUTHENTICATED) {
                // The server no longer knows the session (a restart that did not keep it, found
                // before the session's own resume did): the lock went with it.
                lostLock.say(e.getStatus());
                return;
            }
            if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                throw e;
            }
        }
        try {
            session.whenConnected().toCompletableFuture().get(RESUME_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException lost) {
            return; // the lock went with the session; the warning is out
        } catch (TimeoutException e) {
            throw new CliFailure("could not release " + name + ": the server did not come back within "
                    + RESUME_LIMIT.toSeconds() + " s (the lock passes on when the session's lease ends)",
                    ExitCodes.UNREACHABLE, e);
        }
        try {
            sync.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS).release(req);
        } catch (StatusRuntimeException e) {
            // The first release may have reached the server before it went away: then it is done.
            if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION) {
                throw e;
            }
        }
    }

    /** Tells the user, once, that the lock is no longer held. */
    private static final class LostLock {
        private final Invocation inv;
        private final String name;
        private final long token;
        private final java.util.concurrent.atomic.AtomicBoolean said = new java.util.concurrent.atomic.AtomicBoolean();

        LostLock(Invocation inv, String name, long token) {
            this.inv = inv;
            this.name = name;
            this.token = token;
        }

        void say(Status why) {
            if (said.compareAndSet(false, true)) {
                inv.err().println("forkd: warning: " + name + " is no longer held (fencing token " + token
                        + "): the session holding it was lost: " + why.getDescription());
                inv.err().flush();
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
