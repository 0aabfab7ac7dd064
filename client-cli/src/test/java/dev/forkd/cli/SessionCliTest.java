package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code forkd session}: a session a shell script opens, uses across commands, and closes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class SessionCliTest {

    private static final Pattern HOLDER = Pattern.compile("held by process (\\d+)");

    private RunningServer server;
    private Cli cli;

    @BeforeAll
    void start() throws Exception {
        server = RunningServer.start();
        cli = Cli.against(server);
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** A {@code forkd} on PATH, as an installed one is: a script that runs this build. */
    private static Path installForkd(Path dir) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        List<String> command = new ArrayList<>(RunningServer.javaCommand());
        command.add(Main.class.getName());
        Path script = bin.resolve("forkd");
        Files.writeString(script, "#!/bin/sh\nexec " + ProcessText.command(command) + " \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    private Cli.Result shell(Path forkd, String script) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", script)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("PATH", forkd.getParent() + ":" + System.getenv("PATH"));
        pb.environment().put("FORKD_CLI", forkd.toString());
        pb.environment().put("FORKD_ADDRESS", server.address());
        pb.environment().put("XDG_RUNTIME_DIR", server.dir.toString());
        pb.environment().put("XDG_STATE_HOME", server.dir.toString());
        pb.environment().remove("FORKD_TOKEN");
        pb.environment().remove("FORKD_SESSION");
        Process p = pb.start();
        var out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        var err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        assertTrue(p.waitFor(540, TimeUnit.SECONDS), "the script did not finish"); // ten JVMs on a loaded machine
        return new Cli.Result(p.exitValue(), out.get(), err.get());
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The holder {@code forkd session} named; empty once it has exited. */
    private static java.util.Optional<ProcessHandle> holder(String stderr) {
        Matcher m = HOLDER.matcher(stderr);
        assertTrue(m.find(), stderr);
        return ProcessHandle.of(Long.parseLong(m.group(1)));
    }

    private static void awaitExit(java.util.Optional<ProcessHandle> holder) throws Exception {
        if (holder.isEmpty()) {
            return; // gone already
        }
        ProcessHandle p = holder.get();
        try {
            p.onExit().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            p.destroyForcibly();
            throw new AssertionError("process " + p.pid() + " (" + p.info().commandLine().orElse("?") + ") is still running");
        }
    }

    @Test
    void aScriptHoldsALockFromOneCommandToAnother(@TempDir Path dir) throws Exception {
        Path forkd = installForkd(dir);
        var r = shell(forkd, String.join("\n",
                "set -e",
                "eval \"$(forkd session --parent $$ --ttl 3s)\"",
                "forkd lock acquire script-lock",
                // Another session finds it held: the lock outlived the command that took it.
                "if forkd with-lock --timeout 200ms script-lock -- true; then echo NOT-HELD; else echo held-elsewhere; fi",
                "printf '%s' \"$FORKD_SESSION\" > " + dir.resolve("credential"),
                "ps -eo args > " + dir.resolve("ps"),
                "forkd lock release script-lock",
                "forkd lock acquire script-lock",
                "forkd session close",
                "if forkd lock acquire script-lock 2>/dev/null; then echo STILL-A-SESSION; fi"));
        assertEquals(0, r.code(), r.toString());
        assertEquals(List.of("acquired script-lock", "held-elsewhere", "released script-lock", "acquired script-lock",
                "closed the session"), r.out().lines().map(l -> l.replaceAll(" \\(fencing token \\d+\\)", "")).toList(),
                r.toString());
        String credential = Files.readString(dir.resolve("credential"));
        assertFalse(credential.isBlank(), r.toString());
        String ps = Files.readString(dir.resolve("ps"));
        assertTrue(ps.contains("session hold"), "the holder was running: " + ps);
        assertFalse(ps.contains(credential), "the credential is in a process's arguments: " + ps);
        assertFalse(r.err().contains(credential), "the credential is on stderr: " + r.err());

        awaitExit(holder(r.err()));
        // Closed: the lock it held last is free.
        var free = cli.run("with-lock", "--timeout", "10s", "script-lock", "--", "true");
        assertEquals(0, free.code(), free.toString());
    }

    @Test
    void theSessionEndsWhenItsParentExits() throws Exception {
        Process parent = new ProcessBuilder("sleep", "600").start();
        try {
            var opened = cli.run("session", "--parent", Long.toString(parent.pid()), "--ttl", "2s");
            assertEquals(0, opened.code(), opened.toString());
            String line = opened.out().strip();
            assertTrue(line.startsWith("export FORKD_SESSION="), opened.toString());
            assertEquals(1, opened.out().lines().count(), opened.toString());
            String credential = line.substring("export FORKD_SESSION=".length()).replace("'", "");
            var holder = holder(opened.err());
            assertTrue(holder.isPresent(), "the holder runs while its parent does: " + opened);
            assertFalse(holder.get().info().commandLine().orElse("").contains(credential));

            var took = cli.withEnv("FORKD_SESSION", credential).run("lock", "acquire", "parent-lock");
            assertEquals(0, took.code(), took.toString());
            var busy = cli.run("with-lock", "--timeout", "100ms", "parent-lock", "--", "true");
            assertEquals(ExitCodes.TIMED_OUT, busy.code(), busy.toString());

            parent.destroy();
            awaitExit(holder);
            var free = cli.run("with-lock", "--timeout", "10s", "parent-lock", "--", "true");
            assertEquals(0, free.code(), free.toString());
            assertTrue(free.err().contains("died holding it"), "the next holder learns it was abandoned: " + free);
        } finally {
            parent.destroyForcibly();
        }
    }

    @Test
    void refusals() {
        var close = cli.run("session", "close");
        assertEquals(ExitCodes.USAGE, close.code(), close.toString());
        var json = cli.run("session", "--json");
        assertEquals(ExitCodes.USAGE, json.code(), json.toString());
        var noParent = cli.run("session", "--parent", "999999999");
        assertEquals(ExitCodes.USAGE, noParent.code(), noParent.toString());
        var lock = cli.run("lock", "acquire", "no-session-lock");
        assertEquals(ExitCodes.USAGE, lock.code(), lock.toString());
        assertTrue(lock.err().contains("eval \"$(forkd session --parent $$)\""), "says how a script gets one: " + lock);
    }
}
