package dev.forkd.server.process;

import java.util.Arrays;
import java.util.Map;

/**
 * What a child's environment starts from. A child gets exactly what its spawner asked for
 * ({@code SpawnRequest.env}) plus forkd's own variables ({@code FORKD_ADDRESS}, ...); the server's
 * own environment is never passed on, since it may hold the server's secrets (a cloud key, a
 * database password) that no client asked to share.
 *
 * <p>The one thing supplied is a {@code PATH}, so a spawn that sends no environment can still name
 * {@code sh} or {@code python3}; a spawn that sends its own PATH, or asks for {@code clean_env},
 * gets none of it.
 */
public final class ChildEnvironment {

    /** The search path a child gets when its spawner sends none (the same one the agent searches). */
    public static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

    /** The base every spawn without {@code clean_env} starts from. */
    public static final Map<String, String> BASE = Map.of("PATH", DEFAULT_PATH);

    /** The {@code forkd} launcher that started the server, for a child that wants to call forkd. */
    public static final String CLI = "FORKD_CLI";

    private ChildEnvironment() {}

    /**
     * Puts the directory of {@link #CLI} at the end of the child's {@code PATH}, so {@code forkd}
     * works in a child with no set-up. At the end, so it never shadows a program the spawner's own
     * PATH finds; not at all when the child has no PATH ({@code clean_env} without one) or no CLI.
     */
    public static void putCliOnPath(Map<String, String> env) {
        String cli = env.get(CLI);
        String path = env.get("PATH");
        if (cli == null || path == null || cli.lastIndexOf('/') <= 0) {
            return;
        }
        String dir = cli.substring(0, cli.lastIndexOf('/'));
        if (Arrays.asList(path.split(":")).contains(dir)) {
            return;
        }
        env.put("PATH", path.isEmpty() ? dir : path + ":" + dir);
    }
}
