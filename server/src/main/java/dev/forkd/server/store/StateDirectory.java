package dev.forkd.server.store;

import dev.forkd.server.config.PrivateFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.SortedMap;
import java.util.function.Consumer;

/**
 * The directory the state store lives in ({@code --state-dir}; by default {@code $XDG_STATE_HOME/forkd},
 * else {@code ~/.local/state/forkd}): private to its user, and held by one server at a time through a
 * lock on {@code server.lock}, so two servers never write one store.
 */
public final class StateDirectory implements AutoCloseable {

    static final String STORE_FILE = "forkd.db";
    private static final String LOCK_FILE = "server.lock";

    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private StateDirectory(Path dir, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** The default: {@code $XDG_STATE_HOME/forkd} when set (and absolute), else {@code ~/.local/state/forkd}. */
    public static Path defaultPath(Map<String, String> env, Path home) {
        String xdg = env.get("XDG_STATE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            return Path.of(xdg, "forkd");
        }
        return home.resolve(".local/state/forkd");
    }

    /**
     * Takes {@code dir} (created 0700 if missing) for this server.
     *
     * @throws IOException if another live server holds it, or it is not private
     */
    public static StateDirectory take(Path dir) throws IOException {
        PrivateFiles.prepareDirectory(dir, "state directory");
        FileChannel channel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.READ);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            String holder = Files.readString(dir.resolve(LOCK_FILE), StandardCharsets.UTF_8).strip();
            channel.close();
            throw new IOException("the state directory " + dir + " is in use by another forkd server"
                    + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                    + "; give this one its own with --state-dir");
        }
        channel.truncate(0);
        channel.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
                .getBytes(StandardCharsets.UTF_8)), 0);
        return new StateDirectory(dir, channel, lock);
    }

    public Path path() {
        return dir;
    }

    /**
     * Opens the store. With {@code fresh}, what the last server kept is discarded first, and
     * {@code report} is told how many records of each kind went (nothing is said when there were none).
     */
    public SqliteStateStore openStore(boolean fresh, Consumer<String> report) throws IOException {
        Path file = dir.resolve(STORE_FILE);
        if (fresh && Files.exists(file)) {
            SortedMap<String, Long> counts;
            try (SqliteStateStore old = SqliteStateStore.open(file)) {
                counts = old.counts();
            } catch (StoreException e) {
                counts = new java.util.TreeMap<>(); // unreadable (another schema): discarded all the same
            }
            for (String suffix : new String[] {"", "-wal", "-shm"}) {
                Files.deleteIfExists(dir.resolve(STORE_FILE + suffix));
            }
            report.accept(counts.isEmpty() ? "--fresh: the state store " + file + " was empty"
                    : "--fresh: discarded the state in " + file + ": " + summary(counts));
        }
        return SqliteStateStore.open(file);
    }

    /** "3 process, 100000 queue-item/q-1, ..." with the kinds grouped by what precedes a '/'. */
    static String summary(SortedMap<String, Long> counts) {
        var grouped = new java.util.TreeMap<String, Long>();
        counts.forEach((kind, n) -> grouped.merge(kind.contains("/") ? kind.substring(0, kind.indexOf('/')) : kind,
                n, Long::sum));
        StringBuilder s = new StringBuilder();
        grouped.forEach((kind, n) -> s.append(s.isEmpty() ? "" : ", ").append(n).append(' ').append(kind));
        return s.toString();
    }

    @Override
    public void close() throws IOException {
        if (lock.isValid()) {
            lock.release();
        }
        lockChannel.close();
    }
}
