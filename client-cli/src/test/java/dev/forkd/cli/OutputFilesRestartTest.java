package dev.forkd.cli;

import static dev.forkd.cli.ServerIncarnations.spawn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A process's output is kept in capped files in the state directory: after a supervisor restart
 * {@code forkd logs} shows what was captured before it, then what the agent held while no supervisor
 * listened, then the new output, each once and with stdout and stderr apart; {@code rm} removes the
 * files, and they hold at most the process's output cap.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class OutputFilesRestartTest {

    private static final Function<Path, List<String>> ARGS = ServerIncarnations.ARGS;
    private static final Function<Path, List<String>> KEEP = dir -> {
        List<String> args = new ArrayList<>(ARGS.apply(dir));
        args.add("--restart-keep");
        return args;
    };

    @RegisterExtension
    final ServerIncarnations runs = new ServerIncarnations();

    @Test
    void logsShowBeforeTheRestartThenWhileOrphanedThenAfter() throws Exception {
        Path orphanGo = runs.fifo("orphan-go");
        Path afterGo = runs.fifo("after-go");
        RunningServer first = runs.start(KEEP);
        Cli cli = Cli.against(first);
        String id = spawn(cli, "sh", "-c", "echo before; echo err-before >&2; read x < " + orphanGo
                + "; echo orphaned; read y < " + afterGo + "; echo after; echo err-after >&2; exec sleep 1000");
        await(() -> cli.run("logs", id).out().equals("before\n"), "before");
        runs.everything().addAll(first.descendants());
        first.process.destroy(); // SIGTERM with --restart-keep: the children run on
        assertTrue(first.process.waitFor(60, TimeUnit.SECONDS), first.stderr());
        // Written while no supervisor listens: the agent holds it.
        Files.writeString(orphanGo, "go\n", StandardCharsets.UTF_8);

        RunningServer second = runs.start(ARGS);
        try {
            Cli again = Cli.against(second);
            await(() -> again.run("logs", id).out().equals("before\norphaned\n"), "before and orphaned");
            Files.writeString(afterGo, "go\n", StandardCharsets.UTF_8);
            await(() -> again.run("logs", id).err().equals("err-before\nerr-after\n"), "err-after");
            Cli.Result logs = again.run("logs", id);
            assertEquals("before\norphaned\nafter\n", logs.out(), logs::toString);
            assertEquals("err-before\nerr-after\n", logs.err(), logs::toString);
            runs.everything().addAll(second.descendants());
        } finally {
            second.close();
        }
    }

    @Test
    void outputWrittenBeforeACrashIsShownAfterIt() throws Exception {
        RunningServer first = runs.start(ARGS);
        Cli cli = Cli.against(first);
        String id = spawn(cli, "sh", "-c", "echo one; echo two >&2; exec sleep 1000");
        Path file = outputDir().resolve(id + ".log");
        // The writer is behind the log by a moment: the crash comes once the file holds it.
        await(() -> read(file).contains("one") && read(file).contains("two"), "the output file");
        runs.everything().addAll(first.descendants());
        first.process.destroyForcibly(); // SIGKILL
        assertTrue(first.process.waitFor(30, TimeUnit.SECONDS));

        RunningServer second = runs.start(ARGS);
        try {
            Cli.Result logs = Cli.against(second).run("logs", id);
            assertEquals("one\n", logs.out(), logs::toString);
            assertEquals("two\n", logs.err(), logs::toString);
            // The files keep each chunk's capture time, so --since finds the restored output too.
            Cli.Result since = Cli.against(second).run("logs", "--since", "1h", id);
            assertEquals("one\n", since.out(), since::toString);
            runs.everything().addAll(second.descendants());
        } finally {
            second.close();
        }
    }

    @Test
    void rmRemovesTheFilesAndTheyHoldAtMostTheCap() throws Exception {
        RunningServer server = runs.start(ARGS);
        try {
            Cli cli = Cli.against(server);
            // 64 KiB cap, 1 MiB of output in 4 KiB lines.
            String id = spawn(cli, "--output-limit", "65536", "--", "sh", "-c",
                    "i=0; while [ $i -lt 256 ]; do head -c 4095 /dev/zero | tr '\\0' x; echo; i=$((i+1)); done");
            assertEquals(0, cli.run("wait", "--timeout", "60s", id).code());
            Path current = outputDir().resolve(id + ".log");
            Path old = outputDir().resolve(id + ".old.log");
            await(() -> size(current) + size(old) > 32 * 1024, "the output files");
            long onDisk = size(current) + size(old);
            // Two halves of the cap, plus a 21-byte header per chunk.
            assertTrue(onDisk <= 65536 + 64 * 21, "files hold " + onDisk + " bytes");
            Cli.Result logs = cli.run("logs", id);
            assertTrue(logs.out().endsWith("x\n"), logs::toString);
            assertEquals(0, cli.run("rm", id).code());
            await(() -> !Files.exists(current) && !Files.exists(old), "the files removed");
            runs.everything().addAll(server.descendants());
        } finally {
            server.close();
        }
    }

    private Path outputDir() {
        return runs.dir().resolve("forkd").resolve("output");
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** Waits (bounded) until {@code done} holds. */
    private static void await(BooleanSupplier done, String what) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            assertFalse(System.nanoTime() > end, "timed out waiting for " + what);
            LockSupport.parkNanos(50_000_000);
        }
    }

}
