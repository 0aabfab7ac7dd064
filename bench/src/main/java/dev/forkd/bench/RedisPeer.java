package dev.forkd.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@code redis-server} of the bench's own (Debian's package), on a Unix socket in a private
 * directory (as forkd's server is; TCP off), with the append-only file on and fsynced every second:
 * the durability a Redis list gives that is closest to forkd's store (committed to the WAL, synced
 * by the OS). Stopped with SHUTDOWN NOSAVE, else killed.
 */
final class RedisPeer implements AutoCloseable {

    static final String BINARY = "redis-server";

    private final Process process;
    private final Path socket;

    private RedisPeer(Process process, Path socket) {
        this.process = process;
        this.socket = socket;
    }

    /** Why redis-server cannot run here, or empty. */
    static Optional<String> missing() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, BINARY))) {
                return Optional.empty();
            }
        }
        return Optional.of(BINARY + " not found (Debian: apt-get install redis-server)");
    }

    static RedisPeer start(Path parent) throws Exception {
        Path dir = Files.createTempDirectory(parent, "redis");
        Path socket = dir.resolve("r.sock");
        Process p = new ProcessBuilder(BINARY, "--port", "0", "--unixsocket", socket.toString(),
                "--unixsocketperm", "700", "--dir", dir.toString(), "--appendonly", "yes",
                "--appendfsync", "everysec", "--save", "", "--daemonize", "no", "--loglevel", "notice")
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        StringBuilder said = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (said.length() < 4000) {
                        said.append(line).append('\n');
                    }
                    if (line.toLowerCase(java.util.Locale.ROOT).contains("ready to accept connections")) {
                        ready.complete(null);
                    }
                }
                ready.completeExceptionally(new IOException("redis-server exited: " + said));
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
        }, "bench-redis-stdout");
        reader.setDaemon(true);
        reader.start();
        RedisPeer peer = new RedisPeer(p, socket);
        try {
            ready.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            peer.close();
            throw e;
        }
        return peer;
    }

    Resp connect() throws IOException {
        SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        return new Resp(Channels.newInputStream(ch), Channels.newOutputStream(ch));
    }

    /**
     * {@code n} items through one list: a producer connection pushes batches of {@code batch} items
     * with variadic LPUSH, up to {@code window} batches unanswered (pipelined); a consumer connection
     * pops them with BRPOP, pipelined up to {@code window * batch} pops unanswered, and never more pops
     * than items. Items/s from the first push to the last pop.
     */
    double list(int n, int batch, int window) throws Exception {
        String key = "bench-list-" + System.nanoTime();
        try (Resp producer = connect(); Resp consumer = connect()) {
            long t0 = System.nanoTime();
            CompletableFuture<Long> popped = new CompletableFuture<>();
            Thread pop = Thread.ofPlatform().name("bench-redis-brpop").start(() -> {
                try {
                    int depth = window * batch;
                    long sent = 0;
                    long got = 0;
                    while (got < n) {
                        while (sent < n && sent - got < depth) {
                            consumer.send("BRPOP", key, "30");
                            sent++;
                        }
                        consumer.flush();
                        if (consumer.read() == null) {
                            throw new IOException("BRPOP timed out after " + got + " of " + n + " items");
                        }
                        got++;
                    }
                    popped.complete(got);
                } catch (Exception e) {
                    popped.completeExceptionally(e);
                }
            });
            int unanswered = 0;
            for (int i = 0; i < n; i += batch) {
                List<byte[]> cmd = new ArrayList<>(batch + 2);
                cmd.add("LPUSH".getBytes(StandardCharsets.US_ASCII));
                cmd.add(key.getBytes(StandardCharsets.US_ASCII));
                for (int j = i; j < Math.min(n, i + batch); j++) {
                    cmd.add(("item-" + j).getBytes(StandardCharsets.US_ASCII));
                }
                producer.send(cmd);
                if (++unanswered == window) {
                    producer.flush();
                    producer.read();
                    unanswered--;
                }
            }
            producer.flush();
            while (unanswered-- > 0) {
                producer.read();
            }
            long got = popped.get(5, TimeUnit.MINUTES);
            double s = (System.nanoTime() - t0) / 1e9;
            pop.join();
            producer.call("DEL", key);
            return got / s;
        }
    }

    @Override
    public void close() {
        try (Resp r = connect()) {
            r.send("SHUTDOWN", "NOSAVE");
            r.flush();
        } catch (IOException e) {
            // not answering: killed below
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
