package dev.forkd.server.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Waits for something on disk to become true, looking again at each change the file system reports
 * in a directory (inotify on Linux; cgroupfs reports its {@code rmdir}s and {@code cgroup.events}
 * changes too), with a deadline: no polling.
 */
public final class FileEvents {

    private FileEvents() {
    }

    /** A condition read from files, which may fail to read. */
    @FunctionalInterface
    public interface Check {
        boolean holds() throws IOException;
    }

    /**
     * Waits until {@code check} holds, looking again at each {@code kind} event in {@code dir}.
     * The watch is registered before the first look, so a change between the two is still seen.
     *
     * @return true once it holds; false if it still does not after {@code within}
     */
    public static boolean await(Path dir, WatchEvent.Kind<Path> kind, Duration within, Check check)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        try (WatchService watch = dir.getFileSystem().newWatchService()) {
            dir.register(watch, kind);
            while (!check.holds()) {
                long left = deadline - System.nanoTime();
                WatchKey key = left > 0 ? watch.poll(left, TimeUnit.NANOSECONDS) : null;
                if (key == null) {
                    return check.holds();
                }
                key.pollEvents();
                if (!key.reset()) {
                    return check.holds(); // the directory itself is gone: no more events
                }
            }
            return true;
        }
    }

    /** True once {@code path} no longer exists; false if it still does after {@code within}. */
    public static boolean awaitGone(Path path, Duration within) throws IOException, InterruptedException {
        try {
            return await(path.getParent(), StandardWatchEventKinds.ENTRY_DELETE, within, () -> !Files.exists(path));
        } catch (NoSuchFileException parentGone) {
            return true;
        }
    }
}
