package dev.forkd.server.testing;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Waits for a directory entry to be removed, on the file system's own delete events (inotify on
 * Linux, which cgroupfs sends for an {@code rmdir} like any directory), with a deadline: no polling.
 */
public final class PathGone {

    private PathGone() {
    }

    /** True once {@code path} no longer exists; false if it still does after {@code within}. */
    public static boolean await(Path path, Duration within) throws IOException, InterruptedException {
        Path parent = path.getParent();
        if (!Files.exists(parent)) {
            return true;
        }
        long deadline = System.nanoTime() + within.toNanos();
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            try {
                parent.register(watch, StandardWatchEventKinds.ENTRY_DELETE);
            } catch (java.nio.file.NoSuchFileException goneMeanwhile) {
                return true;
            }
            // Registered first, checked second: a removal between the two is still seen.
            while (Files.exists(path)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                WatchKey key = watch.poll(left, TimeUnit.NANOSECONDS);
                if (key == null) {
                    return !Files.exists(path);
                }
                key.pollEvents();
                if (!key.reset()) {
                    return !Files.exists(path);
                }
            }
            return true;
        }
    }
}
