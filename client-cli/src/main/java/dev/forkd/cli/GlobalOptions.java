package dev.forkd.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;

/**
 * Lets the client options come before the subcommand ({@code forkd --json ps},
 * {@code forkd --address host:7000 queue ls q}), as they do for git, docker and kubectl.
 *
 * <p>Each client command declares them through {@link ClientOptions}; rather than declaring them a
 * second time on {@code forkd} itself (picocli's inherited options would also reach {@code serve},
 * which has its own {@code --listen} and TLS options, and would need every command to read two
 * places), the leading ones are moved to just after the command's path, where the command parses
 * them as if typed there. Only the leading run is moved: after the command's words everything is the
 * command's own ({@code forkd run sh --json} passes {@code --json} to sh).
 */
final class GlobalOptions {

    /** The client options that take a value. */
    private static final Set<String> WITH_VALUE =
            Set.of("--address", "--token-file", "--tls-ca", "--tls-cert", "--tls-key", "--session");
    private static final Set<String> FLAGS = Set.of("--json", "--no-autostart");

    private GlobalOptions() {}

    /** The client options at the front of {@code args}, with their values; empty when there are none. */
    static List<String> leading(String[] args) {
        List<String> found = new ArrayList<>();
        int i = 0;
        while (i < args.length) {
            String a = args[i];
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (FLAGS.contains(a)) {
                found.add(a);
                i++;
            } else if (WITH_VALUE.contains(name) && a.contains("=")) {
                found.add(a);
                i++;
            } else if (WITH_VALUE.contains(a) && i + 1 < args.length) {
                found.add(a);
                found.add(args[i + 1]);
                i += 2;
            } else {
                break;
            }
        }
        return found;
    }

    /**
     * {@code args} with the leading client options moved after the command words that {@code cl}
     * knows ({@code queue ls}); {@code rest} is {@code args} without them.
     */
    static String[] hoist(CommandLine cl, List<String> leading, String[] rest) {
        if (leading.isEmpty()) {
            return rest;
        }
        int path = 0;
        CommandLine at = cl;
        while (path < rest.length && at.getSubcommands().containsKey(rest[path])) {
            at = at.getSubcommands().get(rest[path]);
            path++;
        }
        List<String> out = new ArrayList<>(rest.length + leading.size());
        out.addAll(List.of(rest).subList(0, path));
        out.addAll(leading);
        out.addAll(List.of(rest).subList(path, rest.length));
        return out.toArray(String[]::new);
    }
}
