package dev.forkd.agent.grpc;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Optional;

/**
 * Tells when the supervisor's Unix socket is created: a new supervisor binding it. An event from the
 * kernel (inotify, through the JDK's watch service), so an orphaned agent dials the moment its next
 * supervisor is there instead of at its next back-off step, and looks at nothing in between.
 * One daemon thread, blocked until the socket's directory changes; {@link #close} ends it.
 */
public final class SocketWatch implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("forkd.agent");

    private final WatchService service;

    private SocketWatch(WatchService service) {
        this.service = service;
    }

    /**
     * Watches {@code address} when it is {@code unix:/path}, calling {@code appeared} each time the
     * socket file is created; empty for a TCP address, or when the directory cannot be watched (the
     * agent then dials on its back-off alone, as it would without this).
     */
    public static Optional<SocketWatch> of(String address, Runnable appeared) {
        if (!address.startsWith("unix:")) {
            return Optional.empty();
        }
        Path socket = Path.of(address.substring("unix:".length()).replaceFirst("^//", ""));
        Path dir = socket.getParent();
        if (dir == null) {
            return Optional.empty();
        }
        Path name = socket.getFileName();
        try {
            WatchService service = FileSystems.getDefault().newWatchService();
            dir.register(service, StandardWatchEventKinds.ENTRY_CREATE);
            SocketWatch watch = new SocketWatch(service);
            Thread.ofPlatform().name("forkd-agent-socket-watch").daemon()
                    .start(() -> watch.run(name, appeared));
            return Optional.of(watch);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.log(Level.WARNING, "cannot watch " + dir + " for the supervisor's socket (" + e.getMessage()
                    + "): an orphaned agent dials on its back-off alone");
            return Optional.empty();
        }
    }

    private void run(Path name, Runnable appeared) {
        try {
            while (true) {
                WatchKey key = service.take();
                boolean created = false;
                for (WatchEvent<?> event : key.pollEvents()) {
                    // An overflow may hide the creation: treat it as one.
                    created |= event.kind() == StandardWatchEventKinds.OVERFLOW || name.equals(event.context());
                }
                if (created) {
                    appeared.run();
                }
                if (!key.reset()) {
                    return; // the directory is gone
                }
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed: the agent is ending
        }
    }

    @Override
    public void close() {
        try {
            service.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing the socket watch: " + e.getMessage());
        }
    }
}
