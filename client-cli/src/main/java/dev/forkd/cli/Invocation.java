package dev.forkd.cli;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * What one run of the CLI sees of the world: environment, working directory and standard streams.
 * The real one wraps the process's; tests hand in their own, so no command reads globals.
 *
 * @param forwardSignals whether {@code run} may install handlers for INT/TERM/HUP (only in a real CLI
 *     process: a handler in a shared JVM would steal that JVM's signals)
 */
public record Invocation(
        Map<String, String> env,
        Path cwd,
        InputStream in,
        PrintStream out,
        PrintStream err,
        boolean forwardSignals) {

    /** The process's own environment and streams. Output is buffered and flushed by the commands. */
    public static Invocation ofProcess() {
        return new Invocation(
                System.getenv(),
                Path.of(System.getProperty("user.dir")),
                new FileInputStream(FileDescriptor.in),
                new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                        false, StandardCharsets.UTF_8),
                new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.err), 1 << 13),
                        false, StandardCharsets.UTF_8),
                true);
    }
}
