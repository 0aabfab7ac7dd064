package dev.forkd.server.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * The {@link StateStore} in one SQLite file, in WAL mode. What has queued up since the last commit is
 * committed in one transaction (group commit), so a burst of writes from many calls costs one commit.
 * A writer thread commits {@link #write}s; a caller that {@link #stage}s its writes commits them itself
 * with {@link #commitStaged} when no other thread is committing (no hand-off to the writer and back:
 * a durable queue's producer is answered from its own thread), and what nobody commits the writer
 * does after {@link #STAGED_WAIT_NANOS}. Either way one lock orders the commits as the writes were
 * made. The queue of writes not yet committed is bounded: past {@link #MAX_BACKLOG}, a write fails at
 * once instead of growing the heap.
 */
public final class SqliteStateStore implements StateStore {

    private static final Logger LOG = Logger.getLogger(SqliteStateStore.class.getName());
    /** Writes waiting for their commit; past this the disk is far behind, and a write fails. */
    static final int MAX_BACKLOG = 200_000;
    /** Writes per transaction at most, so one commit's work (and latency) stays bounded. */
    private static final int MAX_GROUP = 20_000;
    private static final int SCHEMA_VERSION = 1;

    /** A staged write waits at most this long for a commit that nobody started. */
    static final long STAGED_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    /** Writes made together, with when they were made. */
    private record Pending(List<StoreWrite> writes, CompletableFuture<Void> done, long at) {
    }

    private final Connection db;
    /** Prepared once: the writer thread reuses them for every group (used under {@link #dbLock}). */
    private final PreparedStatement put;
    private final PreparedStatement delete;
    private final PreparedStatement deleteKind;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ReentrantLock dbLock = new ReentrantLock();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final Thread writer;
    private int backlog;
    /** A write asked for its commit now (else only staged writes wait). */
    private boolean urgent;
    private boolean closing;

    private SqliteStateStore(Connection db) throws SQLException {
        this.db = db;
        this.put = db.prepareStatement("INSERT OR REPLACE INTO rows(kind, key, value) VALUES (?, ?, ?)");
        this.delete = db.prepareStatement("DELETE FROM rows WHERE kind = ? AND key = ?");
        this.deleteKind = db.prepareStatement("DELETE FROM rows WHERE kind = ?");
        this.writer = Thread.ofPlatform().name("forkd-store").daemon().unstarted(this::writeLoop);
    }

    /** Opens (or creates) the store file {@code file}. The caller holds the directory's lock. */
    public static SqliteStateStore open(Path file) {
        try {
            Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                // Committed means in the WAL file: survives the server's crash; a power cut may lose
                // the last commits (the trade Redis' appendfsync everysec makes).
                s.execute("PRAGMA synchronous=NORMAL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)");
                s.execute("CREATE TABLE IF NOT EXISTS rows(kind TEXT NOT NULL, key TEXT NOT NULL,"
                        + " value BLOB NOT NULL, PRIMARY KEY(kind, key)) WITHOUT ROWID");
            }
            checkSchema(db, file);
            db.setAutoCommit(false);
            SqliteStateStore store = new SqliteStateStore(db);
            store.writer.start();
            return store;
        } catch (SQLException e) {
            throw new StoreException("cannot open the state store " + file + ": " + e.getMessage(), e);
        }
    }

    private static void checkSchema(Connection db, Path file) throws SQLException {
        try (Statement s = db.createStatement();
                ResultSet r = s.executeQuery("SELECT value FROM meta WHERE name = 'schema'")) {
            if (r.next()) {
                int found = Integer.parseInt(r.getString(1));
                if (found != SCHEMA_VERSION) {
                    throw new StoreException("the state store " + file + " has schema " + found + "; this forkd"
                            + " reads schema " + SCHEMA_VERSION + " (start with --fresh to discard it)");
                }
                return;
            }
        }
        try (Statement s = db.createStatement()) {
            s.execute("INSERT INTO meta(name, value) VALUES ('schema', '" + SCHEMA_VERSION + "')");
        }
    }

    @Override
    public boolean keeps() {
        return true;
    }

    @Override
    public CompletableFuture<Void> write(List<StoreWrite> writes) {
        return enqueue(writes, true);
    }

    @Override
    public CompletableFuture<Void> stage(List<StoreWrite> writes) {
        return enqueue(writes, false);
    }

    private CompletableFuture<Void> enqueue(List<StoreWrite> writes, boolean now) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        lock.lock();
        try {
            if (closing) {
                done.completeExceptionally(new StoreException("the state store is closed"));
            } else if (backlog + writes.size() > MAX_BACKLOG) {
                done.completeExceptionally(new StoreException("the state store is " + backlog
                        + " writes behind the server; try again"));
            } else {
                boolean first = queue.isEmpty();
                queue.add(new Pending(List.copyOf(writes), done, System.nanoTime()));
                backlog += writes.size();
                if (now) {
                    urgent = true;
                    work.signal();
                } else if (first) {
                    work.signal(); // the writer starts the staged write's clock
                }
            }
        } finally {
            lock.unlock();
        }
        return done;
    }

    @Override
    public void commitStaged() {
        if (!dbLock.tryLock()) {
            // Another thread is committing; the writer commits what waits right after it.
            lock.lock();
            try {
                if (!queue.isEmpty()) {
                    urgent = true;
                    work.signal();
                }
            } finally {
                lock.unlock();
            }
            return;
        }
        commitHeld();
    }

    /**
     * The writer thread: commits as soon as a write asks for it, and a staged write once it has
     * waited {@link #STAGED_WAIT_NANOS} for a commit nobody started.
     */
    private void writeLoop() {
        while (true) {
            lock.lock();
            try {
                while (!closing && !urgent) {
                    if (queue.isEmpty()) {
                        work.awaitUninterruptibly();
                        continue;
                    }
                    long wait = queue.peek().at() + STAGED_WAIT_NANOS - System.nanoTime();
                    if (wait <= 0) {
                        break;
                    }
                    try {
                        work.awaitNanos(wait);
                    } catch (InterruptedException e) {
                        // nobody interrupts the writer; it waits on
                    }
                }
                if (closing && queue.isEmpty()) {
                    return;
                }
                urgent = false;
            } finally {
                lock.unlock();
            }
            dbLock.lock();
            commitHeld();
        }
    }

    /**
     * Commits the writes that wait, at most {@link #MAX_GROUP} of them, in one transaction; called
     * holding {@link #dbLock}, which it releases before completing their futures. Taking the group
     * under that lock keeps the commits in the order of the writes, whichever thread commits.
     */
    private void commitHeld() {
        List<Pending> group = new ArrayList<>();
        StoreException failure;
        try {
            lock.lock();
            try {
                int size = 0;
                while (!queue.isEmpty() && (group.isEmpty() || size + queue.peek().writes().size() <= MAX_GROUP)) {
                    Pending p = queue.poll();
                    group.add(p);
                    size += p.writes().size();
                }
                backlog -= size;
                if (!queue.isEmpty() && !group.isEmpty() && size + queue.peek().writes().size() > MAX_GROUP) {
                    urgent = true; // more than one transaction's worth waits: the writer goes on
                    work.signal();
                }
            } finally {
                lock.unlock();
            }
            if (group.isEmpty()) {
                return;
            }
            failure = commit(group);
        } finally {
            dbLock.unlock();
        }
        for (Pending p : group) {
            if (failure == null) {
                p.done().complete(null);
            } else {
                p.done().completeExceptionally(failure);
            }
        }
    }

    /** Applies {@code group} in one transaction; returns why it failed (rolled back), or null. */
    private StoreException commit(List<Pending> group) {
        try {
            for (Pending p : group) {
                for (StoreWrite w : p.writes()) {
                    switch (w) {
                        case StoreWrite.Put(String kind, String key, byte[] value) -> {
                            put.setString(1, kind);
                            put.setString(2, key);
                            put.setBytes(3, value);
                            put.executeUpdate();
                        }
                        case StoreWrite.Delete(String kind, String key) -> {
                            delete.setString(1, kind);
                            delete.setString(2, key);
                            delete.executeUpdate();
                        }
                        case StoreWrite.DeleteKind(String kind) -> {
                            deleteKind.setString(1, kind);
                            deleteKind.executeUpdate();
                        }
                    }
                }
            }
            db.commit();
            return null;
        } catch (SQLException | RuntimeException e) {
            rollback();
            LOG.severe("the state store could not commit " + group.size() + " writes: " + e.getMessage());
            return new StoreException("the state store could not keep the change: " + e.getMessage(), e);
        }
    }

    private void rollback() {
        try {
            db.rollback();
        } catch (SQLException e) {
            LOG.warning("the state store's rollback failed: " + e.getMessage());
        }
    }

    @Override
    public List<StoreRow> load(String kind) {
        dbLock.lock();
        try (PreparedStatement q = db.prepareStatement("SELECT key, value FROM rows WHERE kind = ? ORDER BY key")) {
            q.setString(1, kind);
            List<StoreRow> rows = new ArrayList<>();
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    rows.add(new StoreRow(r.getString(1), r.getBytes(2)));
                }
            }
            db.commit();
            return rows;
        } catch (SQLException e) {
            throw new StoreException("cannot read " + kind + " from the state store: " + e.getMessage(), e);
        } finally {
            dbLock.unlock();
        }
    }

    @Override
    public List<String> kinds(String prefix) {
        dbLock.lock();
        try (PreparedStatement q = db.prepareStatement(
                "SELECT DISTINCT kind FROM rows WHERE kind >= ? AND kind < ? ORDER BY kind")) {
            q.setString(1, prefix);
            q.setString(2, prefix + Character.MAX_VALUE);
            List<String> kinds = new ArrayList<>();
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    kinds.add(r.getString(1));
                }
            }
            db.commit();
            return kinds;
        } catch (SQLException e) {
            throw new StoreException("cannot list " + prefix + "* in the state store: " + e.getMessage(), e);
        } finally {
            dbLock.unlock();
        }
    }

    /** How many rows each kind has: what {@code --fresh} reports it discards. */
    public java.util.SortedMap<String, Long> counts() {
        dbLock.lock();
        try (Statement s = db.createStatement();
                ResultSet r = s.executeQuery("SELECT kind, COUNT(*) FROM rows GROUP BY kind ORDER BY kind")) {
            var counts = new java.util.TreeMap<String, Long>();
            while (r.next()) {
                counts.put(r.getString(1), r.getLong(2));
            }
            db.commit();
            return counts;
        } catch (SQLException e) {
            throw new StoreException("cannot count the state store's rows: " + e.getMessage(), e);
        } finally {
            dbLock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closing) {
                return;
            }
            closing = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dbLock.lock();
        try {
            db.close();
        } catch (SQLException e) {
            LOG.warning("closing the state store: " + e.getMessage());
        } finally {
            dbLock.unlock();
        }
    }
}
