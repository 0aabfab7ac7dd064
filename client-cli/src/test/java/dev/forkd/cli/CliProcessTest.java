package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** The CLI as its own process: signals from a terminal, and starting a server when there is none. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CliProcessTest {

    private RunningServer server;
    private final List<ProcessHandle> autostarted = new ArrayList<>();
    private final List<Path> runtimeDirs = new ArrayList<>();

    @BeforeAll
    void startServer() throws Exception {
        server = RunningServer.start();
    }

    @AfterAll
    void stopServers() throws Exception {
        // Every server is stopped even if one fails its check: a failure must not leave the rest running.
        List<Throwable> failures = new ArrayList<>();
        for (ProcessHandle p : autostarted) {
            try {
                RunningServer.stopAndCheck(p, p.descendants().toList(), RunningServer.STOP_LIMIT);
            } catch (Exception | AssertionError e) {
                failures.add(e);
            }
        }
        try {
            if (server != null) {
                server.close();
            }
        } catch (Exception | AssertionError e) {
            failures.add(e);
        }
        for (Path dir : runtimeDirs) {
            RunningServer.deleteTree(dir);
        }
        if (!failures.isEmpty()) {
            AssertionError all = new AssertionError(failures.size() + " servers did not stop cleanly", failures.get(0));
            failures.stream().skip(1).forEach(all::addSuppressed);
            throw all;
        }
    }

    private Path runtimeDir(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), prefix);
        runtimeDirs.add(dir);
        return dir;
    }

    private static Process cli(Map<String, String> env, String... args) throws IOException {
        // As a terminal's CLI has it: SIGINT handled, even when this build runs as a background job
        // (a non-interactive shell starts those with SIGINT ignored, and exec keeps it ignored).
        List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT"));
        command.addAll(RunningServer.javaCommand());
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().remove("FORKD_ADDRESS");
        pb.environment().remove("FORKD_TOKEN");
        pb.environment().putAll(env);
        // An autostarted server keeps its state beside its socket, not in this user's ~/.local/state.
        if (env.containsKey("XDG_RUNTIME_DIR")) {
            pb.environment().put("XDG_STATE_HOME", env.get("XDG_RUNTIME_DIR"));
        }
        return pb.start();
    }

    private record Finished(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private static Finished finish(Process p) throws Exception {
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the CLI did not finish within 60 s");
        }
        return new Finished(p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** The next line a CLI prints, waited for at most 30 s. */
    private static String nextLine(BufferedReader out) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }).get(30, TimeUnit.SECONDS);
    }

    @Test
    void ctrlCGoesToTheChildAndTheCliExitsWithItsStatus() throws Exception {
        Process p = cli(Map.of("FORKD_ADDRESS", server.address()), "run", "--",
                "sh", "-c", "trap 'echo got-int; exit 7' INT; echo ready; while :; do sleep 1; done");
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("ready", nextLine(out));
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start();
        assertEquals(0, kill.waitFor());
        CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> {
            StringBuilder sb = new StringBuilder();
            out.lines().forEach(l -> sb.append(l).append('\n'));
            return sb.toString();
        });
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the CLI ends once the child does");
        assertEquals(7, p.exitValue(), () -> "stderr: " + read(p.getErrorStream()));
        assertEquals("got-int\n", rest.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aChildFedByAKilledRunDashIReadsEndOfFileInsteadOfWaitingForever() throws Exception {
        String name = "fed-" + System.nanoTime();
        List<String> command = new ArrayList<>(RunningServer.javaCommand());
        command.addAll(List.of(Main.class.getName(), "run", "-i", "--name", name, "--",
                "sh", "-c", "cat; echo eof-seen"));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("FORKD_TOKEN");
        pb.environment().put("FORKD_ADDRESS", server.address());
        Process p = pb.start();
        p.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().flush();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        // The child echoed it: the CLI's WriteStdin call is open on the server, and our stdin still is.
        assertEquals("hello", nextLine(out));
        p.destroyForcibly(); // SIGKILL: the CLI cannot close anything itself
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        Cli cli = Cli.against(server);
        Cli.Result waited = cli.run("wait", "--timeout", "30s", name);
        assertEquals(0, waited.code(), () -> "the child still waits for the dead CLI's input: " + waited);
        Cli.Result logs = cli.run("logs", name);
        assertEquals("hello\neof-seen\n", logs.out(), logs::toString);
        cli.run("rm", name);
    }

    @Test
    void aRealCliProcessPrintsAndExitsWithTheChildsCode() throws Exception {
        Finished f = finish(cli(Map.of("FORKD_ADDRESS", server.address()), "run", "--", "sh", "-c", "echo hi; exit 3"));
        assertEquals(3, f.code(), f::toString);
        assertEquals("hi\n", f.out(), f::toString);
        assertEquals("", f.err(), f::toString);
    }

    @Test
    void aClientStartsAServerWhenNoneRunsAtTheDefaultAddress() throws Exception {
        Path runtime = runtimeDir("fka");
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", runtime.toString());

        Finished first = finish(cli(env, "run", "--", "echo", "auto"));
        Matcher started = Pattern.compile("forkd: started a server at unix:(\\S+) \\(pid (\\d+), log (\\S+)\\)")
                .matcher(first.err());
        if (started.find()) {
            ProcessHandle.of(Long.parseLong(started.group(2))).ifPresent(autostarted::add);
        }
        assertTrue(started.find(0), first::toString);
        assertEquals(runtime.resolve("forkd/forkd.sock").toString(), started.group(1));
        assertEquals(0, first.code(), first::toString);
        assertEquals("auto\n", first.out(), first::toString);
        assertTrue(Files.exists(Path.of(started.group(3))), "the server logs to " + started.group(3));

        Finished second = finish(cli(env, "ps", "--all"));
        assertEquals(0, second.code(), second::toString);
        assertEquals("", second.err(), () -> "the second command finds the server running: " + second);
        assertTrue(second.out().contains("echo auto"), second::toString);

        Optional<ProcessHandle> serverProcess = ProcessHandle.of(Long.parseLong(started.group(2)));
        assertTrue(serverProcess.isPresent() && serverProcess.get().isAlive(), "the server outlives the client");
    }

    @Test
    void clientsStartingAtOnceStartOneServer() throws Exception {
        Path runtime = runtimeDir("fkc");
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", runtime.toString());
        List<Process> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            clients.add(cli(env, "run", "--", "echo", "client " + i));
        }
        List<Finished> finished = new ArrayList<>();
        for (Process p : clients) {
            finished.add(finish(p));
        }
        Pattern startedLine = Pattern.compile("forkd: started a server at \\S+ \\(pid (\\d+),");
        List<Long> started = new ArrayList<>();
        for (Finished f : finished) {
            Matcher m = startedLine.matcher(f.err());
            while (m.find()) {
                long pid = Long.parseLong(m.group(1));
                started.add(pid);
                ProcessHandle.of(pid).ifPresent(autostarted::add);
            }
        }
        for (int i = 0; i < finished.size(); i++) {
            Finished f = finished.get(i);
            assertEquals(0, f.code(), f::toString);
            assertEquals("client " + i + "\n", f.out(), f::toString);
        }
        assertEquals(1, started.size(), () -> "one of them starts the server, the others wait for it: " + finished);
    }

    @Test
    void aCronJobAndALoginShellLookForTheSameServer() throws Exception {
        int uid = Integer.parseInt(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).strip());
        String socket = "unix:/tmp/forkd-" + uid + "/forkd.sock";
        List<Finished> seen = new ArrayList<>();
        // cron: no XDG_RUNTIME_DIR at all; a login shell: the session's /run/user/<uid>.
        for (Optional<String> runtime : List.of(Optional.<String>empty(), Optional.of("/run/user/" + uid))) {
            List<String> command = new ArrayList<>(RunningServer.javaCommand());
            command.addAll(List.of(Main.class.getName(), "status"));
            ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().keySet().removeIf(k -> k.startsWith("FORKD_") || k.startsWith("XDG_"));
            runtime.ifPresent(r -> pb.environment().put("XDG_RUNTIME_DIR", r));
            // status never starts a server: it names the address it looked at, with or without one there.
            Finished f = finish(pb.start());
            assertTrue((f.out() + f.err()).contains(socket), f::toString);
            seen.add(f);
        }
        assertEquals(seen.get(0).code(), seen.get(1).code(), seen::toString);
    }

    @Test
    void aServerThatCannotStartIsReportedWithItsReason() throws Exception {
        // A socket path longer than a Unix socket address can hold: the server cannot listen.
        Path runtime = runtimeDir("fkl");
        Path deep = Files.createDirectories(runtime.resolve("d".repeat(100)));
        Finished f = finish(cli(Map.of("XDG_RUNTIME_DIR", deep.toString()), "ps"));
        assertEquals(3, f.code(), f::toString);
        assertTrue(f.err().startsWith("forkd: could not start a server at unix:" + deep), f::toString);
        assertTrue(f.err().contains("exited with status"), f::toString);
        assertEquals(1, f.err().lines().count(), f::toString);
    }

    @Test
    void overTcpTheTokenIsSentAndRequired() throws Exception {
        Path dir = runtimeDir("fkt");
        Path token = dir.resolve("token");
        Files.writeString(token, "s3cret-" + System.nanoTime() + "\n");
        Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        try (RunningServer tcp = RunningServer.startTcp(token)) {
            assertTrue(tcp.address().startsWith("127.0.0.1:") && !tcp.address().endsWith(":0"), tcp.address());
            Cli cli = new Cli(Map.of("HOME", dir.toString()), dir);

            Cli.Result withToken = cli.run("run", "--address", tcp.address(), "--token-file", token.toString(),
                    "--", "echo", "over tcp");
            assertEquals(0, withToken.code(), withToken::toString);
            assertEquals("over tcp\n", withToken.out(), withToken::toString);

            Cli fromEnv = new Cli(Map.of("HOME", dir.toString(), "FORKD_ADDRESS", tcp.address(),
                    "FORKD_TOKEN", Files.readString(token).strip()), dir);
            Cli.Result envToken = fromEnv.run("ps", "--all");
            assertEquals(0, envToken.code(), envToken::toString);
            assertTrue(envToken.out().contains("echo 'over tcp'"), envToken::toString);

            Cli.Result without = cli.run("ps", "--address", tcp.address());
            assertEquals(1, without.code(), without::toString);
            assertTrue(without.err().startsWith("forkd: ") && without.err().contains("--token-file"), without::toString);

            Path wrong = dir.resolve("wrong");
            Files.writeString(wrong, "not-the-token");
            Files.setPosixFilePermissions(wrong, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            Cli.Result bad = cli.run("ps", "--address", tcp.address(), "--token-file", wrong.toString());
            assertEquals(1, bad.code(), bad::toString);
        }
    }

    @Test
    void noAutostartAndStatusReportANoServerWithExit3() throws Exception {
        Path runtime = runtimeDir("fkn");
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", runtime.toString());
        Finished ps = finish(cli(env, "ps", "--no-autostart"));
        assertEquals(3, ps.code(), ps::toString);
        assertTrue(ps.err().startsWith("forkd: no server at unix:" + runtime), ps::toString);
        Finished status = finish(cli(env, "status"));
        assertEquals(3, status.code(), status::toString);
        assertTrue(!Files.exists(runtime.resolve("forkd/forkd.sock")), "status starts no server");
    }
}
