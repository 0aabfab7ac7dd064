package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.util.JsonFormat;
import dev.forkd.v1.ProcessInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Real {@code forkd serve} processes started one after another on one directory (socket, state and
 * logs), for the tests of what survives a server's end: each test gets a fresh directory under /tmp,
 * and afterwards every server, and every process that was below any of them, is ended and the
 * directory removed, even when the test failed half-way.
 */
final class ServerIncarnations implements BeforeEachCallback, AfterEachCallback {

    /** A server on the directory's socket that waits up to 30 s for agents to come back. */
    static final Function<Path, List<String>> ARGS = dir -> List.of("--listen",
            "unix:" + dir.resolve("s.sock"), "--agent-return-wait", "30s");

    private Path dir;
    /** Every process that was below any server: all must be gone at the end. */
    private final List<ProcessHandle> everything = new ArrayList<>();
    private final List<RunningServer> servers = new ArrayList<>();

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "fkd");
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (RunningServer server : servers) {
            everything.addAll(server.descendants());
            server.process.destroyForcibly();
        }
        for (ProcessHandle p : everything) {
            p.destroyForcibly();
        }
        servers.clear();
        everything.clear();
        RunningServer.deleteTree(dir);
    }

    Path dir() {
        return dir;
    }

    /** The processes to end after the test (add what was below a server before it goes). */
    List<ProcessHandle> everything() {
        return everything;
    }

    /** Starts a server on the directory with {@code args} (given the directory); returns once it listens. */
    RunningServer start(Function<Path, List<String>> args) throws Exception {
        RunningServer server = RunningServer.startIn(dir, args, Map.of(), c -> c);
        servers.add(server);
        return server;
    }

    /** A named pipe in the directory: a child that reads it waits until the test writes a line. */
    Path fifo(String name) throws Exception {
        Path fifo = dir.resolve(name);
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        return fifo;
    }

    /**
     * {@code forkd spawn -- COMMAND}, or {@code forkd spawn OPTIONS -- COMMAND} when the arguments hold
     * their own {@code --}: the new process's id.
     */
    static String spawn(Cli cli, String... command) {
        List<String> args = new ArrayList<>(List.of("spawn"));
        if (!List.of(command).contains("--")) {
            args.add("--");
        }
        args.addAll(List.of(command));
        Cli.Result r = cli.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r::toString);
        return r.out().strip();
    }

    /** {@code forkd get --json ID}, parsed. */
    static ProcessInfo get(Cli cli, String id) throws Exception {
        Cli.Result r = cli.run("get", "--json", id);
        assertEquals(0, r.code(), r::toString);
        ProcessInfo.Builder p = ProcessInfo.newBuilder();
        JsonFormat.parser().ignoringUnknownFields().merge(r.out(), p);
        return p.build();
    }
}
