package dev.forkd.posix;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PosixTest {
    private static final List<String> ENV = List.of("PATH=/usr/local/bin:/usr/bin:/bin");

    private final Posix posix = new Posix();

    private static SpawnSpec spec(List<String> argv, int stdout, SpawnSpec.Grouping grouping) {
        String path = ProgramResolver.resolve(argv.getFirst(), "/usr/local/bin:/usr/bin:/bin").orElseThrow();
        return new SpawnSpec(path, argv, ENV, Optional.empty(), -1, stdout, -1, grouping);
    }

    private int run(String... argv) throws SpawnException {
        int pid = posix.spawn(spec(List.of(argv), -1, SpawnSpec.Grouping.NEW_SESSION));
        return posix.waitChild(pid).orElseThrow().exitCode();
    }

    /** Reads a pipe to EOF on another thread, so the test's deadline covers a read that never ends. */
    private String readToEof(int fd) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(4096);
                var out = new java.io.ByteArrayOutputStream();
                int n;
                while ((n = posix.read(fd, buf, 4096)) > 0) {
                    out.write(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
                return out.toString(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aSecretPipeArrivesOnFd3AndNothingElseIsInherited() throws Exception {
        int[] secret = posix.pipe();
        int[] other = posix.pipe(); // a higher fd, close-on-exec: must not reach the child
        int[] out = posix.pipe();
        String script = "cat <&3; for fd in 4 " + other[0] + " " + other[1] + " " + secret[1]
                + "; do [ -e /proc/$$/fd/$fd ] && echo \" open $fd\"; done; echo";
        int pid = posix.spawn(new SpawnSpec("/bin/sh", List.of("sh", "-c", script), ENV, Optional.empty(),
                -1, out[1], -1, SpawnSpec.Grouping.NEW_SESSION, secret[0]));
        posix.close(out[1]);
        posix.close(secret[0]);
        try (Arena arena = Arena.ofConfined()) {
            byte[] bytes = "token\nsecret\n".getBytes(StandardCharsets.UTF_8);
            posix.write(secret[1], arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, bytes), bytes.length);
        }
        posix.close(secret[1]);
        assertEquals("token\nsecret\n\n", readToEof(out[0]));
        assertEquals(0, posix.waitChild(pid).orElseThrow().exitCode());
        posix.close(out[0]);
        posix.close(other[0]);
        posix.close(other[1]);
    }

    @Test
    void trueExitsZero() throws Exception {
        assertEquals(0, run("true"));
    }

    @Test
    void exitCodeIsReported() throws Exception {
        assertEquals(3, run("sh", "-c", "exit 3"));
    }

    @Test
    void killedBySignalIsNegative() throws Exception {
        assertEquals(-9, run("sh", "-c", "kill -9 $$"));
    }

    @Test
    void sigpipeIsDefaultInTheChildNotInheritedFromTheJvm() throws Exception {
        // The JVM ignores SIGPIPE; `yes` writing into a pipe nobody reads must still die of it.
        int[] pipe = posix.pipe();
        posix.close(pipe[0]);
        int pid = posix.spawn(spec(List.of("yes"), pipe[1], SpawnSpec.Grouping.NEW_SESSION));
        posix.close(pipe[1]);
        assertEquals(-13, posix.waitChild(pid).orElseThrow().exitCode());
    }

    @Test
    void missingProgramIsNotFound() {
        var e = assertThrows(SpawnException.class, () -> posix.spawn(new SpawnSpec("/nonexistent/prog",
                List.of("prog"), ENV, Optional.empty(), -1, -1, -1, SpawnSpec.Grouping.NEW_SESSION)));
        assertEquals(SpawnException.Kind.NOT_FOUND, e.kind());
        assertEquals(2, e.errno());
    }

    @Test
    void nonExecutableFileIsNotExecutable(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("script"), "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        var e = assertThrows(SpawnException.class, () -> posix.spawn(new SpawnSpec(file.toString(),
                List.of("script"), ENV, Optional.empty(), -1, -1, -1, SpawnSpec.Grouping.NEW_SESSION)));
        assertEquals(SpawnException.Kind.NOT_EXECUTABLE, e.kind());
    }

    @Test
    void badCwdIsBadCwd() {
        var e = assertThrows(SpawnException.class, () -> posix.spawn(new SpawnSpec("/bin/true",
                List.of("true"), ENV, Optional.of("/nope/not/here"), -1, -1, -1, SpawnSpec.Grouping.NEW_SESSION)));
        assertEquals(SpawnException.Kind.BAD_CWD, e.kind());
    }

    @Test
    void cwdAndEnvAndStdoutReachTheChild(@TempDir Path dir) throws Exception {
        int[] pipe = posix.pipe();
        int pid = posix.spawn(new SpawnSpec("/bin/sh", List.of("sh", "-c", "echo \"$(pwd) $GREETING\""),
                List.of("GREETING=hello"), Optional.of(dir.toString()), -1, pipe[1], -1,
                SpawnSpec.Grouping.NEW_SESSION));
        posix.close(pipe[1]);
        assertEquals(dir.toRealPath() + " hello\n", readToEof(pipe[0]));
        posix.close(pipe[0]);
        assertEquals(0, posix.waitChild(pid).orElseThrow().exitCode());
    }

    @Test
    void onlyStdioIsOpenInTheChild() throws Exception {
        int[] pipe = posix.pipe();
        int pid = posix.spawn(spec(List.of("sh", "-c", "ls /proc/$$/fd"), pipe[1], SpawnSpec.Grouping.NEW_SESSION));
        posix.close(pipe[1]);
        String fds = readToEof(pipe[0]);
        posix.close(pipe[0]);
        posix.waitChild(pid);
        assertEquals(List.of("0", "1", "2"), List.of(fds.strip().split("\\s+")));
    }

    @Test
    void newSessionChildLeadsItsGroupAndSession() throws Exception {
        int pid = posix.spawn(spec(List.of("sleep", "100"), -1, SpawnSpec.Grouping.NEW_SESSION));
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertEquals(String.valueOf(pid), fields[2], "pgrp");
            assertEquals(String.valueOf(pid), fields[3], "session");
        } finally {
            assertEquals(0, posix.kill(pid, 9));
            assertEquals(-9, posix.waitChild(pid).orElseThrow().exitCode());
        }
    }

    @Test
    void newProcessGroupChildLeadsItsGroup() throws Exception {
        int pid = posix.spawn(spec(List.of("sleep", "100"), -1, SpawnSpec.Grouping.NEW_PROCESS_GROUP));
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertEquals(String.valueOf(pid), fields[2], "pgrp");
        } finally {
            posix.kill(pid, 9);
            posix.waitChild(pid);
        }
    }

    @Test
    void killingTheGroupReachesAGrandchild() throws Exception {
        int[] pipe = posix.pipe();
        int pid = posix.spawn(spec(List.of("sh", "-c", "sleep 1000 & echo $!; wait"), pipe[1],
                SpawnSpec.Grouping.NEW_SESSION));
        posix.close(pipe[1]);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(64);
            int n = posix.read(pipe[0], buf, 64);
            int grandchild = Integer.parseInt(new String(buf.asSlice(0, n).toArray(
                    java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).strip());
            assertTrue(Files.exists(Path.of("/proc/" + grandchild)));
        }
        assertEquals(0, posix.kill(-pid, 9));
        assertEquals(-9, posix.waitChild(pid).orElseThrow().exitCode());
        // The grandchild holds the pipe's write end: EOF means it is dead too.
        assertEquals("", readToEof(pipe[0]));
        posix.close(pipe[0]);
    }

    @Test
    void waitingWithoutReapingKeepsTheZombieUntilWaitChild() throws Exception {
        int pid = posix.spawn(spec(List.of("sh", "-c", "exit 7"), -1, SpawnSpec.Grouping.NEW_SESSION));
        assertEquals(pid, posix.waitAnyChildNoReap().orElseThrow());
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        assertEquals("Z", stat.substring(stat.lastIndexOf(')') + 2).split(" ")[0]);
        assertEquals(new WaitResult(pid, 7), posix.waitChild(pid).orElseThrow());
        assertTrue(posix.waitAnyChildNoReap().isEmpty());
    }

    @Test
    void killOfAGoneProcessIsEsrch() throws Exception {
        int pid = posix.spawn(spec(List.of("true"), -1, SpawnSpec.Grouping.NEW_SESSION));
        posix.waitChild(pid);
        assertEquals(3, posix.kill(pid, 15));
    }

    @Test
    void waitAnyChildIsEmptyWithoutChildrenOfOurs() {
        // The test JVM has no other children (surefire forks this JVM, not the other way round).
        assertEquals(Optional.empty(), posix.waitChild(posix.getpid()));
    }

    @Test
    void nonBlockingReadOfAnEmptyPipeIsMinusTwoAndWriteToAClosedPipeFails() throws Exception {
        int[] pipe = posix.pipe();
        posix.setNonBlocking(pipe[0]);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocateFrom("abc");
            assertEquals(-2, posix.read(pipe[0], buf, 3));
            assertEquals(3, posix.write(pipe[1], buf, 3));
            MemorySegment in = arena.allocate(16);
            assertEquals(3, posix.read(pipe[0], in, 16));
            posix.close(pipe[0]);
            assertThrows(IOException.class, () -> posix.write(pipe[1], buf, 3));
        }
        posix.close(pipe[1]);
    }

    @Test
    void spawnAndWaitOfTrueIsCheap() throws Exception {
        for (int i = 0; i < 200; i++) {
            run("/bin/true");
        }
        int rounds = 1000;
        List<Long> nanos = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < rounds; i++) {
            long t = System.nanoTime();
            run("/bin/true");
            nanos.add(System.nanoTime() - t);
        }
        double avgMs = (System.nanoTime() - start) / 1e6 / rounds;
        nanos.sort(null);
        System.out.printf("spawn+wait /bin/true: avg %.3f ms, median %.3f ms%n", avgMs,
                nanos.get(rounds / 2) / 1e6);
        // A sanity bound only: the machine may be shared; the figure printed above is the measurement.
        assertTrue(avgMs < 25, "spawn+wait took " + avgMs + " ms on average");
    }

    @Test
    void aPidfdOfAProcessThatIsNotOurChildBecomesReadableWhenItEnds() throws Exception {
        // Started by the JDK, not by posix: waitpid in this class cannot see it, a pidfd can.
        Process sleeper = new ProcessBuilder("sleep", "1000").start();
        int pid = (int) sleeper.pid();
        int fd = posix.pidfdOpen(pid);
        assertTrue(fd >= 0, "pidfd_open failed: " + fd);
        try (Epoll epoll = new Epoll(posix)) {
            epoll.add(fd, Epoll.IN, 42);
            assertEquals(0, epoll.await(0), "readable while the process runs");
            sleeper.destroyForcibly();
            assertEquals(1, epoll.await(30_000), "not readable after the process ended");
            assertEquals(42, epoll.token(0));
        } finally {
            posix.close(fd);
            sleeper.waitFor();
        }
        assertEquals(-3, posix.pidfdOpen(Integer.MAX_VALUE - 1), "ESRCH for no such process");
        assertEquals(ProcChildren.startTicksOf((int) ProcessHandle.current().pid()),
                ProcChildren.startTicksOf((int) ProcessHandle.current().pid()));
        assertTrue(ProcChildren.startTicksOf((int) ProcessHandle.current().pid()) > 0);
        assertEquals(-1, ProcChildren.startTicksOf(Integer.MAX_VALUE - 1));
    }
}
