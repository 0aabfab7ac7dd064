package dev.forkd.cli;

import static dev.forkd.cli.ServerIncarnations.spawn;
import static dev.forkd.cli.ServerIncarnations.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code forkd shutdown} stops a real server the documented ways: with its children (as SIGTERM), or
 * leaving them to the next server ({@code --keep-children}, as {@code --restart-keep}); it is
 * authenticated like every call, and refuses what cannot be done without changing anything.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ShutdownCommandTest {

    private static final Function<Path, List<String>> ARGS = ServerIncarnations.ARGS;

    @RegisterExtension
    final ServerIncarnations runs = new ServerIncarnations();

    @Test
    void shutdownStopsTheChildrenAndTheServer() throws Exception {
        RunningServer server = runs.start(ARGS);
        Cli cli = Cli.against(server);
        String id = spawn(cli, "sleep", "1000");
        long child = get(cli, id).getPid();
        List<ProcessHandle> below = server.descendants();
        runs.everything().addAll(below);

        Cli.Result r = cli.run("shutdown");
        assertEquals(0, r.code(), r::toString);
        assertEquals("stopped forkd (pid " + server.process.pid() + ") and its 1 processes\n", r.out(), r::toString);
        // It returned once the server had exited, its children and agents stopped before it.
        assertTrue(server.process.waitFor(5, TimeUnit.SECONDS), server.stderr());
        assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), "the child runs on");
        for (ProcessHandle p : below) {
            assertTrue(p.onExit().get(30, TimeUnit.SECONDS) != null);
        }
    }

    @Test
    void itSeesTheServerExitEvenWhenTheCommonPoolIsBusy() throws Exception {
        // In the full CLI suite a JDK stage on the common pool (draining an exited server's stdout,
        // which its agents still held) blocked it, and a shutdown run in that JVM waited 2 minutes
        // for ProcessHandle.onExit, which completes there. Every common-pool worker is busy here.
        RunningServer server = runs.start(ARGS);
        runs.everything().addAll(server.descendants());
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        int workers = java.util.concurrent.ForkJoinPool.getCommonPoolParallelism();
        java.util.concurrent.CountDownLatch busy = new java.util.concurrent.CountDownLatch(workers);
        try {
            for (int i = 0; i < workers; i++) {
                java.util.concurrent.ForkJoinPool.commonPool().execute(() -> {
                    busy.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            assertTrue(busy.await(30, TimeUnit.SECONDS), "the common pool's workers did not all start");
            Cli.Result r = Cli.against(server).run("shutdown", "--timeout", "60s");
            assertEquals(0, r.code(), r::toString);
            assertEquals("stopped forkd (pid " + server.process.pid() + ") and its 0 processes\n", r.out(), r::toString);
        } finally {
            release.countDown();
        }
    }

    @Test
    void keepChildrenLeavesThemForTheNextServer() throws Exception {
        RunningServer first = runs.start(ARGS);
        Cli cli = Cli.against(first);
        String id = spawn(cli, "sleep", "1000");
        ProcessInfo before = get(cli, id);
        runs.everything().addAll(first.descendants());

        Cli.Result r = cli.run("shutdown", "--keep-children");
        assertEquals(0, r.code(), r::toString);
        assertEquals("stopped forkd (pid " + first.process.pid() + "); 1 processes keep running for the next forkd serve\n",
                r.out(), r::toString);
        assertTrue(first.process.waitFor(5, TimeUnit.SECONDS), first.stderr());
        assertTrue(ProcessHandle.of(before.getPid()).map(ProcessHandle::isAlive).orElse(false), "the child was stopped");

        RunningServer second = runs.start(ARGS);
        Cli again = Cli.against(second);
        ProcessInfo after = get(again, id);
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, after.getState(), after::toString);
        assertEquals(before.getPid(), after.getPid());
        runs.everything().addAll(second.descendants());
        second.close(); // SIGTERM: the adopted agent and its child stop too
        for (ProcessHandle p : runs.everything()) {
            assertTrue(p.onExit().get(30, TimeUnit.SECONDS) != null);
        }
    }

    @Test
    void keepChildrenNeedsAStateDirectoryAndARefusalChangesNothing() throws Exception {
        RunningServer server = runs.start(d -> List.of("--listen", "unix:" + d.resolve("s.sock"), "--state-dir", "none"));
        Cli cli = Cli.against(server);
        String id = spawn(cli, "sleep", "1000");
        Cli.Result r = cli.run("shutdown", "--keep-children");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("keep_children") && r.err().contains("--state-dir none"), r::toString);
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, get(cli, id).getState());
        assertTrue(server.process.isAlive());
        server.close();
    }

    @Test
    void overTcpTheTokenIsRequired() throws Exception {
        Path token = runs.dir().resolve("token");
        Files.writeString(token, "s3cret-" + System.nanoTime() + "\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        RunningServer server = runs.start(d -> List.of("--listen", "127.0.0.1:0", "--insecure-plaintext",
                "--token-file", token.toString()));
        runs.everything().addAll(server.descendants());
        Cli cli = new Cli(Map.of("HOME", runs.dir().toString()), runs.dir());

        Cli.Result without = cli.run("shutdown", "--address", server.address());
        assertEquals(1, without.code(), without::toString);
        assertTrue(without.err().contains("--token-file"), without::toString);
        assertTrue(server.process.isAlive(), "stopped without the token");

        Cli.Result with = cli.run("shutdown", "--address", server.address(), "--token-file", token.toString());
        assertEquals(0, with.code(), with::toString);
        // Over TCP the server may be on another host: the command does not wait for its pid.
        assertEquals("stopping forkd (pid " + server.process.pid() + ") and its 0 processes\n", with.out(), with::toString);
        assertTrue(server.process.waitFor(60, TimeUnit.SECONDS), server.stderr());
    }

}
