package dev.forkd.server.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * The {@link StateStore} in one SQLite file, in WAL mode. What has queued up since the last commit is
 * committed in one transaction (group commit), so a burst of writes from many calls costs one commit.
 * A writer thread commits {@link #write}s; a caller that {@link #stage}s its writes commits them itself
 * with {@link #commitStaged} when no other thread is committing (no hand-off to the writer and back:
 * a durable queue's producer is answered from its own thread), and what nobody commits the writer
 * does after {@link PendingWrites#STAGED_WAIT_NANOS}. Either way one lock orders the commits as the
 * writes were made. The writes not yet committed are bounded ({@link PendingWrites}). Checkpoints
 * are the writer thread's, on a connection of its own, so no commit waits for one.
 */
public final class SqliteStateStore implements StateStore {

    private static final Logger LOG = Logger.getLogger(SqliteStateStore.class.getName());
    private static final int SCHEMA_VERSION = 1;

    private final Connection db;
    /** The writer thread's own connection, for checkpoints: commits go on meanwhile. */
    private final Connection checkpointer;
    /** Prepared once, reused for every group (used under {@link #dbLock}). */
    private final PreparedStatement put;
    private final PreparedStatement delete;
    private final PreparedStatement deleteKind;
    /** Held to use {@link #db}: whoever holds it commits, so commits are in the order groups are taken. */
    private final ReentrantLock dbLock = new ReentrantLock();
    private final PendingWrites pending = new PendingWrites();
    private final Thread writer;

    private SqliteStateStore(Connection db, Connection checkpointer) throws SQLException {
        this.db = db;
        this.checkpointer = checkpointer;
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
                // No checkpoint in a commit, which may run on a caller's thread: the writer thread
                // checkpoints, on a connection of its own (see #checkpoint).
                s.execute("PRAGMA wal_autocheckpoint=0");
                s.execute("CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)");
                s.execute("CREATE TABLE IF NOT EXISTS rows(kind TEXT NOT NULL, key TEXT NOT NULL,"
                        + " value BLOB NOT NULL, PRIMARY KEY(kind, key)) WITHOUT ROWID");
            }
            checkSchema(db, file);
            db.setAutoCommit(false);
            Connection checkpointer = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement s = checkpointer.createStatement()) {
                s.execute("PRAGMA busy_timeout=5000");
            }
            SqliteStateStore store = new SqliteStateStore(db, checkpointer);
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
        return pending.add(writes, true);
    }

    @Override
    public CompletableFuture<Void> stage(List<StoreWrite> writes) {
        return pending.add(writes, false);
    }

    @Override
    public void commitStaged() {
        if (dbLock.tryLock()) {
            commitHeld();
        } else {
            pending.hurry(); // another thread is committing: the writer commits what waits next
        }
    }

    /** The writer thread: commits and checkpoints as {@link PendingWrites} says, until closed. */
    private void writeLoop() {
        while (true) {
            PendingWrites.Next next = pending.awaitNext();
            if (next == PendingWrites.Next.STOP) {
                return;
            }
            if (next != PendingWrites.Next.COMMIT) {
                checkpoint();
            }
            if (next != PendingWrites.Next.CHECKPOINT) {
                dbLock.lock();
                commitHeld();
            }
        }
    }

    /**
     * Copies the WAL's committed pages into the database file, on the writer's own connection, so
     * that no commit (which may run on a caller's thread) waits for it, and lets the WAL start over.
     * PASSIVE: it waits for nobody; what it cannot copy now, the next one does.
     */
    private void checkpoint() {
        try (Statement s = checkpointer.createStatement()) {
            s.execute("PRAGMA wal_checkpoint(PASSIVE)");
        } catch (SQLException e) {
            LOG.warning("the state store's checkpoint failed (the next one tries again): " + e.getMessage());
        }
    }

    /**
     * Commits the next group of writes that wait, in one transaction; called holding {@link #dbLock},
     * which it releases before completing their futures (on this thread).
     */
    private void commitHeld() {
        List<PendingWrites.Pending> group;
        StoreException failure;
        try {
            group = pending.takeGroup();
            if (group.isEmpty()) {
                return;
            }
            failure = commit(group);
        } finally {
            dbLock.unlock();
        }
        if (failure == null) {
            pending.committed(group);
        }
        for (PendingWrites.Pending p : group) {
            if (failure == null) {
                p.done().complete(null);
            } else {
                p.done().completeExceptionally(failure);
            }
        }
    }

    /** Applies {@code group} in one transaction; returns why it failed (rolled back), or null. */
    private StoreException commit(List<PendingWrites.Pending> group) {
        try {
            for (PendingWrites.Pending p : group) {
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
        if (!pending.close()) {
            return;
        }
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            checkpointer.close();
        } catch (SQLException e) {
            LOG.warning("closing the state store's checkpoint connection: " + e.getMessage());
        }
        dbLock.lock();
        try {
            db.close(); // the last connection: SQLite checkpoints the WAL into the file
        } catch (SQLException e) {
            LOG.warning("closing the state store: " + e.getMessage());
        } finally {
            dbLock.unlock();
        }
    }
}
