package dev.forkd.cli;

import dev.forkd.client.ServerTarget;
import java.util.Optional;

/**
 * {@code forkd ps}, the command people run most, answered without picocli when it is given plainly:
 * no option but {@code -a}/{@code --all} and {@code -q}/{@code --quiet}. Building picocli's model of
 * {@code forkd} and {@code ps} (annotations, reflection) is about a third of such a call's CPU, so
 * this path meets the latency targets the full one misses (README, "A short command's cost").
 *
 * <p>It runs the same {@link PsCommand} through the same {@link ClientCommand#callServer}, with the
 * server, token, session and TLS from the environment as the options' defaults are; its errors are
 * printed and mapped to exit codes as {@link ExitCodes} does for every command. Anything else
 * ({@code --help}, {@code --json}, a filter, a global option, a value that does not parse) is left
 * to picocli, which answers it as it always did.
 */
final class PlainPs {

    private PlainPs() {
    }

    /** The exit code of a plain {@code ps}; empty when {@code args} are anything else. */
    static Optional<Integer> run(Invocation inv, String[] args) {
        if (args.length == 0 || !args[0].equals("ps")) {
            return Optional.empty();
        }
        PsCommand ps = new PsCommand();
        ps.options = new ClientOptions();
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "-a", "--all" -> ps.all = true;
                case "-q", "--quiet" -> ps.quiet = true;
                default -> {
                    return Optional.empty();
                }
            }
        }
        ServerTarget target;
        try {
            target = ServerTarget.resolve(Optional.empty(), inv.env());
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // picocli says it as a usage error
        }
        try {
            return Optional.of(ps.callServer(target, inv));
        } catch (Exception e) {
            inv.err().println("forkd: " + ExitCodes.describe(e));
            return Optional.of(new ExitCodes().getExitCode(e));
        }
    }
}
