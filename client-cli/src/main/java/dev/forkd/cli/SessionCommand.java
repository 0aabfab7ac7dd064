package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.CloseSessionRequest;
import dev.forkd.v1.CloseSessionResponse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code forkd session}: a session for a shell script. Sessions live as long as the stream that
 * opened them, so a small background holder ({@code forkd session hold}) opens it and keeps it; this
 * command starts the holder, reads the credential from it over a pipe, and prints the one line that
 * shows it: {@code export FORKD_SESSION=...}.
 */
@Command(name = "session", mixinStandardHelpOptions = true,
        description = {
            "Open a session for a shell script and print the line that hands it to the shell (see the example).",
            "Prints 'export FORKD_SESSION=...': commands run after it (forkd lock acquire, lock release, sem acquire,"
                    + " spawn --daemon) act in that session, so a lock taken by one command is held until another releases it.",
            "A small background process holds the session open. It ends, and the session with it (releasing its"
                    + " locks and permits and terminating its daemon processes), when 'forkd session close' closes it"
                    + " (within a third of --ttl), when process --parent exits (default: the process that ran this"
                    + " command; in a script give the shell's own pid, as below), or when it is killed.",
            "The credential is shown only in that line: never in an argument list, a listing or a log."
        },
        // A footer, not the description: descriptions are interpolated twice (see HelpText), and $$ must stay $$.
        footer = {"%nIn a script:",
            "  eval \"$(forkd session --parent $$$$)\"",
            "  forkd lock acquire deploy; ./deploy.sh; forkd lock release deploy",
            "  forkd session close"},
        subcommands = {SessionCommand.Close.class, SessionHolder.class})
final class SessionCommand extends ClientCommand {

    /** How long the holder may take to start its JVM and open the session. */
    static final Duration HOLDER_DEADLINE = Duration.ofSeconds(60);

    @Override
    boolean printsJson() {
        return false;
    }

    @Option(names = "--parent", paramLabel = "PID",
            description = "End the session when this process exits (default: the parent of this command; in a script, $$$$).")
    Long parent;

    @Option(names = "--ttl", paramLabel = "DURATION", converter = DurationConverter.class, defaultValue = "10s",
            description = "The session's lease: if its holder is stopped (or the server hears nothing) this long, it ends"
                    + " (default 10s).")
    Duration ttl;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "forkd session",
            description = "A label for humans, shown beside the session's public id.")
    String name;

    @Override
    int run(ForkdClient client, Invocation inv) throws Exception {
        long watched = parent != null ? parent
                : ProcessHandle.current().parent().map(ProcessHandle::pid).orElseThrow(() ->
                        new CliFailure("this command has no parent process to end the session with: give --parent PID",
                                ExitCodes.USAGE));
        if (ProcessHandle.of(watched).isEmpty()) {
            throw new CliFailure("--parent " + watched + ": no such process", ExitCodes.USAGE);
        }
        if (ttl.compareTo(Duration.ofMillis(100)) < 0 || ttl.compareTo(Duration.ofHours(1)) > 0) {
            throw new CliFailure("--ttl must be between 100ms and 1h", ExitCodes.USAGE);
        }
        var launch = SessionHolder.command(inv, client.address(), options, watched, ttl, name);
        ProcessBuilder pb = new ProcessBuilder(launch)
                .directory(new java.io.File("/"))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().clear();
        pb.environment().putAll(inv.env());
        // A session this shell held before must not be the holder's: the holder opens a new one.
        pb.environment().remove("FORKD_SESSION");
        Process holder;
        try {
            holder = pb.start();
        } catch (IOException e) {
            throw new CliFailure("cannot start the session holder: " + e.getMessage(), ExitCodes.ERROR, e);
        }
        String first = firstLine(holder);
        String[] f = first.split("\t", 3);
        if (f.length == 3 && f[0].equals(SessionHolder.OPENED)) {
            inv.out().println("export FORKD_SESSION=" + ProcessText.command(java.util.List.of(f[2])));
            inv.err().println("forkd: session " + f[1] + " is open, held by process " + holder.pid()
                    + "; it ends with 'forkd session close' or when process " + watched + " exits");
            return ExitCodes.OK;
        }
        if (f.length == 3 && f[0].equals(SessionHolder.FAILED)) {
            throw new CliFailure(f[2], parseCode(f[1]));
        }
        holder.destroy();
        throw new CliFailure("the session holder (process " + holder.pid() + ") ended without opening a session"
                + (holder.isAlive() ? "" : " (exit status " + holder.exitValue() + ")"), ExitCodes.ERROR);
    }

    /** The holder's one line on its stdout (a pipe to us, closed after it), or empty if it died first. */
    private static String firstLine(Process holder) throws InterruptedException {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try (var r = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))) {
                String l = r.readLine();
                return l == null ? "" : l;
            } catch (IOException e) {
                return "";
            }
        });
        try {
            return line.get(HOLDER_DEADLINE.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return "";
        } catch (TimeoutException e) {
            holder.destroyForcibly();
            throw new CliFailure("the session holder did not open a session within " + HOLDER_DEADLINE.toSeconds() + " s",
                    ExitCodes.ERROR);
        }
    }

    private static int parseCode(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return ExitCodes.ERROR;
        }
    }

    @Command(name = "close", mixinStandardHelpOptions = true,
            description = {"Close the session in $FORKD_SESSION (or --session): what it holds is released now, and its"
                    + " holder process exits."})
    static final class Close extends ClientCommand {

        @Override
        boolean printsJson() {
            return false;
        }

        @Override
        boolean autostarts() {
            return false; // a new server has no session to close
        }

        @Override
        int run(ForkdClient client, Invocation inv) {
            if (options.session(inv).isEmpty()) {
                throw new CliFailure("no session to close: $FORKD_SESSION is not set (and no --session given)",
                        ExitCodes.USAGE);
            }
            CloseSessionResponse r = client.sessions().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .close(CloseSessionRequest.getDefaultInstance());
            inv.out().println("closed the session" + (r.getTerminatedProcesses() > 0
                    ? "; " + r.getTerminatedProcesses() + " of its daemon processes terminated" : ""));
            return ExitCodes.OK;
        }
    }
}
