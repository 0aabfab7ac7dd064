package dev.forkd.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Runs forkd commands inside the test JVM, as a user would type them, with captured output. */
final class Cli {

    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private final Map<String, String> env;
    private final Path cwd;

    Cli(Map<String, String> env, Path cwd) {
        this.env = Map.copyOf(env);
        this.cwd = cwd;
    }

    /** A CLI whose default server is {@code server} (through FORKD_ADDRESS). */
    static Cli against(RunningServer server) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("FORKD_ADDRESS", server.address());
        env.put("XDG_RUNTIME_DIR", server.dir.toString());
        env.put("XDG_STATE_HOME", server.dir.toString());
        env.remove("FORKD_TOKEN");
        env.remove("FORKD_SESSION");
        return new Cli(env, Path.of(System.getProperty("user.dir")));
    }

    Cli in(Path dir) {
        return new Cli(env, dir);
    }

    /** This CLI with {@code name=value} added to the caller's environment. */
    Cli withEnv(String name, String value) {
        Map<String, String> more = new HashMap<>(env);
        more.put(name, value);
        return new Cli(more, cwd);
    }

    Result run(String... args) {
        return withStdin(new byte[0], args);
    }

    Result withStdin(byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        return withStreams(stdin, out, args);
    }

    /** Runs with stdout going to {@code stdout} (the result's out is then empty). */
    Result withStreams(byte[] stdin, OutputStream stdout, String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Invocation inv = new Invocation(env, cwd, new ByteArrayInputStream(stdin),
                new PrintStream(stdout, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                false);
        int code = Main.execute(inv, args);
        String out = stdout instanceof ByteArrayOutputStream b ? b.toString(StandardCharsets.UTF_8) : "";
        return new Result(code, out, err.toString(StandardCharsets.UTF_8));
    }
}
