package dev.forkd.server.limits;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A cgroup v2's {@code cgroup.events}: {@code populated 1} while any process is in it. The kernel
 * signals each change of that file as a modification (inotify), so waiting for a cgroup to empty
 * is waiting for that event, never polling.
 */
final class CgroupEvents {

    private static final Logger LOG = Logger.getLogger(CgroupEvents.class.getName());

    private CgroupEvents() {}

    /** Whether a process is in {@code cgroup} (or a cgroup below it); false once it is gone. */
    static boolean populated(Path cgroup) {
        return CgroupFiles.counter(cgroup.resolve("cgroup.events"), "populated") != 0;
    }

    /**
     * Waits until {@code cgroup} holds no process, at most {@code limit}.
     *
     * @return whether it is empty (or gone)
     */
    static boolean awaitEmpty(Path cgroup, Duration limit) {
        if (!populated(cgroup)) {
            return true;
        }
        long deadline = System.nanoTime() + limit.toNanos();
        try (WatchService watch = cgroup.getFileSystem().newWatchService()) {
            cgroup.register(watch, StandardWatchEventKinds.ENTRY_MODIFY);
            // Registered before this look: a change after it is an event.
            while (populated(cgroup)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                WatchKey key = watch.poll(left, TimeUnit.NANOSECONDS);
                if (key != null) {
                    key.pollEvents();
                    if (!key.reset()) {
                        return !populated(cgroup); // the cgroup went away
                    }
                }
            }
            return true;
        } catch (IOException e) {
            return !populated(cgroup); // removed under us: nothing left to wait for
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !populated(cgroup);
        }
    }

    /**
     * Removes the cgroup v2 {@code cgroup}: what still runs in it is killed (all at once through
     * {@code cgroup.kill} where the kernel has it, 5.14 on; else SIGKILL to each pid), then, once
     * {@code cgroup.events} says it is empty, it is removed. One that stays populated past
     * {@link CgroupFiles#REMOVE_WAIT} is logged and left for the next removal.
     */
    static void remove(Path cgroup) {
        if (!Files.isDirectory(cgroup)) {
            return;
        }
        if (populated(cgroup)) {
            if (Files.exists(cgroup.resolve("cgroup.kill"))) {
                try {
                    CgroupFiles.write(cgroup.resolve("cgroup.kill"), "1");
                } catch (IOException e) {
                    LOG.warning(e.getMessage());
                }
            } else {
                CgroupFiles.killMembers(cgroup);
            }
            if (!awaitEmpty(cgroup, CgroupFiles.REMOVE_WAIT)) {
                LOG.warning("cannot remove cgroup " + cgroup + ": processes outlived SIGKILL in it");
                return;
            }
        }
        try {
            Files.deleteIfExists(cgroup);
        } catch (IOException e) {
            LOG.warning("cannot remove cgroup " + cgroup + ": " + e.getMessage());
        }
    }
}
