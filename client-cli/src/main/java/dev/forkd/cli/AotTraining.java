package dev.forkd.cli;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The run the distribution's AOT cache is trained on ({@code -XX:AOTCacheOutput}), at build time:
 * several commands in one JVM, so the cache holds the classes, linked call sites and profiles of
 * more than one path (help, listings, a run, queues, values, locks). Each argument is one command,
 * its words separated by spaces; output is thrown away. It talks to the server in
 * {@code FORKD_ADDRESS}, which the build starts and stops; a command that fails only teaches less.
 */
public final class AotTraining {

    private AotTraining() {}

    public static void main(String[] args) {
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8);
        List<String> failed = new ArrayList<>();
        for (String command : args) {
            Invocation inv = new Invocation(System.getenv(), Path.of(System.getProperty("user.dir")),
                    new ByteArrayInputStream("one\ntwo\n".getBytes(StandardCharsets.UTF_8)), nowhere, nowhere, false);
            String[] words = Arrays.stream(command.split(" ")).filter(w -> !w.isEmpty()).toArray(String[]::new);
            int code = Main.execute(inv, words);
            if (code != 0) {
                failed.add(command + "' exited " + code);
            }
        }
        // Said, not fatal: the cache is still valid, only less complete.
        failed.forEach(c -> System.err.println("forkd AOT training: '" + c + " (expected of some)"));
    }
}
